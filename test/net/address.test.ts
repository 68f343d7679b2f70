import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { cidrContains, ipv4FromNumber, parseCidr, parseIp } from '../../src/net/address.js';

describe('parseIp', () => {
  it('accepts IPv4 and canonicalises IPv6', () => {
    expect(parseIp('203.0.113.9')).toMatchObject({ family: 4, text: '203.0.113.9' });
    expect(parseIp('2001:DB8:0:0:0:0:0:1')).toMatchObject({ family: 6, text: '2001:db8::1' });
  });

  it('reads IPv6 text exactly as ipaddr.js does, whether plain hex groups (read without it) or not', () => {
    // ipaddr.js's reading, as parseIp made it before it read plain hex groups itself.
    const reference = (s: string) => {
      const a = ipaddr.IPv6.parse(s);
      if (a.isIPv4MappedAddress()) return { family: 4, text: a.toIPv4Address().toString() };
      return { family: 6, text: a.toRFC5952String() };
    };
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 8) % n;
    };
    const forms = (g: number[]): string[] => {
      const full = g.map((x) => x.toString(16)).join(':');
      const a = ipaddr.fromByteArray(g.flatMap((x) => [x >> 8, x & 255])) as ipaddr.IPv6;
      return [a.toRFC5952String(), full, full.toUpperCase(), g.map((x) => x.toString(16).padStart(4, '0')).join(':'), `${a.toRFC5952String()}:1`];
    };
    for (let i = 0; i < 8_000; i++) {
      // Mostly zeros and small groups, so that zero runs of every length and place occur.
      const g = Array.from({ length: 8 }, () => [0, 0, 0, 1, 0xffff, rand(0x10000)][rand(6)]!);
      if (i % 50 === 0) g.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
      for (const text of forms(g)) {
        let want: { family: number; text: string } | null = null;
        try {
          want = reference(text);
        } catch {
          want = null;
        }
        const got = parseIp(text);
        if (want === null) expect(got, text).toBeNull();
        else expect({ family: got?.family, text: got?.text }, text).toEqual(want);
      }
    }
  });

  it('folds IPv4-mapped IPv6 to IPv4', () => {
    expect(parseIp('::ffff:198.51.100.7')).toMatchObject({ family: 4, text: '198.51.100.7' });
    expect(parseIp('::ffff:c633:6407')).toMatchObject({ family: 4, text: '198.51.100.7' });
  });

  it('carries the address as four 32-bit words, whichever way it was parsed', () => {
    const words = (s: string) => {
      const ip = parseIp(s)!;
      return [ip.w0, ip.w1, ip.w2, ip.w3].map((w) => w >>> 0);
    };
    expect(words('203.0.113.9')).toEqual([0, 0, 0, 0xcb007109]);
    expect(words('::ffff:203.0.113.9')).toEqual([0, 0, 0, 0xcb007109]);
    expect(words('255.255.255.255')).toEqual([0, 0, 0, 0xffffffff]);
    expect(words('2001:db8:ffff:1::8000:2')).toEqual([0x20010db8, 0xffff0001, 0, 0x80000002]);
    expect(ipv4FromNumber(0xcb007109)).toEqual(parseIp('203.0.113.9'));
    expect(parseCidr('2001:db8:1:2::5/64')!.network.w1 >>> 0).toBe(0x00010002);
  });

  it.each(['', 'unknown', '256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '0x7f.0.0.1', '1', 'fe80::1%eth0', '2001:db8::1::2', ' 1.2.3.4', '1.2.3.4 ', '[2001:db8::1]'])(
    'rejects %j',
    (s) => {
      expect(parseIp(s)).toBeNull();
    },
  );
});

describe('parseCidr', () => {
  it('masks the network part and drops a full-length prefix', () => {
    expect(parseCidr('10.1.2.3/8')?.text).toBe('10.0.0.0/8');
    expect(parseCidr('203.0.113.9/32')?.text).toBe('203.0.113.9');
    expect(parseCidr('2001:db8:1:2::5/64')?.text).toBe('2001:db8:1:2::/64');
    expect(parseCidr('2001:db8::7')?.prefix).toBe(128);
  });

  it('folds an IPv4-mapped network', () => {
    expect(parseCidr('::ffff:10.0.0.0/104')?.text).toBe('10.0.0.0/8');
  });

  it.each(['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/-1', '10.0.0.0/', 'x/8', '10.0.0.0/8/8'])('rejects %j', (s) => {
    expect(parseCidr(s)).toBeNull();
  });

  it('tests containment within one family only', () => {
    const net = parseCidr('198.51.100.0/24')!;
    expect(cidrContains(net, parseIp('198.51.100.200')!)).toBe(true);
    expect(cidrContains(net, parseIp('198.51.101.1')!)).toBe(false);
    expect(cidrContains(net, parseCidr('198.51.100.128/25')!)).toBe(true);
    expect(cidrContains(parseCidr('198.51.100.128/25')!, net)).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, parseIp('198.51.100.1')!)).toBe(false);
  });
});
