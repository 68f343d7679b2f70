import { statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { statusCommand, type Status } from '../../src/cli/status.js';
import { daemonStatusRepo } from '../../src/store/daemon-status.js';
import { ban, capture, failure, HOUR, MIN, NOW, withStore, workspace } from './fixture.js';
import { cli } from './run.js';

async function status(config: string, json: boolean) {
  const c = capture();
  const code = await statusCommand({ config, json }, c.io, NOW);
  return { code, out: c.out };
}

const report = {
  startedAt: NOW - 3 * HOUR,
  lastTickAt: NOW - 1000,
  sources: {
    nginx: { lines: 1200, failures: 40, unparsable: 1, lastLineAt: NOW - 2000, errors: 0, lastError: null, lastErrorAt: null, failing: false },
  },
  firewall: {
    backend: 'nftables',
    lastSyncAt: NOW - 3 * HOUR,
    errors: 0,
    lastError: null,
    lastErrorAt: null,
    failing: false,
    lastReconcile: { at: NOW - 30_000, added: 2, removed: 1, refreshed: 0, recreated: false },
  },
  bans: { auto: 3, manual: 0 },
  unbans: { expired: 1, replaced: 0, manual: 0 },
};

/** A database as a daemon that has been running for 3 hours leaves it. */
function running(heartbeatAt = NOW - 2000, stoppedAt: number | null = null) {
  const w = workspace();
  // The source's file: 1000 bytes, read up to 600.
  writeFileSync(w.log, 'x'.repeat(1000));
  const st = statSync(w.log);
  withStore(w.db, (s) => {
    s.failures.record([
      failure('198.51.100.7', NOW - 2 * MIN, 'bad key share'),
      failure('198.51.100.7', NOW - 3 * MIN, 'bad key share'),
      failure('198.51.100.8', NOW - 4 * MIN, 'EOF'),
      failure('198.51.100.9', NOW - 5 * MIN, 'remote error: tls: bad certificate'),
      failure('198.51.100.9', NOW - 50 * MIN, 'EOF'), // outside the 10m window
    ]);
    s.offsets.save('nginx', { path: w.log, dev: st.dev, ino: st.ino, offset: 600, fingerprint: 'f' }, NOW - 2000);
    s.bans.record(ban('198.51.100.7', NOW - 20 * MIN));
    s.bans.record(ban('2001:db8::/64', NOW - 10 * MIN, { expiresAt: null }));
    s.bans.record(ban('203.0.113.5', NOW - 30 * MIN, { origin: 'manual', reason: 'manual', failures: 0 }));
    const old = s.bans.record(ban('192.0.2.1', NOW - 2 * HOUR));
    s.bans.unban(old, NOW - 40 * MIN);
    s.diagnoses.record({
      kind: 'proxy-protocol',
      subject: '198.51.100.1',
      message: 'a proxy in front of this server is probably sending PROXY protocol',
      evidence: { share: 1 },
      at: NOW - 15 * MIN,
    });
    s.diagnoses.saveBreaker({ tripped: false, since: NOW - 2 * HOUR, endedAt: NOW - 90 * MIN, held: 17, evidence: { addresses: 420 }, updatedAt: NOW - 90 * MIN });
    daemonStatusRepo(s.db).save({
      pid: process.pid,
      host: hostname(),
      version: '0.1.0',
      startedAt: NOW - 3 * HOUR,
      heartbeatAt,
      stoppedAt,
      report,
    });
  });
  return w;
}

describe('blocker status', () => {
  it('--json: daemon, sources with lag, failures by cause in the stored window, bans, breaker, diagnoses, firewall', async () => {
    const { config, log } = running();
    const { code, out } = await status(config, true);
    expect(code).toBe(0);
    const st = JSON.parse(out) as Status;
    expect(st.daemon).toMatchObject({ state: 'running', pid: process.pid, version: '0.1.0', startedAt: '2026-11-01T09:00:00.000Z' });
    expect(st.sources).toEqual([
      {
        name: 'nginx',
        type: 'file',
        format: 'nginx',
        files: [{ path: log, offset: 600, lagBytes: 400, note: null, positionSavedAt: '2026-11-01T11:59:58.000Z' }],
        cursorSavedAt: null,
        lastLineAt: '2026-11-01T11:59:58.000Z',
        lastFailureAt: '2026-11-01T11:58:00.000Z',
        lines: 1200,
        failures: 40,
        errors: 0,
        lastError: null,
        failing: false,
      },
    ]);
    expect(st.failures).toEqual({
      windowMs: 600_000,
      total: 4,
      byCause: { eof: 1, 'bad-key-share': 2, 'protocol-mismatch': 0, 'version-or-cipher': 0, 'cert-rejected': 1, sni: 0, other: 0 },
      bySource: { nginx: 4 },
    });
    expect(st.bans).toEqual({ active: 3, auto: 2, manual: 1, networks: 1, permanent: 1, issuedLastHour: 3, endedLastHour: 1 });
    expect(st.breaker).toMatchObject({ enabled: true, tripped: false, held: 17, endedAt: '2026-11-01T10:30:00.000Z' });
    expect(st.diagnoses).toEqual([
      expect.objectContaining({ kind: 'proxy-protocol', subject: '198.51.100.1', count: 1, lastAt: '2026-11-01T11:45:00.000Z' }),
    ]);
    expect(st.firewall).toEqual({
      backend: 'dry-run',
      table: 'blocker',
      failing: false,
      errors: 0,
      lastError: null,
      lastErrorAt: null,
      lastSyncAt: '2026-11-01T09:00:00.000Z',
      lastReconcile: { at: '2026-11-01T11:59:30.000Z', added: 2, removed: 1, refreshed: 0, recreated: false },
    });
    expect(st.notRecorded).toEqual([]);
  });

  it('prints the same for a person, short and aligned', async () => {
    const { config } = running();
    const { out } = await status(config, false);
    const lines = out.split('\n');
    expect(lines[0]).toBe(`daemon     running  pid ${process.pid} on ${hostname()}, up 3h, last seen 2s ago (v0.1.0)`);
    expect(out).toContain('firewall   dry-run (table inet blocker)  ok, last full sync 3h ago; last reconcile 30s ago: 2 added, 1 removed, 0 refreshed\n');
    expect(out).toContain('bans       3 active bans (2 auto, 1 manual; 1 network, 1 permanent); last hour: 3 issued, 1 ended\n');
    expect(out).toContain('breaker    off; last storm 2h ago, ended 1h30m ago, 17 bans held back\n');
    expect(out).toContain('failures in the last 10m: 4  (bad-key-share 2, eof 1, cert-rejected 1) [older ones are pruned after policy.findTime]\n');
    expect(out).toMatch(/^SOURCE\s+TYPE\s+FORMAT\s+LAST LINE\s+LAST FAILURE\s+LAG\s+LINES\s+FAILURES\s+ERRORS$/m);
    expect(out).toMatch(/^nginx\s+file\s+nginx\s+2s ago\s+2m ago\s+400 B\s+1200\s+40\s+0$/m);
    expect(out).toContain('  proxy-protocol 198.51.100.1: a proxy in front of this server is probably sending PROXY protocol (1 time, last 15m ago)');
  });

  it('tells a stopped daemon from one that stopped answering', async () => {
    const stopped = JSON.parse((await status(running(NOW - HOUR, NOW - HOUR).config, true)).out) as Status;
    expect(stopped.daemon).toMatchObject({ state: 'stopped', stoppedAt: '2026-11-01T11:00:00.000Z' });
    const stale = await status(running(NOW - 5 * MIN).config, false);
    expect(stale.out.split('\n')[0]).toBe(`daemon     not responding: last seen 5m ago (pid ${process.pid} on ${hostname()}); check \`systemctl status blocker\``);
  });

  it('says what it cannot show: a source that is failing, no reconcile reported yet', async () => {
    const w = workspace();
    withStore(w.db, (s) =>
      daemonStatusRepo(s.db).save({
        pid: process.pid, host: hostname(), version: '0.1.0', startedAt: NOW - MIN, heartbeatAt: NOW - 1000, stoppedAt: null,
        report: {
          ...report,
          sources: { nginx: { ...report.sources.nginx, errors: 3, failing: true, lastError: 'EACCES: permission denied' } },
          firewall: { ...report.firewall, failing: true, errors: 1, lastError: 'nft was refused', lastErrorAt: NOW - 5000, lastReconcile: null },
        },
      }),
    );
    const { out } = await status(w.config, false);
    expect(out).toContain('dry-run (table inet blocker)  failing: nft was refused (5s ago)');
    expect(out).toMatch(/^nginx\s+file\s+nginx.*3: EACCES: permission denied$/m);
    expect(out).toContain('  - the last reconcile of kernel and database: shown once the firewall backend reports one');
  });

  it('works before the daemon ever ran: no database, exit 0, nothing created', async () => {
    const { config, db } = workspace();
    const r = await cli('status', '-c', config, '--json');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Status;
    expect(st.database).toEqual({ path: db, found: false });
    expect(st.daemon.state).toBe('never started');
    expect(st.sources.map((s) => [s.name, s.files, s.lines])).toEqual([['nginx', [], null]]);
    const human = await cli('status', '-c', config);
    expect(human.out).toContain('daemon     never started with this database\n');
    expect(human.out).toContain(`database   ${db} (not created yet)\n`);
    expect(() => statSync(db)).toThrow(/ENOENT/);
  });

  it('a config error is exit 2', async () => {
    const { dir } = workspace();
    writeFileSync(`${dir}/bad.yaml`, 'policy: { maxRetry: zero }\n');
    const r = await cli('status', '-c', `${dir}/bad.yaml`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^blocker: invalid config .*bad\.yaml:\n  policy\.maxRetry: /);
  });
});
