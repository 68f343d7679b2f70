import { describe, expect, it } from 'vitest';
import { changeLines, preamble, syncLines } from '../../src/firewall/nftables-script.js';
import { entriesFor } from '../../src/firewall/plan.js';
import { parseCidr } from '../../src/net/address.js';
import type { Ban } from '../../src/store/bans.js';

const net = (s: string) => parseCidr(s)!;

describe('nftables script builder', () => {
  it('declares only our own table, idempotently', () => {
    const lines = preamble('blocker');
    expect(lines.every((l) => l.includes(' inet blocker'))).toBe(true);
    expect(lines).toContain('flush chain inet blocker input');
    expect(lines.filter((l) => l.startsWith('add rule'))).toEqual([
      'add rule inet blocker input ip saddr @v4 counter name dropped_v4 drop',
      'add rule inet blocker input ip6 saddr @v6 counter name dropped_v6 drop',
    ]);
    expect(lines.join('\n')).not.toMatch(/flush ruleset|delete table/);
  });

  it('refuses a table name that could smuggle commands', () => {
    expect(() => preamble('x; flush ruleset')).toThrow(/invalid nftables table name/);
    expect(() => changeLines('a b', [], [])).toThrow();
  });

  it('adds with a fresh timeout and removes whether or not present', () => {
    expect(changeLines('blocker', [{ net: net('198.51.100.7'), ttlMs: 3_600_500 }], [net('2001:db8::/64')])).toEqual([
      'add element inet blocker v6 { 2001:db8::/64 }',
      'delete element inet blocker v6 { 2001:db8::/64 }',
      'add element inet blocker v4 { 198.51.100.7 }',
      'delete element inet blocker v4 { 198.51.100.7 }',
      'add element inet blocker v4 { 198.51.100.7 timeout 3601s }',
    ]);
    expect(changeLines('blocker', [{ net: net('198.51.100.8'), ttlMs: null }], [])[2]).toBe(
      'add element inet blocker v4 { 198.51.100.8 }',
    );
  });

  it('sync replaces the members of both sets in one script', () => {
    const lines = syncLines('t1', [
      { net: net('198.51.100.7'), ttlMs: 1000 },
      { net: net('2001:db8::9'), ttlMs: 2000 },
      { net: net('198.51.100.0/30'), ttlMs: null },
    ]);
    expect(lines).toContain('flush set inet t1 v4');
    expect(lines).toContain('add element inet t1 v4 { 198.51.100.7 timeout 1s, 198.51.100.0/30 }');
    expect(lines).toContain('add element inet t1 v6 { 2001:db8::9 timeout 2s }');
  });

  it('plans disjoint members with remaining time', () => {
    const ban = (ip: string, expiresAt: number | null): Ban => ({
      id: 1, ip: net(ip), reason: 'r', failures: 1, origin: 'manual', bannedAt: 0, expiresAt,
    });
    const entries = entriesFor(
      [ban('198.51.100.7', 5000), ban('198.51.100.0/24', null), ban('198.51.101.1', 500), ban('2001:db8::1', 9000)],
      1000,
    );
    expect(entries.map((e) => [e.net.text, e.ttlMs])).toEqual([
      ['198.51.100.0/24', null],
      ['2001:db8::1', 8000],
    ]);
  });
});
