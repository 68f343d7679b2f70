import Table from 'cli-table3';
import { formatDuration } from '../config/duration.js';

/** "in 43m", "5m ago", "forever". */
export function relative(at: number | null, now: number): string {
  if (at === null) return 'forever';
  const d = at - now;
  if (Math.abs(d) < 1000) return 'now';
  return d >= 0 ? `in ${formatDuration(d)}` : `${formatDuration(-d)} ago`;
}

export function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

/** Aligned columns without borders: readable in a terminal and easy to grep. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n';
}
