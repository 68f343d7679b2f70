import type { Ip } from '../net/address.js';

/** One handshake failure read from a log line. */
export interface Failure {
  /** The line's own timestamp in ms since the epoch, or null when the line carries none. */
  readonly time: number | null;
  readonly ip: Ip;
  /** Short server-written reason, e.g. "bad key share", "EOF". */
  readonly reason: string;
}

/**
 * A line that has the shape of a handshake failure but whose client field is not
 * a valid address: counted, never banned, never thrown.
 */
export const UNPARSABLE = Object.freeze({ unparsable: true as const });
export type Unparsable = typeof UNPARSABLE;

export type MatchResult = Failure | Unparsable | null;

/** Knows one server's log format. Pure and total: never throws, whatever the line. */
export interface Signature {
  readonly name: string;
  match(line: string): MatchResult;
}

export function isFailure(r: MatchResult): r is Failure {
  return r !== null && r !== UNPARSABLE;
}
