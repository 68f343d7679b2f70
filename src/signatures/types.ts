import type { Ip } from '../net/address.js';
import type { Cause } from './causes.js';

export type { Cause } from './causes.js';

/** One handshake failure read from a log line. */
export interface Failure {
  /** The line's own timestamp in ms since the epoch, or null when the line carries none. */
  readonly time: number | null;
  readonly ip: Ip;
  /** Short server-written reason, e.g. "bad key share", "EOF". */
  readonly reason: string;
  /** Why the handshake failed, from the fixed set in causes.ts. */
  readonly cause: Cause;
}

/**
 * A line that has the shape of a handshake failure but whose client field is not
 * a valid address: counted, never banned, never thrown.
 */
export const UNPARSABLE = Object.freeze({ unparsable: true as const, untrusted: false as const });
/**
 * A line that has the shape of a handshake failure but cannot be trusted to be
 * the server's own record: the physical line after it continues it (a newline
 * written into the log by a request), or it names a process that is not the
 * server. Counted with the unparsable lines, never banned.
 */
export const UNTRUSTED = Object.freeze({ unparsable: true as const, untrusted: true as const });
export type Unparsable = typeof UNPARSABLE | typeof UNTRUSTED;

export type MatchResult = Failure | Unparsable | null;

/**
 * Knows one server's log format. Total: never throws, whatever the line.
 * Most are pure functions of the line; a few keep a small bounded memory of
 * earlier lines of the same stream (Apache and Postfix write the address and
 * the reason on different lines), so each stream gets its own instance.
 */
export interface Signature {
  readonly name: string;
  /** True when it remembers earlier lines (Apache, Postfix): it must see every line of its stream. */
  readonly stateful?: boolean;
  /**
   * `next` is the physical line after `line` when the caller already has it,
   * undefined when `line` is the last one read so far. A failure record
   * followed by a line that does not start like a record is not trusted: the
   * server wrote a newline inside it, which an attacker may have put there.
   */
  match(line: string, next?: string): MatchResult;
  /**
   * Optional: the same judgement on an ASCII line still in its read buffer,
   * `buf[start…end)` (without its newline), with the physical line after it at
   * `buf[nextStart…nextEnd)` (nextStart -1: none yet). Writes a failure into
   * `out` and answers one of the BYTES_* codes; BYTES_DEFER when the line is
   * not of the common shape it reads, and the caller must decode it and ask
   * match(). Whatever it answers, match() would have answered the same: a
   * big log then costs no string per line.
   */
  matchBytes?(buf: Buffer, start: number, end: number, nextStart: number, nextEnd: number, out: ByteFailure): number;
}

/** What matchBytes answers: not a failure line, a failure (in `out`), UNPARSABLE, UNTRUSTED, or ask match(). */
export const BYTES_NONE = 0;
export const BYTES_FAILURE = 1;
export const BYTES_UNPARSABLE = 2;
export const BYTES_UNTRUSTED = 3;
export const BYTES_DEFER = -1;

/** A failure as matchBytes writes it: the address as its words, with no Ip made. */
export interface ByteFailure {
  time: number | null;
  family: 4 | 6;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  reason: string;
  cause: Cause;
}

export function isFailure(r: MatchResult): r is Failure {
  return r !== null && !('unparsable' in r);
}
