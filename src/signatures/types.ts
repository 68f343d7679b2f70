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
}

export function isFailure(r: MatchResult): r is Failure {
  return r !== null && !('unparsable' in r);
}
