import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listCommand } from '../../src/cli/list.js';
import { ban, capture, HOUR, MIN, NOW, withStore, workspace } from './fixture.js';
import { cli } from './run.js';

function seeded() {
  const w = workspace();
  withStore(w.db, (s) => {
    s.bans.record(ban('198.51.100.7', NOW - 30 * MIN, { failures: 9, reason: '9 handshake failures within 10m (last: bad key share)' }));
    s.bans.record(ban('2001:db8:1::5', NOW - 20 * MIN, { failures: 5 }));
    s.bans.record(ban('2001:db8:77:1::/64', NOW - 10 * MIN, {
      failures: 12,
      reason: '5 addresses of 2001:db8:77:1::/64 failed 12 handshakes within 10m (last: 2001:db8:77:1::5, wrong version number); ban 2 within 30d: 2h',
      expiresAt: NOW + 2 * HOUR - 10 * MIN,
    }));
    s.bans.record(ban('203.0.113.0/24', NOW - 5 * MIN, { origin: 'manual', failures: 0, reason: 'manual', expiresAt: null }));
    s.bans.record(ban('192.0.2.1', NOW - 3 * HOUR, { expiresAt: NOW - 2 * HOUR })); // lapsed: not listed
  });
  return w;
}

async function list(config: string, opts: Record<string, unknown> = {}) {
  const c = capture();
  const code = await listCommand({ config, ...opts }, c.io, NOW);
  return { code, out: c.out };
}

describe('blocker list', () => {
  it('prints an aligned table: ip, failures, banned, remaining, rule and cause, oldest ban first', async () => {
    const { config } = seeded();
    const { code, out } = await list(config);
    expect(code).toBe(0);
    expect(out).toBe(
      [
        'IP                  FAILURES  BANNED   REMAINING  RULE                                                                                     CAUSE',
        '198.51.100.7        9         30m ago  in 30m     9 handshake failures within 10m                                                          bad-key-share',
        '2001:db8:1::5       5         20m ago  in 40m     5 handshake failures within 10m                                                          eof',
        '2001:db8:77:1::/64  12        10m ago  in 1h50m   5 addresses of 2001:db8:77:1::/64 failed 12 handshakes within 10m; ban 2 within 30d: 2h  protocol-mismatch',
        '203.0.113.0/24      -         5m ago   forever    manual                                                                                   manual',
        '4 active bans',
        '',
      ].join('\n'),
    );
  });

  it('filters by network (--in), origin and cause, and says how many were shown', async () => {
    const { config } = seeded();
    const v6 = await list(config, { in: '2001:db8::/32' });
    expect(v6.out.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[0])).toEqual(['2001:db8:1::5', '2001:db8:77:1::/64']);
    expect(v6.out).toMatch(/^4 active bans, 2 shown$/m);
    // An address inside a banned network finds the network.
    expect((await list(config, { in: '203.0.113.9', json: true })).out).toContain('"ip": "203.0.113.0/24"');
    expect(JSON.parse((await list(config, { origin: 'manual', json: true })).out).map((b: { ip: string }) => b.ip)).toEqual(['203.0.113.0/24']);
    expect(JSON.parse((await list(config, { cause: 'eof', json: true })).out).map((b: { ip: string }) => b.ip)).toEqual(['2001:db8:1::5']);
    expect((await list(config, { in: '10.0.0.0/8' })).out).toBe('no active bans match (4 bans in force in all)\n');
  });

  it('sorts by ip, remaining, failures or cause, and reverses', async () => {
    const { config } = seeded();
    const ips = async (opts: Record<string, unknown>) => JSON.parse((await list(config, { ...opts, json: true })).out).map((b: { ip: string }) => b.ip);
    expect(await ips({ sort: 'ip' })).toEqual(['198.51.100.7', '203.0.113.0/24', '2001:db8:1::5', '2001:db8:77:1::/64']);
    expect(await ips({ sort: 'remaining' })).toEqual(['198.51.100.7', '2001:db8:1::5', '2001:db8:77:1::/64', '203.0.113.0/24']);
    expect(await ips({ sort: 'failures' })).toEqual(['2001:db8:77:1::/64', '198.51.100.7', '2001:db8:1::5', '203.0.113.0/24']);
    expect(await ips({ sort: 'cause' })).toEqual(['198.51.100.7', '2001:db8:1::5', '203.0.113.0/24', '2001:db8:77:1::/64']);
    expect(await ips({ sort: 'banned', reverse: true })).toEqual(['203.0.113.0/24', '2001:db8:77:1::/64', '2001:db8:1::5', '198.51.100.7']);
  });

  it('--json keeps the shape of the skeleton (plus cause)', async () => {
    const { config } = seeded();
    const rows = JSON.parse((await list(config, { json: true })).out);
    expect(rows[0]).toEqual({
      ip: '198.51.100.7',
      reason: '9 handshake failures within 10m (last: bad key share)',
      failures: 9,
      origin: 'auto',
      bannedAt: '2026-11-01T11:30:00.000Z',
      expiresAt: '2026-11-01T12:30:00.000Z',
      cause: 'bad-key-share',
    });
    expect(rows[3]).toMatchObject({ ip: '203.0.113.0/24', origin: 'manual', expiresAt: null, cause: 'manual' });
  });

  it('through the CLI: no bans, bad --in and bad --sort are usage errors (exit 2)', async () => {
    const { config, db } = workspace();
    expect(await cli('list', '-c', config)).toEqual({ code: 0, out: 'no active bans\n', err: '' });
    expect(existsSync(db)).toBe(false); // read-only: listing never creates the database
    expect(await cli('list', '-c', config, '--json')).toEqual({ code: 0, out: '[]\n', err: '' });
    const bad = await cli('list', '-c', config, '--in', '2001:db8::/200');
    expect(bad).toMatchObject({ code: 2, err: 'blocker: --in: "2001:db8::/200" is not an address or CIDR (e.g. 2001:db8::/32)\n' });
    const sort = await cli('list', '-c', config, '--sort', 'size');
    expect(sort.code).toBe(2);
    expect(sort.err).toMatch(/--sort <key>' argument 'size' is invalid/);
  });
});
