import { parseCidr, type Cidr } from '../net/address.js';
import type { BanTarget } from '../store/bans.js';
import type { FirewallEntry } from './backend.js';

/**
 * The set members that enforce `bans` at `now`: each with its remaining time,
 * and none inside another (nft interval sets refuse overlapping members, and a
 * member inside a banned network adds nothing).
 */
export function entriesFor(bans: readonly BanTarget[], now: number): FirewallEntry[] {
  const live = bans.filter((b) => b.expiresAt === null || b.expiresAt > now);
  // Widest first, so a covered member is seen after the network that covers it (stable: ties keep their order).
  live.sort((a, b) => a.ip.prefix - b.ip.prefix);
  const kept = new KeptNetworks();
  const out: FirewallEntry[] = [];
  for (const b of live) {
    if (kept.covers(b.ip)) continue;
    kept.add(b.ip);
    out.push({ net: b.ip, ttlMs: b.expiresAt === null ? null : b.expiresAt - now });
  }
  return out;
}

/**
 * Networks kept so far, by family and prefix length, so that "is this inside
 * one of them" costs one lookup per prefix length in use rather than one
 * comparison per network (100k bans would otherwise take minutes).
 */
class KeptNetworks {
  // Parallel arrays rather than a Map iterated per call: this runs once per
  // ban every minute, and iterating a Map's entries made garbage each time.
  private readonly lengths = { 4: [] as number[], 6: [] as number[] };
  private readonly texts = { 4: [] as Set<string>[], 6: [] as Set<string>[] };

  add(net: Cidr): void {
    const lengths = this.lengths[net.family];
    const i = lengths.indexOf(net.prefix);
    if (i >= 0) this.texts[net.family][i]!.add(net.network.text);
    else {
      lengths.push(net.prefix);
      this.texts[net.family].push(new Set([net.network.text]));
    }
  }

  covers(net: Cidr): boolean {
    const lengths = this.lengths[net.family];
    const texts = this.texts[net.family];
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length > net.prefix) continue;
      const outer = length === net.prefix ? net : parseCidr(`${net.network.text}/${length}`);
      if (outer && texts[i]!.has(outer.network.text)) return true;
    }
    return false;
  }
}
