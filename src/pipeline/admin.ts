import { UserError } from '../errors.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { cidrContains, type Cidr } from '../net/address.js';
import { overlapsProtected, type ProtectedRanges } from '../policy/protected.js';
import type { Ban } from '../store/bans.js';
import type { Store } from '../store/store.js';

/**
 * Manual ban: recorded, then applied, then announced to a running daemon.
 * A network that covers existing bans replaces them (nft sets cannot hold
 * overlapping members); an address already inside a banned network is refused.
 */
export async function banManually(
  store: Store,
  backend: FirewallBackend,
  net: Cidr,
  opts: { durationMs: number | null; now: number; protect: readonly ProtectedRanges[]; reason?: string },
): Promise<{ ban: Ban; replaced: Ban[] }> {
  const by = overlapsProtected(opts.protect, net);
  if (by) throw new UserError(`${net.text} is protected by ${by}: it is never banned (remove it from the config first)`, 2);
  const active = store.bans.active(opts.now);
  const covering = active.find((b) => b.ip.text !== net.text && cidrContains(b.ip, net));
  if (covering) throw new UserError(`${net.text} is already inside the banned network ${covering.ip.text}`, 2);
  const replaced = active.filter((b) => b.ip.text !== net.text && cidrContains(net, b.ip));
  const ban = store.transaction(() => {
    for (const b of replaced) store.bans.unban(b, opts.now);
    const b = store.bans.record({
      ip: net,
      reason: opts.reason ?? 'manual',
      failures: 0,
      origin: 'manual',
      bannedAt: opts.now,
      expiresAt: opts.durationMs === null ? null : opts.now + opts.durationMs,
    });
    store.adminEvents.post('ban', net, opts.now);
    return b;
  });
  for (const b of replaced) backend.remove(b.ip);
  backend.add({ net, ttlMs: opts.durationMs });
  await backend.commit();
  return { ban, replaced };
}

/**
 * Lifts the ban of `net` (or every ban inside it) and forgets the counted
 * failures there, so old lines do not ban it again at once.
 */
export async function unban(
  store: Store,
  backend: FirewallBackend,
  net: Cidr,
  now: number,
): Promise<{ lifted: Ban[]; forgotten: number }> {
  const active = store.bans.active(now);
  const lifted = active.filter((b) => cidrContains(net, b.ip));
  if (lifted.length === 0) {
    const outer = active.find((b) => cidrContains(b.ip, net));
    if (outer) throw new UserError(`${net.text} is inside the banned network ${outer.ip.text}: unban ${outer.ip.text}`, 2);
  }
  const forgotten = store.transaction(() => {
    for (const b of lifted) store.bans.unban(b, now);
    store.adminEvents.post('unban', net, now);
    return store.failures.forget(net);
  });
  for (const b of lifted) backend.remove(b.ip);
  // Nothing recorded: still clear the kernel, in case it holds a member the database lost.
  if (lifted.length === 0) backend.remove(net);
  await backend.commit();
  return { lifted, forgotten };
}
