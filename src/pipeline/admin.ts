import { UserError } from '../errors.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { cidrContains, parseCidr, type Cidr } from '../net/address.js';
import { overlappingGroup, type ProtectedRanges } from '../policy/protected.js';
import type { Ban } from '../store/bans.js';
import type { Store } from '../store/store.js';

/**
 * Manual ban: recorded, then applied, then announced to a running daemon.
 * A network that covers existing bans replaces them (nft sets cannot hold
 * overlapping members); an address already inside a banned network is refused.
 *
 * Protected addresses are refused with the reason; `force` overrides the
 * allow list, trusted proxies and CDN ranges, never loopback or this host's
 * own addresses (that would cut the host off from itself).
 */
export async function banManually(
  store: Store,
  backend: FirewallBackend,
  net: Cidr,
  opts: { durationMs: number | null; now: number; protect: readonly ProtectedRanges[]; reason?: string; force?: boolean },
): Promise<{ ban: Ban; replaced: Ban[]; overridden: string | null }> {
  const hit = overlappingGroup(opts.protect, net);
  let overridden: string | null = null;
  if (hit) {
    const what = `${hit.group.label} (${hit.range.text})`;
    if (hit.group.hard) {
      throw new UserError(
        `${net.text} is protected by ${what}: ${hit.group.label === "loopback" ? "loopback addresses" : "this host's own addresses"} are never banned, not even with --force`,
        2,
      );
    }
    if (!opts.force) {
      throw new UserError(`${net.text} is protected by ${what}: it is never banned (use --force to ban it anyway, or remove it from there first)`, 2);
    }
    overridden = what;
  }
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
  return { ban, replaced, overridden };
}

/**
 * Lifts the ban of `net` (or every ban inside it), forgets the counted
 * failures there so old lines do not ban it again at once, and forgives its
 * past bans (they stop counting towards escalation). With `allow`, `net` also
 * joins the persistent allow list, in the same transaction.
 */
export async function unban(
  store: Store,
  backend: FirewallBackend,
  net: Cidr,
  now: number,
  opts: { allow?: { note: string } } = {},
): Promise<{ lifted: Ban[]; forgotten: number; allowed: boolean }> {
  const active = store.bans.active(now);
  const lifted = active.filter((b) => cidrContains(net, b.ip));
  if (lifted.length === 0) {
    const outer = active.find((b) => cidrContains(b.ip, net));
    if (outer) throw new UserError(`${net.text} is inside the banned network ${outer.ip.text}: unban ${outer.ip.text}`, 2);
  }
  const { forgotten, allowed } = store.transaction(() => {
    for (const b of lifted) store.bans.unban(b, now);
    store.banHistory.reset(net, now);
    for (const entry of store.banHistory.since(0).keys()) {
      const e = parseCidr(entry);
      if (e && cidrContains(net, e)) store.banHistory.reset(e, now);
    }
    const allowed = opts.allow ? store.allowList.add(net, opts.allow.note, now) : false;
    store.adminEvents.post('unban', net, now);
    return { forgotten: store.failures.forget(net), allowed };
  });
  for (const b of lifted) backend.remove(b.ip);
  // Nothing recorded: still clear the kernel, in case it holds a member the database lost.
  if (lifted.length === 0) backend.remove(net);
  await backend.commit();
  return { lifted, forgotten, allowed };
}
