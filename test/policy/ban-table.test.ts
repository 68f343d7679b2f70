import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from '../../src/net/address.js';
import { BanTable } from '../../src/policy/ban-table.js';

describe('BanTable', () => {
  it('finds an address ban and a prefix ban without text, and keeps lengths apart', () => {
    const b = new BanTable();
    b.set('198.51.100.7', 100).set('2001:db8:1:2::/64', 200).set(parseCidr('2001:db8:1::/48')!, 300);
    expect(b.untilOfIp(parseIp('198.51.100.7')!)).toBe(100);
    expect(b.untilOfIp(parseIp('198.51.100.8')!)).toBeUndefined();
    // The /48 ban is not the /64 ban of the same masked words.
    expect(b.untilOfPrefix(parseIp('2001:db8:1:2::9')!, 64)).toBe(200);
    expect(b.untilOfPrefix(parseIp('2001:db8:1:3::9')!, 64)).toBeUndefined();
    expect(b.untilOfPrefix(parseIp('2001:db8:1:3::9')!, 48)).toBe(300);
    expect(b.get('2001:db8:1::/48')).toBe(300);
    expect(b.keys().sort()).toEqual(['198.51.100.7', '2001:db8:1:2::/64', '2001:db8:1::/48']);
  });

  it('prunes lapsed bans and forgets those inside a network', () => {
    const b = new BanTable();
    b.set('198.51.100.7', 100).set('198.51.100.8', 300).set('203.0.113.0/24', 300).set('2001:db8::1', 300);
    b.prune(100);
    expect(b.has('198.51.100.7')).toBe(false);
    b.deleteWithin(parseCidr('198.51.100.0/24')!);
    expect(b.keys().sort()).toEqual(['2001:db8::1', '203.0.113.0/24']);
    expect(b.delete('203.0.113.0/24')).toBe(true);
    expect(() => b.set('nonsense', 1)).toThrow(/not an address/);
  });
});
