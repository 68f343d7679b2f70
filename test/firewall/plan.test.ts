import { describe, expect, it } from 'vitest';
import { entriesFor } from '../../src/firewall/plan.js';
import { parseCidr } from '../../src/net/address.js';
import type { Ban } from '../../src/store/bans.js';

const ban = (ip: string, expiresAt: number | null, id = 1): Ban => ({
  id, ip: parseCidr(ip)!, reason: 'r', failures: 1, origin: 'manual', bannedAt: 0, expiresAt,
});

describe('entriesFor', () => {
  it('keeps live bans with their remaining time, none inside another', () => {
    const entries = entriesFor(
      [ban('198.51.100.7', 5000), ban('198.51.100.0/24', null), ban('198.51.101.1', 500), ban('2001:db8::1', 9000)],
      1000,
    );
    expect(entries.map((e) => [e.net.text, e.ttlMs])).toEqual([
      ['198.51.100.0/24', null],
      ['2001:db8::1', 8000],
    ]);
  });

  it('drops networks inside wider networks and duplicates, per family', () => {
    const entries = entriesFor(
      [ban('10.1.0.0/16', null), ban('10.0.0.0/8', null), ban('10.1.2.3', null), ban('2001:db8:1::/48', null), ban('2001:db8::/32', null), ban('2001:db9::1', null), ban('2001:db9::1', null), ban('11.0.0.0/8', 50)],
      0,
    );
    expect(entries.map((e) => e.net.text).sort()).toEqual(['10.0.0.0/8', '11.0.0.0/8', '2001:db8::/32', '2001:db9::1']);
  });

  it('handles 100k bans, dropping the addresses a network covers', () => {
    const bans: Ban[] = [];
    for (let i = 0; i < 100_000; i++) bans.push(ban(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 10_000, i));
    bans.push(ban('10.0.0.0/24', null), ban('2001:db8::/64', null));
    const entries = entriesFor(bans, 0);
    // 256 addresses fall inside 10.0.0.0/24.
    expect(entries.length).toBe(100_000 - 256 + 2);
  });
});
