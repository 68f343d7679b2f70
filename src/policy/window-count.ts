/**
 * A count of events within a sliding window, kept in a ring of ten buckets
 * so that a flood costs a few array operations per event and constant
 * memory. The window is accurate to one bucket (a tenth of it).
 */
export interface WindowCount {
  readonly width: number;
  /** Per slot: which bucket it holds, and its count. */
  readonly bucket: number[];
  readonly count: number[];
}

/** Buckets of a ring (here and in the storm breaker's): the window is accurate to a tenth of it. */
export const BUCKETS = 10;

export function windowCount(window: number): WindowCount {
  return {
    width: Math.max(1, Math.ceil(window / BUCKETS)),
    bucket: new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY),
    count: new Array<number>(BUCKETS).fill(0),
  };
}

/** The ring slot of bucket `idx` (which may be negative). Floor arithmetic, not %: a floating-point remainder is a library call, and this runs per failure. */
export const slotOf = (idx: number) => idx - Math.floor(idx / BUCKETS) * BUCKETS;

/** Counts `n` events at `time`; an event older than what the ring holds is dropped. */
export function addAt(w: WindowCount, time: number, n = 1): void {
  const idx = Math.floor(time / w.width);
  const i = slotOf(idx);
  if (w.bucket[i] === idx) w.count[i]! += n;
  else if (w.bucket[i]! < idx) {
    w.bucket[i] = idx;
    w.count[i] = n;
  }
}

/** Events in the window ending at `now`. */
export function countAt(w: WindowCount, now: number): number {
  const newest = Math.floor(now / w.width);
  const oldest = newest - BUCKETS + 1;
  let n = 0;
  for (let i = 0; i < BUCKETS; i++) if (w.bucket[i]! >= oldest && w.bucket[i]! <= newest) n += w.count[i]!;
  return n;
}
