import { cidrOverlaps, type Cidr, type Ip } from '../net/address.js';
import { netSet, type NetSet } from '../net/match.js';

/** A named group of networks that must never be banned (allow list, a CDN's edges, this host). */
export interface ProtectedRanges {
  readonly label: string;
  readonly ranges: readonly Cidr[];
  /**
   * Loopback and this host's own addresses: never banned, not even by a
   * manual `blocker ban --force`, since that would cut the host off from itself.
   */
  readonly hard?: boolean;
}

// Compiled lazily and kept as long as the group object lives: groups are built once per config.
const compiled = new WeakMap<ProtectedRanges, NetSet>();
function setOf(g: ProtectedRanges): NetSet {
  let s = compiled.get(g);
  if (!s) compiled.set(g, (s = netSet(g.ranges)));
  return s;
}

/** The first group containing `ip` (or every address of a network), or null. */
export function protectingGroup(groups: readonly ProtectedRanges[], ip: Ip | Cidr): ProtectedRanges | null {
  for (const g of groups) if (setOf(g).has(ip)) return g;
  return null;
}

/** The label of the first group containing `ip` (e.g. "allow", "cdn:cloudflare"), or null. */
export function protectedBy(groups: readonly ProtectedRanges[], ip: Ip | Cidr): string | null {
  return protectingGroup(groups, ip)?.label ?? null;
}

/**
 * The first group with a range that overlaps `net` at all, and that range (a
 * network ban must not cover a protected address), or null.
 */
export function overlappingGroup(
  groups: readonly ProtectedRanges[],
  net: Cidr,
): { group: ProtectedRanges; range: Cidr } | null {
  for (const g of groups) {
    if (!setOf(g).overlaps(net)) continue;
    // Which range, for the message: only once a group is known to overlap.
    const range = g.ranges.find((r) => cidrOverlaps(r, net));
    if (range) return { group: g, range };
  }
  return null;
}

/** What an operator should know when a protected address reaches the threshold. */
export function sparedNote(label: string): string {
  if (label.startsWith('cdn:')) return 'via CDN — not banned; restrict the origin to the CDN instead';
  if (label === 'trusted-proxy') return 'trusted proxy — not banned: every client behind it shares this address';
  if (label === 'loopback') return 'loopback — never banned: a local proxy (sslh, a tunnel) shows every client as this address';
  if (label === 'own-address') return "this host's own address — never banned";
  return 'allow-listed — never banned';
}
