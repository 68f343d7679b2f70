import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidr, type Cidr } from '../net/address.js';
import { packageRoot } from '../paths.js';

export const CDN_PROVIDERS = ['cloudflare', 'fastly', 'cloudfront'] as const;
export type CdnProvider = (typeof CDN_PROVIDERS)[number];

/**
 * How each provider publishes its ranges, and where (the default URLs of
 * `blocker cdn update`; `policy.cdnUrls` may point at a mirror serving the
 * same format).
 *
 * - `lines`: one CIDR per line (Cloudflare's ips-v4 / ips-v6).
 * - `fastly`: JSON `{ "addresses": [...], "ipv6_addresses": [...] }`.
 * - `aws`: AWS's ip-ranges.json, of which only `service: "CLOUDFRONT"` entries are kept.
 */
export type CdnFormat = 'lines' | 'fastly' | 'aws';

export const CDN_SOURCES: Readonly<Record<CdnProvider, { format: CdnFormat; urls: readonly string[] }>> = {
  cloudflare: { format: 'lines', urls: ['https://www.cloudflare.com/ips-v4', 'https://www.cloudflare.com/ips-v6'] },
  fastly: { format: 'fastly', urls: ['https://api.fastly.com/public-ip-list'] },
  cloudfront: { format: 'aws', urls: ['https://ip-ranges.amazonaws.com/ip-ranges.json'] },
};

export interface CdnRangeList {
  provider: CdnProvider;
  asOf: string;
  ranges: Cidr[];
}

/** Loads a bundled, dated range list from data/cdn/. Invalid entries are a packaging bug. */
export function loadBundledRanges(provider: CdnProvider): CdnRangeList {
  const file = join(packageRoot(), 'data', 'cdn', `${provider}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { asOf: string; ranges: string[] };
  const ranges = doc.ranges.map((r) => {
    const c = parseCidr(r);
    if (!c) throw new Error(`${file}: invalid range "${r}"`);
    return c;
  });
  return { provider, asOf: doc.asOf, ranges };
}

/**
 * The list to use: a fetched one (from `blocker cdn update`, in the database)
 * when it is at least as recent as the bundled one, else the bundled one — so
 * upgrading the package never rolls back to an older list, nor does a stale fetch.
 */
export function newestList(bundled: CdnRangeList, fetched: { asOf: string; ranges: Cidr[] } | null): CdnRangeList & { origin: 'bundled' | 'fetched' } {
  if (fetched && fetched.ranges.length > 0 && fetched.asOf >= bundled.asOf) {
    return { provider: bundled.provider, asOf: fetched.asOf, ranges: fetched.ranges, origin: 'fetched' };
  }
  return { ...bundled, origin: 'bundled' };
}
