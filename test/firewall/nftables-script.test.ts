import { describe, expect, it } from 'vitest';
import type { FirewallEntry } from '../../src/firewall/backend.js';
import {
  changeLines,
  declareLines,
  placeAll,
  rebuildLines,
  removeTableLines,
  setFor,
  syncLines,
  type NftOptions,
} from '../../src/firewall/nftables-script.js';
import { parseCidr, type Cidr } from '../../src/net/address.js';

const net = (s: string) => parseCidr(s)!;
const o: NftOptions = { table: 'blocker', priority: -10, action: 'drop', forwardHook: false };
const entry = (s: string, ttlMs: number | null): FirewallEntry => ({ net: net(s), ttlMs });

describe('nftables script builder', () => {
  it('declares only our own table, idempotently, with one rule per set', () => {
    const lines = declareLines(o);
    expect(lines.every((l) => l.includes(' inet blocker'))).toBe(true);
    expect(lines).toContain('add set inet blocker v4 { type ipv4_addr; flags timeout; }');
    expect(lines).toContain('add set inet blocker v6net { type ipv6_addr; flags interval, timeout; }');
    expect(lines).toContain('add chain inet blocker input { type filter hook input priority -10; policy accept; }');
    expect(lines).toContain('flush chain inet blocker input');
    expect(lines.filter((l) => l.startsWith('add rule'))).toEqual([
      'add rule inet blocker input ip saddr @v4 counter name dropped_v4 drop',
      'add rule inet blocker input ip6 saddr @v6 counter name dropped_v6 drop',
      'add rule inet blocker input ip saddr @v4net counter name dropped_v4 drop',
      'add rule inet blocker input ip6 saddr @v6net counter name dropped_v6 drop',
    ]);
    expect(lines.join('\n')).not.toMatch(/flush ruleset|delete|forward/);
  });

  it('takes priority, reject and the forward hook from the options', () => {
    const lines = declareLines({ table: 't', priority: 5, action: 'reject', forwardHook: true });
    expect(lines).toContain('add chain inet t forward { type filter hook forward priority 5; policy accept; }');
    expect(lines).toContain('add rule inet t forward ip6 saddr @v6net counter name dropped_v6 reject');
    expect(lines.filter((l) => l.startsWith('add rule')).length).toBe(8);
    expect(lines.some((l) => l.endsWith(' drop'))).toBe(false);
  });

  it('refuses a table name, priority or action that could smuggle commands', () => {
    expect(() => declareLines({ ...o, table: 'x; flush ruleset' })).toThrow(/invalid nftables table name/);
    expect(() => changeLines({ ...o, table: 'a b' }, {})).toThrow(/invalid nftables table name/);
    expect(() => removeTableLines('t }')).toThrow(/invalid nftables table name/);
    expect(() => declareLines({ ...o, priority: 1.5 })).toThrow(/priority/);
    expect(() => declareLines({ ...o, action: 'accept; flush ruleset' as 'drop' })).toThrow(/action/);
  });

  it('never writes an address that did not come out of the parser', () => {
    const forged = (text: string, family: 4 | 6 = 4) => ({ family, text, prefix: 32, network: { family, text } }) as unknown as Cidr;
    for (const text of ['198.51.100.7 }; flush ruleset; add element inet blocker v4 { 1.2.3.4', '198.51.100.7\nflush ruleset', '010.0.0.1', '2001:DB8::1', '198.51.100.7/24']) {
      const f = forged(text, text.includes(':') ? 6 : 4);
      expect(() => changeLines(o, { fresh: [{ set: 'v4', entry: { net: f, ttlMs: 1000 } }] }), text).toThrow(/refusing/);
      expect(() => changeLines(o, { removes: [{ set: 'v4', net: f }] }), text).toThrow(/refusing/);
      expect(() => syncLines(o, [{ net: f, ttlMs: null }]), text).toThrow(/refusing/);
    }
    // A real Cidr whose family was tampered with is refused too.
    expect(() => changeLines(o, { fresh: [{ set: 'v6', entry: { net: { ...net('198.51.100.7'), family: 6 } as Cidr, ttlMs: 1 } }] })).toThrow(/refusing/);
  });

  it('puts single addresses in the hash sets and networks in the interval sets', () => {
    expect(['198.51.100.7', '198.51.100.7/32', '198.51.100.0/24', '2001:db8::1', '2001:db8::/64'].map((s) => setFor(net(s)))).toEqual([
      'v4',
      'v4',
      'v4net',
      'v6',
      'v6net',
    ]);
  });

  it('adds fresh members plainly, resets possible ones with add → delete → add, removes with add → delete', () => {
    const lines = changeLines(o, {
      fresh: placeAll([entry('198.51.100.7', 3_600_500), entry('198.51.100.8', null)]),
      reset: placeAll([entry('2001:db8::9', 1000)]),
      removes: [{ set: 'v6net', net: net('2001:db8::/64') }],
    });
    expect(lines).toEqual([
      'add element inet blocker v6net { 2001:db8::/64 }',
      'delete element inet blocker v6net { 2001:db8::/64 }',
      'add element inet blocker v6 { 2001:db8::9 }',
      'delete element inet blocker v6 { 2001:db8::9 }',
      'add element inet blocker v6 { 2001:db8::9 timeout 1s }',
      'add element inet blocker v4 { 198.51.100.7 timeout 3601s, 198.51.100.8 }',
    ]);
  });

  it('writes big batches as statements of at most 1000 elements', () => {
    const many = Array.from({ length: 2500 }, (_, i) => entry(`10.0.${i >> 8}.${i & 255}`, 60_000));
    const adds = changeLines(o, { fresh: placeAll(many) });
    expect(adds.length).toBe(3);
    expect(adds.map((l) => l.split(',').length)).toEqual([1000, 1000, 500]);
    expect(adds[2]).toMatch(/10\.0\.9\.195 timeout 60s \}$/);
  });

  it('sync flushes all four sets and adds every member, after the declarations', () => {
    const lines = syncLines({ ...o, table: 't1' }, [entry('198.51.100.7', 1000), entry('2001:db8::9', 2000), entry('198.51.100.0/30', null)]);
    expect(lines.slice(0, declareLines({ ...o, table: 't1' }).length)).toEqual(declareLines({ ...o, table: 't1' }));
    for (const s of ['v4', 'v6', 'v4net', 'v6net']) expect(lines).toContain(`flush set inet t1 ${s}`);
    expect(lines).toContain('add element inet t1 v4 { 198.51.100.7 timeout 1s }');
    expect(lines).toContain('add element inet t1 v4net { 198.51.100.0/30 }');
    expect(lines).toContain('add element inet t1 v6 { 2001:db8::9 timeout 2s }');
  });

  it('rebuilds by deleting and re-creating only our table, in the same script', () => {
    const lines = rebuildLines(o, [entry('198.51.100.7', 1000)]);
    expect(lines.slice(0, 3)).toEqual(['add table inet blocker', 'delete table inet blocker', 'add table inet blocker']);
    expect(lines.at(-1)).toBe('add element inet blocker v4 { 198.51.100.7 timeout 1s }');
    expect(lines.filter((l) => l.startsWith('delete'))).toEqual(['delete table inet blocker']);
  });
});
