import { cidrContains, type Cidr, type Ip } from '../net/address.js';

/** A named group of networks that must never be banned (allow list, a CDN's edges). */
export interface ProtectedRanges {
  readonly label: string;
  readonly ranges: readonly Cidr[];
}

/** The label of the first group containing `ip` (e.g. "allow", "cdn:cloudflare"), or null. */
export function protectedBy(groups: readonly ProtectedRanges[], ip: Ip | Cidr): string | null {
  for (const g of groups) {
    for (const r of g.ranges) if (cidrContains(r, ip)) return g.label;
  }
  return null;
}

/** The label of the first group whose range overlaps `net` at all (a CIDR ban must not cover them). */
export function overlapsProtected(groups: readonly ProtectedRanges[], net: Cidr): string | null {
  for (const g of groups) {
    for (const r of g.ranges) if (cidrContains(r, net) || cidrContains(net, r)) return `${g.label} (${r.text})`;
  }
  return null;
}
