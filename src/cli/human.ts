import Table from 'cli-table3';
import { formatDuration } from '../config/duration.js';
import { processIo, type Io } from './io.js';

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
  const cells = rows.map((r) => r.map(String));
  // cli-table3 took a third of a millisecond a row, cold (check's report is its only table in a
  // run, at the very end). Full rows of plain ASCII, where a character is a column, are laid out
  // here, exactly as cli-table3 lays them out (a test compares the two); anything else is left to it.
  if (head.every(isPlainAscii) && cells.every((r) => r.length === head.length && r.every(isPlainAscii))) return paddedTable(head, cells);
  return libraryTable(head, cells);
}

/** table() by cli-table3, whatever the text (wide characters, colours, several lines in a cell). */
export function libraryTable(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  t.push(...rows);
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n') + '\n';
}

const PLAIN_ASCII = /^[\x20-\x7e]*$/;

function isPlainAscii(s: string): boolean {
  return PLAIN_ASCII.test(s);
}

function paddedTable(head: string[], rows: string[][]): string {
  // cli-table3 gives a column of blanks one character.
  const widths = head.map((h) => Math.max(1, h.length));
  for (const r of rows) for (let j = 0; j < r.length; j++) widths[j] = Math.max(widths[j]!, r[j]!.length);
  const line = (r: string[]) => r.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd();
  let out = line(head) + '\n';
  for (const r of rows) out += line(r) + '\n';
  return out;
}

/** "3m ago", "just now", "-" for never. */
export function ago(at: number | null, now: number): string {
  if (at === null) return '-';
  const d = now - at;
  if (Math.abs(d) < 1000) return 'just now';
  return d >= 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}

/**
 * Colour only for a person at a terminal: never when output is piped or
 * captured, never with NO_COLOR set (https://no-color.org), never on TERM=dumb.
 */
export function colourEnabled(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (!stream.isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly green: (s: string) => string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const PLAIN: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, yellow: (s) => s, green: (s) => s };
const COLOUR: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39) };

export function style(enabled: boolean): Style {
  return enabled ? COLOUR : PLAIN;
}

/** The style for `io`: colour only when it is the process's own stdout and that is a terminal. */
export function styleFor(io: Io, stream: { isTTY?: boolean } = process.stdout, env: Readonly<Record<string, string | undefined>> = process.env): Style {
  return style(io === processIo && colourEnabled(stream, env));
}

/** "1 ban", "3 bans". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** 1234567 → "1,234,567", as toLocaleString('en-US') writes it, which costs a microsecond a call (and 15 ms the first). */
export function thousands(v: number): string {
  if (!Number.isSafeInteger(v)) return v.toLocaleString('en-US');
  const digits = String(Math.abs(v));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return v < 0 ? `-${out}` : out;
}
