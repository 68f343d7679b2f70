import { describe, expect, it } from 'vitest';
import { ipFromWords, parseCidr, parseIp } from '../../src/net/address.js';
import { ipWithin, maskWord } from '../../src/net/words.js';

describe('address words', () => {
  it('name the address again exactly as parseIp writes it', () => {
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 48271) + 1) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 5000; i++) {
      // Runs of zero groups of every length and place, to exercise the "::" choice.
      const groups = Array.from({ length: 8 }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * 65536)));
      const text = groups.map((g) => g.toString(16)).join(':');
      const ip = parseIp(text);
      if (!ip) throw new Error(text);
      const again = ipFromWords(ip.family, ip.w0, ip.w1, ip.w2, ip.w3);
      expect(again.text).toBe(ip.text);
      expect(again).toEqual(ip);
    }
    expect(ipFromWords(4, 0, 0, 0, parseIp('203.0.113.9')!.w3)).toEqual(parseIp('203.0.113.9'));
  });

  it('mask to a prefix and test containment like parseCidr', () => {
    expect(maskWord(-1, 1, 48) >>> 0).toBe(0xffff0000);
    expect(maskWord(-1, 0, 48)).toBe(-1);
    expect(maskWord(-1, 2, 48)).toBe(0);
    for (const [addr, net, inside] of [
      ['198.51.100.7', '198.51.100.0/24', true],
      ['198.51.101.7', '198.51.100.0/24', false],
      ['198.51.100.7', '0.0.0.0/0', true],
      ['2001:db8:1:2::5', '2001:db8:1::/48', true],
      ['2001:db8:2:2::5', '2001:db8:1::/48', false],
      ['2001:db8::1', '2001:db8::1', true],
      ['198.51.100.7', '::/0', false],
    ] as const) {
      expect(ipWithin(parseIp(addr)!, parseCidr(net)!), `${addr} in ${net}`).toBe(inside);
    }
  });
});
