import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from '../../src/net/address.js';
import type { StoredFailure } from '../../src/store/failures.js';
import { reportsRepo } from '../../src/store/reports.js';
import { openStore, type Store } from '../../src/store/store.js';

/** Migration 0005: the live path's indexes, and the by-address questions that now scan. */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-lean-'));
  const store = openStore(join(dir, 'blocker.db'));
  cleanups.push(() => {
    if (store.db.open) store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const ip = (s: string) => parseIp(s)!;
const net = (s: string) => parseCidr(s)!;
const plan = (store: Store, sql: string, ...args: unknown[]) =>
  (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');

describe('lean indexes (migration 0005)', () => {
  it('keeps no index by address on failures, only the one by time', () => {
    const store = tempStore();
    const indexes = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'failures'`).pluck().all();
    expect(indexes).toEqual(['failures_at']);
  });

  it('expires bans and finds network bans through the active rows only', () => {
    const store = tempStore();
    expect(plan(store, `SELECT * FROM bans WHERE state = 'active' AND expires_at IS NOT NULL AND expires_at <= ?`, 0)).toMatch(
      /USING INDEX bans_active_expiry/,
    );
    expect(plan(store, `SELECT * FROM bans WHERE state = 'active' AND (expires_at IS NULL OR expires_at > ?) ORDER BY banned_at, id`, 0)).toBe(
      'SCAN bans USING INDEX bans_active_age',
    );
    store.bans.record({ ip: net('198.51.100.1'), reason: 'r', failures: 5, origin: 'auto', bannedAt: 0, expiresAt: 1000 });
    store.bans.record({ ip: net('198.51.100.0/24'), reason: 'm', failures: 0, origin: 'manual', bannedAt: 1, expiresAt: null });
    store.bans.record({ ip: net('2001:db8::/64'), reason: 'p', failures: 5, origin: 'auto', bannedAt: 2, expiresAt: 500 });
    expect(store.bans.activeNetworks(100).map((b) => b.ip.text).sort()).toEqual(['198.51.100.0/24', '2001:db8::/64']);
    expect(store.bans.activeNetworks(600).map((b) => b.ip.text)).toEqual(['198.51.100.0/24']);
    expect(store.bans.countInForce(100)).toBe(3);
    expect(store.bans.countInForce(600)).toBe(2);
    expect(store.bans.expire(1000).map((b) => b.ip.text).sort()).toEqual(['198.51.100.1', '2001:db8::/64']);
    expect(store.bans.countInForce(0)).toBe(1);
  });

  it('forgets the failures of a network in one pass, leaving every other address alone', () => {
    const store = tempStore();
    const failures: StoredFailure[] = [];
    for (let i = 0; i < 300; i++) {
      failures.push({ ip: ip(`198.51.${100 + (i % 3)}.${i % 250}`), at: i, source: 's', reason: 'EOF' });
      failures.push({ ip: ip(`2001:db8:${i % 2}::${i.toString(16)}`), at: i, source: 's', reason: 'EOF' });
    }
    store.transaction(() => store.failures.record(failures));
    expect(store.transaction(() => store.failures.forget(net('198.51.101.0/24')))).toBe(100);
    expect(store.transaction(() => store.failures.forget(net('2001:db8:1::/48')))).toBe(150);
    expect(store.transaction(() => store.failures.forget(net('198.51.100.3')))).toBe(1);
    const left = store.db.prepare('SELECT ip FROM failures').pluck().all() as string[];
    expect(left.length).toBe(600 - 100 - 150 - 1);
    expect(left.some((t) => t.startsWith('198.51.101.') || t.startsWith('2001:db8:1:') || t === '198.51.100.3')).toBe(false);
  });

  it('lists the failures inside a network newest first, up to the limit', () => {
    const store = tempStore();
    store.transaction(() =>
      store.failures.record([
        { ip: ip('198.51.100.1'), at: 10, source: 's', reason: 'a' },
        { ip: ip('203.0.113.1'), at: 40, source: 's', reason: 'outside' },
        { ip: ip('198.51.100.2'), at: 30, source: 's', reason: 'b' },
        { ip: ip('198.51.100.1'), at: 20, source: 's', reason: 'c' },
        { ip: ip('198.51.100.3'), at: 5, source: 's', reason: 'd' },
      ]),
    );
    const reports = reportsRepo(store.db);
    expect(reports.failuresWithin(net('198.51.100.0/24'), 10).map((f) => f.reason)).toEqual(['b', 'c', 'a', 'd']);
    expect(reports.failuresWithin(net('198.51.100.0/24'), 2).map((f) => f.reason)).toEqual(['b', 'c']);
    expect(reports.failuresWithin(net('198.51.100.1'), 10).map((f) => f.reason)).toEqual(['c', 'a']);
  });

  it('changes its change mark on a write by this connection or another, and only then', () => {
    const store = tempStore();
    const first = store.changeMark();
    store.bans.countInForce(0);
    expect(store.changeMark()).toBe(first);
    store.bans.record({ ip: net('198.51.100.1'), reason: 'r', failures: 5, origin: 'auto', bannedAt: 0, expiresAt: null });
    const second = store.changeMark();
    expect(second).not.toBe(first);
    const other = openStore(store.db.name);
    other.adminEvents.post('unban', net('198.51.100.1'), 1);
    other.close();
    expect(store.changeMark()).not.toBe(second);
  });
});
