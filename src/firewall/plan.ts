import { cidrContains } from '../net/address.js';
import type { Ban } from '../store/bans.js';
import type { FirewallEntry } from './backend.js';

/**
 * The set members that enforce `bans` at `now`: each with its remaining time,
 * and none inside another (nft interval sets refuse overlapping members).
 */
export function entriesFor(bans: readonly Ban[], now: number): FirewallEntry[] {
  const live = bans.filter((b) => b.expiresAt === null || b.expiresAt > now);
  // Widest first, so a covered member is seen after the network that covers it.
  live.sort((a, b) => a.ip.prefix - b.ip.prefix);
  const kept: Ban[] = [];
  for (const b of live) {
    if (kept.some((k) => k.ip.family === b.ip.family && cidrContains(k.ip, b.ip))) continue;
    kept.push(b);
  }
  return kept.map((b) => ({ net: b.ip, ttlMs: b.expiresAt === null ? null : b.expiresAt - now }));
}
