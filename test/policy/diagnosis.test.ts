import { describe, expect, it } from 'vitest';
import { cidrContains, ipFromWords, ipv4FromNumber, parseCidr, parseIp } from '../../src/net/address.js';
import { proxyKind } from '../../src/policy/diagnosis.js';
import { addAt, countAt, windowCount } from '../../src/policy/window-count.js';

const RULES = { trustedProxies: [], period: 3_600_000, window: 600_000 };
const PRIVATE = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'].map((c) => parseCidr(c)!);

describe('proxyKind', () => {
  it('names exactly the private and loopback IPv4 addresses, whatever their first octet', () => {
    for (let a = 0; a < 256; a++) {
      for (const rest of [0x000001, 0x10fe01, 0x40ff02, 0xa8ffff, 0xfe0001, 0x1f0000, 0x200000]) {
        const ip = ipv4FromNumber(((a << 24) | rest) | 0);
        const want = PRIVATE.some((n) => cidrContains(n, ip)) ? (a === 127 ? 'loopback' : 'private address') : null;
        expect(proxyKind(RULES, ip), ip.text).toBe(want);
      }
    }
  });

  it('names the private and loopback IPv6 addresses, and a trusted proxy first', () => {
    expect(proxyKind(RULES, parseIp('::1')!)).toBe('loopback');
    expect(proxyKind(RULES, parseIp('fd00::1')!)).toBe('private address');
    expect(proxyKind(RULES, parseIp('fe80::1')!)).toBe('private address');
    expect(proxyKind(RULES, parseIp('ff02::1')!)).toBeNull();
    expect(proxyKind(RULES, parseIp('2001:db8::1')!)).toBeNull();
    expect(proxyKind({ ...RULES, trustedProxies: [parseCidr('198.51.100.0/24')!] }, parseIp('198.51.100.9')!)).toBe('trusted proxy');
  });

  it('names exactly the private and loopback IPv6 addresses, whatever their first group, parsed or made from words', () => {
    const private6 = ['::1/128', 'fc00::/7', 'fe80::/10'].map((c) => parseCidr(c)!);
    for (let g = 0; g < 0x10000; g += 0x40) {
      for (const first of [g, g | 0x3f]) {
        for (const [w1, w2, w3] of [[0, 0, 0], [0, 0, 1], [0x0db8, 7, 1], [-1, -1, -1]]) {
          const w0 = ((first << 16) | 0x0db8) | 0;
          const fromWords = ipFromWords(6, w0, w1!, w2!, w3!);
          const parsed = parseIp(fromWords.text)!;
          const want = private6.some((n) => cidrContains(n, parsed)) ? 'private address' : null;
          expect(proxyKind(RULES, fromWords), fromWords.text).toBe(want);
          expect(proxyKind(RULES, parsed), parsed.text).toBe(want);
        }
      }
    }
    for (const [text, want] of [['::1', 'loopback'], ['::', null], ['::2', null], ['f00::1', null], ['f::1', null], ['fbff::1', null], ['fe7f::1', null], ['fec0::1', null]] as const) {
      expect(proxyKind(RULES, parseIp(text)!), text).toBe(want);
      const ip = parseIp(text)!;
      expect(proxyKind(RULES, ipFromWords(6, ip.w0, ip.w1, ip.w2, ip.w3)), text).toBe(want);
    }
  });
});

describe('window count', () => {
  it('counts within the window, for times past 2^31 ms and before the epoch alike', () => {
    for (const base of [Date.UTC(2026, 10, 22), 1_000, -5_000_000]) {
      const w = windowCount(600_000);
      for (let i = 0; i < 20; i++) addAt(w, base + i * 60_000);
      expect(countAt(w, base + 19 * 60_000)).toBe(10);
      expect(countAt(w, base + 40 * 60_000)).toBe(0);
    }
  });
});
