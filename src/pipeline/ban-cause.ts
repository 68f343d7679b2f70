import { causeOf, type Cause } from '../signatures/causes.js';

/** What a ban is shown with: the cause of the failure that triggered it, or `manual`. */
export type BanCause = Cause | 'manual';

/**
 * Bans store the policy's sentence, which ends with the server's reason for
 * the last failure: "5 handshake failures within 10m (last: bad key share)",
 * or for a prefix "(last: 2001:db8::7, EOF)". Its cause is the ban's cause.
 */
export function banCause(ban: { origin: string; reason: string }): BanCause {
  if (ban.origin === 'manual') return 'manual';
  const m = /\(last: (.*)\)(?:;|$)/.exec(ban.reason);
  if (!m) return causeOf(ban.reason);
  const last = m[1]!;
  // A prefix ban names the address first: "2001:db8::7, EOF".
  const comma = /^[0-9a-fA-F:.]+, (.*)$/.exec(last);
  return causeOf(comma ? comma[1]! : last);
}
