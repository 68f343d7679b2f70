/** Sorted lists of failure times, as the windows keep them (oldest first). */

export function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  times.splice(i, 0, t);
}

/** Keeps the window and at most `cap` entries: older ones can never matter again. */
export function keepRecent(times: number[], from: number, cap: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! < from) drop++;
  if (times.length - drop > cap) drop = times.length - cap;
  if (drop) times.splice(0, drop);
}

export function countInWindow(times: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t <= to) n++;
  return n;
}
