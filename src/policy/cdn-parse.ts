import ipaddr from 'ipaddr.js';
import { parseCidr, type Cidr } from '../net/address.js';
import type { CdnFormat } from './cdn-ranges.js';

/** Why a fetched list was refused; the last good list stays in force. */
export class CdnListError extends Error {
  override name = 'CdnListError';
}

/** More entries than any provider publishes: a sign of the wrong document, not a list. */
export const MAX_ENTRIES = 20_000;
/** A new list with fewer than this share of the previous one's entries is refused as implausible. */
export const MIN_KEPT_SHARE = 0.5;

/**
 * Reads one fetched document in the provider's format into networks. Every
 * entry must be a valid CIDR by ipaddr.js's own check (and ours); one bad
 * entry refuses the whole document, since a half-understood list is worse
 * than the last good one.
 */
export function parseCdnDocument(format: CdnFormat, body: string, origin: string): { ranges: Cidr[]; asOf: string | null } {
  let entries: unknown[];
  let asOf: string | null = null;
  if (format === 'lines') {
    entries = body
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new CdnListError(`${origin}: not JSON`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CdnListError(`${origin}: expected a JSON object`);
    const o = doc as Record<string, unknown>;
    if (format === 'fastly') {
      if (!Array.isArray(o.addresses)) throw new CdnListError(`${origin}: no "addresses" array`);
      entries = [...o.addresses, ...(Array.isArray(o.ipv6_addresses) ? o.ipv6_addresses : [])];
    } else {
      if (!Array.isArray(o.prefixes)) throw new CdnListError(`${origin}: no "prefixes" array`);
      const pick = (list: unknown, key: string) =>
        (Array.isArray(list) ? list : [])
          .filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && (p as Record<string, unknown>).service === 'CLOUDFRONT')
          .map((p) => p[key]);
      entries = [...pick(o.prefixes, 'ip_prefix'), ...pick(o.ipv6_prefixes, 'ipv6_prefix')];
      // "createDate": "2025-11-16-10-12-03"
      if (typeof o.createDate === 'string' && /^\d{4}-\d\d-\d\d/.test(o.createDate)) asOf = o.createDate.slice(0, 10);
    }
  }
  if (entries.length > MAX_ENTRIES) throw new CdnListError(`${origin}: ${entries.length} entries, more than any provider publishes (${MAX_ENTRIES})`);
  const ranges: Cidr[] = [];
  entries.forEach((e, i) => {
    const where = `entry ${i + 1}`;
    if (typeof e !== 'string' || !ipaddr.isValidCIDR(e)) {
      throw new CdnListError(`${origin}: ${where} ${JSON.stringify(e).slice(0, 60)} is not a network in CIDR form`);
    }
    const c = parseCidr(e);
    if (!c) throw new CdnListError(`${origin}: ${where} "${e.slice(0, 60)}" is not a network in CIDR form`);
    ranges.push(c);
  });
  return { ranges, asOf };
}

/**
 * Checks a provider's merged new list against the one in force: refuses an
 * empty list, and one that lost more than half its entries (a truncated
 * download or a page of another kind), unless the operator insists.
 */
export function checkPlausible(provider: string, next: readonly Cidr[], previous: number, force: boolean): void {
  if (next.length === 0) throw new CdnListError(`${provider}: the fetched list is empty`);
  if (!force && previous > 0 && next.length < previous * MIN_KEPT_SHARE) {
    throw new CdnListError(
      `${provider}: the fetched list has ${next.length} ranges, the one in force ${previous}: ` +
        'refusing a list that shrank by more than half (use --force if the provider really dropped them)',
    );
  }
}

/** Sorted and without duplicates, so lists compare and store the same way. */
export function normaliseRanges(ranges: readonly Cidr[]): Cidr[] {
  const seen = new Map<string, Cidr>();
  for (const r of ranges) seen.set(r.text, r);
  return [...seen.values()].sort((a, b) => a.family - b.family || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
}
