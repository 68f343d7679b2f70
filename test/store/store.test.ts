import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseCidr, parseIp } from '../../src/net/address.js';
import { openStore, type Store } from '../../src/store/store.js';

const open: Store[] = [];
function tempStore(): { store: Store; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'blocker-store-')), 'state', 'blocker.db');
  const store = openStore(file);
  open.push(store);
  return { store, file };
}
afterEach(() => {
  for (const s of open.splice(0)) if (s.db.open) s.close();
});

const ip = (s: string) => parseIp(s)!;
const net = (s: string) => parseCidr(s)!;

describe('store', () => {
  it('creates the file, uses WAL and records each migration once', () => {
    const { store, file } = tempStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions[0]).toBe(1);
    store.close();
    const again = openStore(file);
    open.push(again);
    expect(again.db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(versions);
  });

  it('records failures and forgets them by address or network', () => {
    const { store } = tempStore();
    store.transaction(() =>
      store.failures.record([
        { ip: ip('198.51.100.1'), at: 1000, source: 'nginx', reason: 'EOF' },
        { ip: ip('198.51.100.1'), at: 2000, source: 'nginx', reason: 'EOF' },
        { ip: ip('198.51.100.2'), at: 3000, source: 'go', reason: 'EOF' },
        { ip: ip('2001:db8::5'), at: 4000, source: 'go', reason: 'EOF' },
      ]),
    );
    expect(store.failures.since(2000).map((f) => f.ip.text)).toEqual(['198.51.100.1', '198.51.100.2', '2001:db8::5']);
    expect(store.failures.forget(net('198.51.100.1'))).toBe(2);
    expect(store.failures.forget(net('2001:db8::/32'))).toBe(1);
    expect(store.failures.countFor(ip('198.51.100.2'))).toBe(1);
    expect(store.failures.pruneBefore(5000)).toBe(1);
  });

  it('keeps one active ban per entry, expires and lifts them', () => {
    const { store } = tempStore();
    const a = store.bans.record({ ip: net('198.51.100.1'), reason: 'r', failures: 5, origin: 'auto', bannedAt: 0, expiresAt: 1000 });
    store.bans.record({ ip: net('198.51.100.0/24'), reason: 'm', failures: 0, origin: 'manual', bannedAt: 0, expiresAt: null });
    store.bans.record({ ip: net('2001:db8::1'), reason: 'r', failures: 5, origin: 'auto', bannedAt: 0, expiresAt: 5000 });
    // Re-banning the same entry replaces the earlier row instead of adding a second active one.
    store.bans.record({ ip: net('2001:db8::1'), reason: 'r2', failures: 6, origin: 'auto', bannedAt: 10, expiresAt: 6000 });
    expect(store.bans.active(500).map((b) => b.ip.text)).toEqual(['198.51.100.1', '198.51.100.0/24', '2001:db8::1']);
    // What the firewall needs of the same bans: entry and end, no more.
    expect(store.bans.targets(500).map((b) => [b.ip.text, b.expiresAt])).toEqual([
      ['198.51.100.1', 1000],
      ['198.51.100.0/24', null],
      ['2001:db8::1', 6000],
    ]);
    expect(store.bans.targets(1000).map((b) => b.ip.text)).toEqual(['198.51.100.0/24', '2001:db8::1']);
    expect(store.bans.activeFor(net('2001:db8::1'))?.reason).toBe('r2');
    expect(store.bans.expire(1000).map((b) => b.id)).toEqual([a.id]);
    expect(store.bans.active(1000).map((b) => b.ip.text)).toEqual(['198.51.100.0/24', '2001:db8::1']);
    store.bans.unban(store.bans.activeFor(net('198.51.100.0/24'))!, 2000);
    expect(store.bans.active(2000).map((b) => b.ip.text)).toEqual(['2001:db8::1']);
    expect(store.bans.lastBanEnds().get('198.51.100.1')).toBe(1000);
  });

  it('hands the firewall the entries it parsed before, and what another process wrote anew', () => {
    const { store, file } = tempStore();
    const banned = net('2001:db8::7');
    store.bans.record({ ip: banned, reason: 'r', failures: 5, origin: 'auto', bannedAt: 0, expiresAt: 5000 });
    const first = store.bans.targets(0);
    // The recorded entry itself: the minute reconcile parses no entry it has seen.
    expect(first[0]!.ip).toBe(banned);
    // Another process (a CLI ban) writes a row this repo never recorded: it is parsed, and kept for next time.
    const other = openStore(file);
    other.bans.record({ ip: net('198.51.100.0/24'), reason: 'm', failures: 0, origin: 'manual', bannedAt: 1, expiresAt: null });
    other.close();
    const second = store.bans.targets(0);
    expect(second.map((b) => b.ip.text)).toEqual(['2001:db8::7', '198.51.100.0/24']);
    expect(second[0]!.ip).toBe(banned);
    expect(second[1]!.ip.prefix).toBe(24);
    expect(store.bans.targets(0)[1]!.ip).toBe(second[1]!.ip);
    // An entry no longer in force is dropped from what is kept.
    store.bans.unban(store.bans.activeFor(banned)!, 2);
    expect(store.bans.targets(3).map((b) => b.ip.text)).toEqual(['198.51.100.0/24']);
  });

  it('saves and reads positions', () => {
    const { store } = tempStore();
    expect(store.offsets.get('nginx')).toBeNull();
    const pos = { path: '/var/log/x', dev: 1, ino: 2, offset: 300, fingerprint: '64:ab' };
    store.offsets.save('nginx', pos, 1);
    store.offsets.save('nginx', { ...pos, offset: 400 }, 2);
    expect(store.offsets.get('nginx')).toEqual({ ...pos, offset: 400 });
  });

  it('passes admin events to the daemon in order', () => {
    const { store } = tempStore();
    const start = store.adminEvents.lastId();
    store.adminEvents.post('unban', net('198.51.100.1'), 1);
    store.adminEvents.post('ban', net('2001:db8::/64'), 2);
    expect(store.adminEvents.after(start).map((e) => `${e.kind} ${e.ip.text}`)).toEqual(['unban 198.51.100.1', 'ban 2001:db8::/64']);
  });

  it('refuses a file that is not a database with advice, not a stack', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'blocker-store-')), 'bad.db');
    writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => openStore(file)).toThrow(UserError);
    expect(() => openStore(file)).toThrow(/not a usable SQLite database: move it aside/);
  });
});
