import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FirewallEntry } from '../../src/firewall/backend.js';
import type { Mirror } from '../../src/firewall/mirror.js';
import { declareLines, type NftOptions } from '../../src/firewall/nftables-script.js';
import { readNftTable, type NftView } from '../../src/firewall/nftables-state.js';
import { createNftablesBackend, type NftIo } from '../../src/firewall/nftables.js';
import { parseCidr } from '../../src/net/address.js';

const o: NftOptions = { table: 'blocker', priority: -10, action: 'drop', forwardHook: false };
const e = (s: string, ttlMs: number | null): FirewallEntry => ({ net: parseCidr(s)!, ttlMs });
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** The nft backend against a stand-in kernel: `view` is what a read returns, scripts are recorded. */
function fake(view: () => NftView | null, fail = false) {
  const scripts: string[] = [];
  const io: NftIo = {
    async check() {},
    async read(_o: NftOptions, _m: Mirror) {
      return view();
    },
    async run(script) {
      scripts.push(script);
      if (fail) throw new Error('nft failed: boom');
    },
    async exists() {
      return true;
    },
  };
  return { io, scripts };
}

const healthy = [e('198.51.100.7', 3_600_000), e('198.51.100.8', null), e('203.0.113.0/24', 7_200_000), e('2001:db8::5', 600_000), e('2001:db8:1::/48', null)];

describe('nftables backend', () => {
  it('creates everything in one transaction when the table is missing', async () => {
    const f = fake(() => null);
    const b = createNftablesBackend(o, f.io);
    const r = await b.reconcile(healthy);
    expect(r).toEqual({ added: 5, removed: 0, refreshed: 0, recreated: true, repairs: ['table inet blocker was missing'] });
    expect(f.scripts.length).toBe(1);
    const lines = f.scripts[0]!.trim().split('\n');
    expect(lines.slice(0, declareLines(o).length)).toEqual(declareLines(o));
    expect(lines).toContain('add element inet blocker v4 { 198.51.100.7 timeout 3600s, 198.51.100.8 }');
    expect(lines).toContain('add element inet blocker v6net { 2001:db8:1::/48 }');
  });

  it('runs nothing when the kernel already matches the database', async () => {
    const f = fake(() => readNftTable(fixture('nft-healthy.json'), o));
    const r = await createNftablesBackend(o, f.io).reconcile(healthy);
    expect(r).toEqual({ added: 0, removed: 0, refreshed: 0, recreated: false, repairs: [] });
    expect(f.scripts).toEqual([]);
  });

  it('fixes members, timeouts and rules, and rebuilds a table it cannot fix in place', async () => {
    const f = fake(() => readNftTable(fixture('nft-damaged.json'), o));
    const r = await createNftablesBackend(o, f.io).reconcile([...healthy.slice(1), e('198.51.100.7', 60_000)]);
    // The foreign counter needs the table rebuilt; the rest is counted all the same.
    expect(r.recreated).toBe(true);
    expect(r.repairs).toContain('table inet blocker holds a counter "extra" that blocker does not create');
    expect(r.repairs).toContain('set v4net held 1 element(s) that are not addresses or networks of its family');
    expect(r).toMatchObject({ added: 2, removed: 2, refreshed: 1 });
    const lines = f.scripts[0]!.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['add table inet blocker', 'delete table inet blocker']);
    expect(lines).toContain('add element inet blocker v4 { 198.51.100.8, 198.51.100.7 timeout 60s }');
  });

  it('without a rebuild: flushes a set with foreign elements, removes unknown members, re-adds missing ones', async () => {
    const doc = JSON.parse(fixture('nft-damaged.json')) as { nftables: Array<Record<string, { name?: string }>> };
    doc.nftables = doc.nftables.filter((x) => x.counter?.name !== 'extra');
    const f = fake(() => readNftTable(JSON.stringify(doc), o));
    const r = await createNftablesBackend(o, f.io).reconcile(healthy);
    expect(r).toMatchObject({ added: 2, removed: 2, refreshed: 0, recreated: true });
    const lines = f.scripts[0]!.trim().split('\n');
    expect(lines).toContain('flush set inet blocker v4net');
    expect(lines).toContain('delete element inet blocker v4 { 192.0.2.99 }');
    expect(lines).toContain('add element inet blocker v6 { 2001:db8::5 timeout 600s }');
    expect(lines).toContain('add element inet blocker v4net { 203.0.113.0/24 timeout 7200s }');
    expect(lines).toContain('flush chain inet blocker input');
    expect(lines.join('\n')).not.toMatch(/delete table/);
  });

  it('adds plainly what it knows the kernel lacks, and resets the rest', async () => {
    const f = fake(() => null);
    const before = createNftablesBackend(o, f.io);
    before.add(e('198.51.100.20', 1000));
    await before.commit();
    // Nothing known yet (a CLI process): the element may exist with an old timeout.
    expect(f.scripts[0]).toContain('delete element inet blocker v4 { 198.51.100.20 }');

    const b = createNftablesBackend(o, f.io);
    await b.reconcile([e('198.51.100.7', 60_000)]);
    b.add(e('198.51.100.9', 60_000));
    b.add(e('198.51.100.7', 120_000));
    b.remove(parseCidr('2001:db8::1')!);
    await b.commit();
    const lines = f.scripts.at(-1)!.trim().split('\n').slice(declareLines(o).length);
    expect(lines).toEqual([
      'add element inet blocker v6 { 2001:db8::1 }',
      'delete element inet blocker v6 { 2001:db8::1 }',
      'add element inet blocker v4 { 198.51.100.7 }',
      'delete element inet blocker v4 { 198.51.100.7 }',
      'add element inet blocker v4 { 198.51.100.7 timeout 120s }',
      'add element inet blocker v4 { 198.51.100.9 timeout 60s }',
    ]);
    await b.commit();
    expect(f.scripts.length).toBe(3);
  });

  it('trusts nothing after a failed transaction, and drops the failed batch', async () => {
    let fail = false;
    const scripts: string[] = [];
    const io: NftIo = {
      async check() {},
      async read() {
        return null;
      },
      async run(s) {
        scripts.push(s);
        if (fail) throw new Error('nft failed');
      },
      async exists() {
        return false;
      },
    };
    const b = createNftablesBackend(o, io);
    await b.reconcile([]);
    fail = true;
    b.add(e('198.51.100.9', 60_000));
    await expect(b.commit()).rejects.toThrow('nft failed');
    fail = false;
    await b.commit();
    expect(scripts.length).toBe(2);
    b.add(e('198.51.100.10', 60_000));
    await b.commit();
    expect(scripts[2]).toContain('delete element inet blocker v4 { 198.51.100.10 }');
  });

  it('reads the kernel before it asks for the wanted members, so a ban recorded meanwhile is not removed', async () => {
    const order: string[] = [];
    const io: NftIo = {
      async check() {},
      async read() {
        order.push('read kernel');
        return readNftTable(fixture('nft-healthy.json'), o);
      },
      async run() {
        order.push('run');
      },
      async exists() {
        return true;
      },
    };
    await createNftablesBackend(o, io).reconcile(() => {
      order.push('read database');
      return healthy;
    });
    expect(order).toEqual(['read kernel', 'read database']);
  });

  it('flush removes our table whether or not it exists, and says what it removed', async () => {
    const f = fake(() => null);
    const b = createNftablesBackend(o, f.io);
    expect(await b.flush()).toEqual({ removed: ['nftables table inet blocker (its sets, counters, chains and rules)'] });
    expect(f.scripts).toEqual(['add table inet blocker\ndelete table inet blocker\n']);
  });
});
