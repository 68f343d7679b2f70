import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, type Cidr } from '../../src/net/address.js';
import { ownAddresses } from '../../src/net/interfaces.js';
import { bounds, netSet } from '../../src/net/match.js';
import { prefixOf } from '../../src/net/prefix.js';

const net = (s: string): Cidr => parseCidr(s)!;
const ip = (s: string) => parseIp(s)!;

describe('netSet', () => {
  const set = netSet(['10.0.0.0/8', '192.0.2.0/25', '192.0.2.128/25', '2001:db8:aa::/48', '203.0.113.9'].map(net));

  it('holds addresses inside any of its networks, and no others', () => {
    expect(['10.255.255.255', '10.0.0.0', '192.0.2.200', '203.0.113.9', '2001:db8:aa:ffff::1'].map((a) => set.has(ip(a)))).toEqual([
      true, true, true, true, true,
    ]);
    expect(['11.0.0.0', '9.255.255.255', '203.0.113.10', '2001:db8:ab::1', '::ffff:11.0.0.1'].map((a) => set.has(ip(a)))).toEqual([
      false, false, false, false, false,
    ]);
  });

  it('holds a network only when all of it is inside (adjacent ranges merge)', () => {
    expect(set.has(net('192.0.2.0/24'))).toBe(true);
    expect(set.has(net('10.1.0.0/16'))).toBe(true);
    expect(set.has(net('10.0.0.0/7'))).toBe(false);
    expect(set.has(net('2001:db8::/32'))).toBe(false);
  });

  it('folds IPv4-mapped IPv6 to IPv4 (through the parser)', () => {
    expect(set.has(ip('::ffff:10.1.2.3'))).toBe(true);
  });

  it('an empty set holds nothing', () => {
    expect(netSet([]).has(ip('10.0.0.1'))).toBe(false);
  });

  it('bounds are the first and last address', () => {
    expect(bounds(net('192.0.2.128/25'))).toEqual([0xc0000280n, 0xc00002ffn]);
    expect(bounds(net('::/127'))).toEqual([0n, 1n]);
  });
});

describe('prefixOf', () => {
  it('gives the /64 (or any length) that holds an IPv6 address', () => {
    expect(prefixOf(ip('2001:db8:77:1:aaaa:bbbb:cccc:dddd'), 64).text).toBe('2001:db8:77:1::/64');
    expect(prefixOf(ip('2001:db8:77:1::5'), 48).text).toBe('2001:db8:77::/48');
    expect(prefixOf(ip('2001:db8:77:1::5'), 128).text).toBe('2001:db8:77:1::5');
  });
});

describe('ownAddresses', () => {
  it('lists every interface address once, as a single address, without zones', () => {
    const table = {
      lo: [
        { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8' },
        { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '', internal: true, cidr: '::1/128', scopeid: 0 },
      ],
      eth0: [
        { address: '198.51.100.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '198.51.100.1/24' },
        { address: 'fe80::1%eth0', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
        { address: '198.51.100.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '198.51.100.1/24' },
      ],
    };
    expect(ownAddresses(() => table as never).map((c) => c.text)).toEqual(['127.0.0.1', '::1', '198.51.100.1', 'fe80::1']);
  });

  it('reads this machine (at least loopback)', () => {
    expect(ownAddresses().map((c) => c.text)).toContain('127.0.0.1');
  });
});
