import { describe, expect, it } from 'vitest';
import { historyCommand, type History } from '../../src/cli/history.js';
import { ban, capture, failure, HOUR, MIN, NOW, withStore, workspace } from './fixture.js';
import { cli } from './run.js';

function seeded() {
  const w = workspace();
  withStore(w.db, (s) => {
    const first = s.bans.record(ban('198.51.100.7', NOW - 5 * HOUR, { reason: '5 handshake failures within 10m (last: bad key share)' }));
    void first;
    s.bans.expire(NOW - 4 * HOUR + 1);
    s.bans.record(ban('198.51.100.7', NOW - 5 * MIN, {
      reason: '5 handshake failures within 10m (last: EOF); ban 2 within 30d: 2h',
      expiresAt: NOW + 2 * HOUR - 5 * MIN,
    }));
    s.bans.record(ban('198.51.100.0/24', NOW - 3 * HOUR, { origin: 'manual', reason: 'noisy subnet', failures: 0, expiresAt: NOW - 2 * HOUR }));
    s.bans.expire(NOW);
    s.bans.record(ban('198.51.100.8', NOW - MIN)); // another address: not in 198.51.100.7's history
    s.failures.record([
      failure('198.51.100.7', NOW - 9 * MIN, 'EOF'),
      failure('198.51.100.7', NOW - 8 * MIN, 'EOF'),
      failure('198.51.100.7', NOW - 7 * MIN, 'wrong version number', 'hysteria'),
      failure('198.51.100.8', NOW - 7 * MIN, 'EOF'),
    ]);
    s.diagnoses.record({ kind: 'proxy-protocol', subject: '198.51.100.7', message: 'probably a proxy sending PROXY protocol', evidence: {}, at: NOW - 6 * MIN });
  });
  return w;
}

async function history(config: string, target: string, opts: Record<string, unknown> = {}) {
  const c = capture();
  const code = await historyCommand(target, { config, ...opts }, c.io, NOW);
  return { code, out: c.out };
}

describe('blocker history', () => {
  it('--json: its bans (and the networks around it) with the rule, its stored failures with cause, its diagnoses', async () => {
    const { config } = seeded();
    const h = JSON.parse((await history(config, '198.51.100.7', { json: true })).out) as History;
    expect(h.target).toBe('198.51.100.7');
    expect(h.protectedBy).toBeNull();
    expect(h.bans.map((b) => [b.ip, b.origin, b.cause, b.state, b.bannedAt, b.endedAt])).toEqual([
      ['198.51.100.7', 'auto', 'bad-key-share', 'expired', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z'],
      ['198.51.100.0/24', 'manual', 'manual', 'expired', '2026-11-01T09:00:00.000Z', '2026-11-01T10:00:00.000Z'],
      ['198.51.100.7', 'auto', 'eof', 'active', '2026-11-01T11:55:00.000Z', null],
    ]);
    expect(h.bans[2]!.reason).toBe('5 handshake failures within 10m (last: EOF); ban 2 within 30d: 2h');
    expect(h.failures).toEqual([
      { at: '2026-11-01T11:53:00.000Z', ip: '198.51.100.7', source: 'hysteria', cause: 'protocol-mismatch', reason: 'wrong version number' },
      { at: '2026-11-01T11:52:00.000Z', ip: '198.51.100.7', source: 'nginx', cause: 'eof', reason: 'EOF' },
      { at: '2026-11-01T11:51:00.000Z', ip: '198.51.100.7', source: 'nginx', cause: 'eof', reason: 'EOF' },
    ]);
    expect(h.truncated).toBe(false);
    expect(h.failuresKeptMs).toBe(600_000);
    expect(h.diagnoses).toEqual([expect.objectContaining({ kind: 'proxy-protocol', subject: '198.51.100.7', count: 1 })]);
  });

  it('for a network: every ban and failure inside it', async () => {
    const { config } = seeded();
    const h = JSON.parse((await history(config, '198.51.100.0/24', { json: true })).out) as History;
    expect(h.bans.map((b) => b.ip)).toEqual(['198.51.100.7', '198.51.100.0/24', '198.51.100.7', '198.51.100.8']);
    // Newest first; .7 and .8 failed at the same time, and .8's was recorded last.
    expect(h.failures.map((f) => f.ip)).toEqual(['198.51.100.8', '198.51.100.7', '198.51.100.7', '198.51.100.7']);
  });

  it('prints tables for a person, and --limit cuts the failures', async () => {
    const { config } = seeded();
    const { code, out } = await history(config, '198.51.100.7', { limit: '2' });
    expect(code).toBe(0);
    expect(out).toContain('bans of 198.51.100.7 (and networks around it): 3\n');
    expect(out).toMatch(/^2026-11-01 07:00:00Z\s+198\.51\.100\.7\s+auto\s+bad-key-share\s+1h\s+expired 4h ago\s+5 handshake failures within 10m \(last: bad key share\)$/m);
    expect(out).toMatch(/^2026-11-01 11:55:00Z\s+198\.51\.100\.7\s+auto\s+eof\s+5m\s+in force, ends in 1h55m\s+5 handshake failures/m);
    expect(out).toContain('failures stored: 2+ (newest 2 shown; --limit for more) [kept for policy.findTime, 10m]\n');
    expect(out).toMatch(/^2026-11-01 11:53:00Z\s+198\.51\.100\.7\s+hysteria\s+protocol-mismatch\s+wrong version number$/m);
    expect(out).not.toContain('11:51:00Z');
    expect(out).toContain('  proxy-protocol: probably a proxy sending PROXY protocol (1 time, last 2026-11-01T11:54:00.000Z)');
  });

  it('says when an address is never banned, and works without a database', async () => {
    const { config } = workspace('');
    const r = await cli('history', '-c', config, '127.0.0.1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('127.0.0.1 is never banned: loopback (127.0.0.0/8)\n');
    expect(r.out).toMatch(/^no database yet at .*blocker\.db: nothing recorded$/m);
    const cf = JSON.parse((await cli('history', '-c', config, '172.68.47.133', '--json')).out) as History;
    expect(cf.protectedBy).toEqual({ group: 'cdn:cloudflare', range: expect.stringMatching(/^172\.64\.0\.0\/13$/) });
    expect(cf.bans).toEqual([]);
  });

  it('bad input is exit 2', async () => {
    const { config } = workspace();
    expect(await cli('history', '-c', config, 'not-an-ip')).toMatchObject({ code: 2, err: expect.stringContaining('"not-an-ip" is not an IPv4/IPv6 address or CIDR') });
    expect(await cli('history', '-c', config, '198.51.100.7', '--limit', '0')).toMatchObject({ code: 2, err: expect.stringContaining('--limit: expected a whole number') });
    expect((await cli('history', '-c', config)).code).toBe(2);
  });
});
