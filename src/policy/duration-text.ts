import { formatDuration } from '../config/duration.js';

const memo = new Map<number, string>();

/** formatDuration for the few fixed durations of the rules, which reasons and evidence repeat endlessly. */
export function durationText(ms: number): string {
  let t = memo.get(ms);
  if (t === undefined) {
    if (memo.size > 64) memo.clear();
    memo.set(ms, (t = formatDuration(ms)));
  }
  return t;
}
