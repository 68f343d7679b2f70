import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidr, type Cidr } from '../net/address.js';
import { packageRoot } from '../paths.js';

export const CDN_PROVIDERS = ['cloudflare'] as const;
export type CdnProvider = (typeof CDN_PROVIDERS)[number];

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
