import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/net/address.js';
import { CdnListError, checkPlausible, MAX_ENTRIES, normaliseRanges, parseCdnDocument } from '../../src/policy/cdn-parse.js';
import { CDN_PROVIDERS, loadBundledRanges, newestList } from '../../src/policy/cdn-ranges.js';

describe('bundled CDN lists', () => {
  it.each(CDN_PROVIDERS)('%s: dated, IPv4 and IPv6, every entry a valid network', (p) => {
    const list = loadBundledRanges(p);
    expect(list.asOf).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(list.ranges.some((r) => r.family === 4)).toBe(true);
    expect(list.ranges.some((r) => r.family === 6)).toBe(true);
  });

  it('hold known edges', () => {
    const has = (p: (typeof CDN_PROVIDERS)[number], cidr: string) => loadBundledRanges(p).ranges.some((r) => r.text === cidr);
    expect(has('cloudflare', '104.16.0.0/13')).toBe(true);
    expect(has('fastly', '151.101.0.0/16')).toBe(true);
    expect(has('fastly', '2a04:4e42::/32')).toBe(true);
    expect(has('cloudfront', '13.32.0.0/15')).toBe(true);
    expect(has('cloudfront', '2600:9000:1000::/36')).toBe(true);
  });

  it('newestList prefers a fetched list unless the bundled one is newer', () => {
    const bundled = { provider: 'fastly' as const, asOf: '2026-02-21', ranges: [parseCidr('151.101.0.0/16')!] };
    const fetched = { asOf: '2026-03-01', ranges: [parseCidr('151.101.0.0/16')!, parseCidr('199.232.0.0/16')!] };
    expect(newestList(bundled, fetched)).toMatchObject({ origin: 'fetched', asOf: '2026-03-01' });
    expect(newestList(bundled, { ...fetched, asOf: '2025-01-01' })).toMatchObject({ origin: 'bundled' });
    expect(newestList(bundled, null)).toMatchObject({ origin: 'bundled' });
  });
});

describe('parseCdnDocument', () => {
  it('reads one network per line (Cloudflare), skipping blanks and comments', () => {
    const r = parseCdnDocument('lines', '173.245.48.0/20\r\n\n# comment\n2400:cb00::/32\n', 'u');
    expect(r.ranges.map((c) => c.text)).toEqual(['173.245.48.0/20', '2400:cb00::/32']);
    expect(r.asOf).toBeNull();
  });

  it("reads Fastly's JSON", () => {
    const r = parseCdnDocument('fastly', JSON.stringify({ addresses: ['23.235.32.0/20'], ipv6_addresses: ['2a04:4e40::/32'] }), 'u');
    expect(r.ranges.map((c) => c.text)).toEqual(['23.235.32.0/20', '2a04:4e40::/32']);
  });

  it("keeps only CLOUDFRONT entries of AWS's ip-ranges.json, with its date", () => {
    const doc = {
      syncToken: '1',
      createDate: '2026-11-20-10-12-03',
      prefixes: [
        { ip_prefix: '13.32.0.0/15', region: 'GLOBAL', service: 'CLOUDFRONT' },
        { ip_prefix: '3.5.140.0/22', region: 'ap-northeast-2', service: 'AMAZON' },
      ],
      ipv6_prefixes: [{ ipv6_prefix: '2600:9000:1000::/36', region: 'GLOBAL', service: 'CLOUDFRONT' }],
    };
    const r = parseCdnDocument('aws', JSON.stringify(doc), 'u');
    expect(r.ranges.map((c) => c.text)).toEqual(['13.32.0.0/15', '2600:9000:1000::/36']);
    expect(r.asOf).toBe('2026-11-20');
  });

  it('refuses the whole document for one bad entry, or the wrong shape', () => {
    const bad = (f: 'lines' | 'fastly' | 'aws', body: string) => () => parseCdnDocument(f, body, 'https://x');
    expect(bad('lines', '173.245.48.0/20\n<html>')).toThrow(CdnListError);
    expect(bad('lines', '173.245.48.0/20\n10.0.0.1')).toThrow(/entry 2 "10\.0\.0\.1" is not a network in CIDR form/);
    expect(bad('lines', '1.2.3.0/33')).toThrow(CdnListError);
    expect(bad('lines', '010.2.3.0/24')).toThrow(CdnListError);
    expect(bad('fastly', '{"addresses": "x"}')).toThrow(/no "addresses" array/);
    expect(bad('fastly', '{"addresses": [1]}')).toThrow(/entry 1 1 is not/);
    expect(bad('aws', '[1,2]')).toThrow(/expected a JSON object/);
    expect(bad('aws', '{not json')).toThrow(/not JSON/);
    expect(bad('lines', Array.from({ length: MAX_ENTRIES + 1 }, () => '10.0.0.0/8').join('\n'))).toThrow(/more than any provider/);
  });
});

describe('checkPlausible', () => {
  const list = (n: number) => Array.from({ length: n }, (_, i) => parseCidr(`10.${i}.0.0/16`)!);
  it('refuses an empty list, and one that shrank by more than half unless forced', () => {
    expect(() => checkPlausible('fastly', [], 0, true)).toThrow(/empty/);
    expect(() => checkPlausible('fastly', list(9), 20, false)).toThrow(/shrank by more than half/);
    expect(() => checkPlausible('fastly', list(9), 20, true)).not.toThrow();
    expect(() => checkPlausible('fastly', list(10), 20, false)).not.toThrow();
    expect(() => checkPlausible('fastly', list(30), 20, false)).not.toThrow();
  });

  it('normalises: sorted, IPv4 first, no duplicates', () => {
    const r = normaliseRanges(['2001:db8::/32', '10.1.0.0/16', '10.0.0.0/16', '10.1.0.0/16'].map((s) => parseCidr(s)!));
    expect(r.map((c) => c.text)).toEqual(['10.0.0.0/16', '10.1.0.0/16', '2001:db8::/32']);
  });
});
