/**
 * A count of events within a sliding window, kept in ten buckets so that a
 * flood costs a map update per event and constant memory. The window is
 * accurate to one bucket (a tenth of it).
 */
export interface WindowCount {
  readonly width: number;
  readonly buckets: Map<number, number>;
}

const BUCKETS = 10;

export function windowCount(window: number): WindowCount {
  return { width: Math.max(1, Math.ceil(window / BUCKETS)), buckets: new Map() };
}

export function addAt(w: WindowCount, time: number, n = 1): void {
  const idx = Math.floor(time / w.width);
  w.buckets.set(idx, (w.buckets.get(idx) ?? 0) + n);
}

/** Events in the window ending at `now` (buckets that fell out are dropped). */
export function countAt(w: WindowCount, now: number): number {
  const oldest = Math.floor(now / w.width) - BUCKETS + 1;
  let n = 0;
  for (const [idx, c] of w.buckets) {
    if (idx < oldest) w.buckets.delete(idx);
    else n += c;
  }
  return n;
}

/** The newest time an event may have had (end of its newest bucket), or -Infinity when empty. */
export function newest(w: WindowCount): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const idx of w.buckets.keys()) if (idx > max) max = idx;
  return max === Number.NEGATIVE_INFINITY ? max : (max + 1) * w.width;
}
