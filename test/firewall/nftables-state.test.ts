import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { NftOptions } from '../../src/firewall/nftables-script.js';
import { readNftTable } from '../../src/firewall/nftables-state.js';

/** Real `nft -j list table inet blocker` output (nft 1.0.6), captured in a namespace. */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const o: NftOptions = { table: 'blocker', priority: -10, action: 'drop', forwardHook: false };

describe('reading our nftables table back', () => {
  it('finds nothing wrong with a table as we declare it, and reads every member with its time left', () => {
    const v = readNftTable(fixture('nft-healthy.json'), o);
    expect(v.repairs).toEqual([]);
    expect(v.rebuild).toEqual([]);
    expect(v.unreadable.size).toBe(0);
    expect([...v.members].map((m) => [m.set, m.text, m.remainingMs === null ? null : m.remainingMs > 0])).toEqual([
      ['v4', '198.51.100.7', true],
      ['v4', '198.51.100.8', null],
      ['v6', '2001:db8::5', true],
      ['v4net', '203.0.113.0/24', true],
      ['v6net', '2001:db8:1::/48', null],
    ]);
    const v4 = [...v.members].find((m) => m.text === '198.51.100.7')!;
    expect(v4.remainingMs! % 1000).toBe(0);
    expect(v4.remainingMs!).toBeLessThanOrEqual(3_600_000);
  });

  it('sees the same table as wrong under other options (priority, reject, forward hook)', () => {
    expect(readNftTable(fixture('nft-healthy.json'), { ...o, priority: 0 }).rebuild[0]).toMatch(/chain input .*priority -10.* instead of .*priority 0/);
    expect(readNftTable(fixture('nft-healthy.json'), { ...o, action: 'reject' }).repairs).toEqual([
      'the rules of chain input in table inet blocker were changed',
    ]);
    expect(readNftTable(fixture('nft-healthy.json'), { ...o, forwardHook: true }).repairs).toEqual([
      'chain forward of table inet blocker is missing',
    ]);
  });

  it('reports damage: a foreign rule and counter, a range in a set, a missing member', () => {
    const v = readNftTable(fixture('nft-damaged.json'), o);
    expect(v.repairs).toEqual(['the rules of chain input in table inet blocker were changed']);
    expect(v.rebuild).toEqual(['table inet blocker holds a counter "extra" that blocker does not create']);
    expect([...v.unreadable]).toEqual([['v4net', 1]]);
    expect([...v.members].map((m) => `${m.set} ${m.text}`)).toContain('v4 192.0.2.99');
    expect([...v.members].map((m) => `${m.set} ${m.text}`)).not.toContain('v6 2001:db8::5');
  });

  it('asks for a rebuild of the old layout (interval sets named v4/v6, no counters or net sets)', () => {
    const v = readNftTable(fixture('nft-old-layout.json'), o);
    expect(v.rebuild).toEqual([
      'set v4 of table inet blocker has type ipv4_addr flags "interval,timeout" instead of ipv4_addr flags "timeout"',
      'set v6 of table inet blocker has type ipv6_addr flags "interval,timeout" instead of ipv6_addr flags "timeout"',
    ]);
    expect(v.repairs).toContain('set v4net of table inet blocker is missing');
    expect(v.repairs).toContain('counter dropped_v4 of table inet blocker is missing');
    expect(v.repairs).toContain('the rules of chain input in table inet blocker were changed');
  });

  it('ignores other tables and refuses output that is not JSON', () => {
    const doc = JSON.parse(fixture('nft-healthy.json')) as { nftables: unknown[] };
    doc.nftables.push({ chain: { family: 'inet', table: 'other', name: 'x', type: 'filter', hook: 'input', prio: 0, policy: 'drop' } });
    expect(readNftTable(JSON.stringify(doc), o).rebuild).toEqual([]);
    expect(() => readNftTable('Error: oops', o)).toThrow(/not JSON/);
  });

  it('hands on an element of the wrong family (an IPv4-mapped address in v6) with its set\'s family, for the comparison to refuse', () => {
    const doc = JSON.parse(fixture('nft-healthy.json')) as { nftables: Array<{ set?: { name: string; elem?: unknown[] } }> };
    doc.nftables.find((x) => x.set?.name === 'v6')!.set!.elem!.push('::ffff:198.51.100.9');
    const v = readNftTable(JSON.stringify(doc), o);
    expect([...v.members].find((m) => m.text === '::ffff:198.51.100.9')).toEqual({ set: 'v6', family: 6, text: '::ffff:198.51.100.9', remainingMs: null });
  });
});
