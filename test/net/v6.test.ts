import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { parseIp } from '../../src/net/address.js';
import { prefixText } from '../../src/net/prefix.js';
import { formatV6, v6Groups } from '../../src/net/v6.js';

describe('v6Groups / formatV6 (the fast path for canonical IPv6 text)', () => {
  const samples = ['::', '::1', '2001:db8::', '2001:db8::1', 'fe80::1:2', '2001:db8:0:1:1:1:1:1', '2001:0:0:1::1', '1:2:3:4:5:6:7:8', '2001:db8:77:1::/64'.split('/')[0]!];
  it.each(samples)('%s agrees with ipaddr.js', (text) => {
    const canonical = parseIp(text)!.text;
    expect(v6Groups(canonical)).toEqual(ipaddr.IPv6.parse(canonical).parts);
    expect(formatV6(v6Groups(canonical))).toBe(canonical);
  });

  it('prefixText masks within a group, and agrees with the general parser', () => {
    const ip = parseIp('2001:db8:abcd:12ff:1:2:3:4')!;
    expect(prefixText(ip, 64)).toBe('2001:db8:abcd:12ff::/64');
    expect(prefixText(ip, 56)).toBe('2001:db8:abcd:1200::/56');
    expect(prefixText(ip, 36)).toBe('2001:db8:a000::/36');
    expect(prefixText(parseIp('2001:db8::1')!, 64)).toBe('2001:db8::/64');
  });
});
