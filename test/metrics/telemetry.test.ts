import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { Telemetry } from '../../src/metrics/telemetry.js';
import { parseCidr } from '../../src/net/address.js';
import { banManually, unban } from '../../src/pipeline/admin.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { guardEvents } from '../../src/pipeline/daemon-events.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { statusHeartbeat } from '../../src/status/heartbeat.js';
import { daemonStatusRepo } from '../../src/store/daemon-status.js';
import { openStore, type Store } from '../../src/store/store.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const go = (ip: string, reason: string) => `http: TLS handshake error from ${ip}:4433: ${reason}\n`;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-metrics-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'app.log');
  writeFileSync(
    log,
    go('[2001:db8::1]', 'EOF') +
      go('[2001:db8::1]', 'EOF') +
      'ordinary noise\n' +
      go('[2001:db8::1]', 'EOF') +
      go('198.51.100.7', 'remote error: tls: bad certificate') +
      'http: TLS handshake error from 999.1.1.1:4433: EOF\n',
  );
  const cfg = parseConfig(
    {
      database: join(dir, 'blocker.db'),
      firewall: { backend: 'dry-run' },
      sources: [{ name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' }],
      policy: { maxRetry: 3 },
    },
    'test',
  );
  const store: Store = openStore(cfg.database);
  cleanup.push(() => store.close());
  const lines: string[] = [];
  const logger = createLogger((l) => lines.push(l), 'debug');
  const telemetry = new Telemetry(store, { version: '9.9.9', backend: 'dry-run', sources: cfg.sources, now: Date.now() });
  const heartbeat = statusHeartbeat(store, () => telemetry.snapshot(), { version: '9.9.9', startedAt: Date.now(), log: logger, pid: 4242, host: 'test-host' });
  const backend = createDryRunBackend('blocker', () => {});
  const daemon = new Daemon({
    store,
    backend,
    rules: policyRules(cfg),
    sources: cfg.sources,
    log: logger,
    clock: Date.now,
    sourceContext: { file: { fsEvents: false, scanMs: 0, rotateGraceMs: 30 } },
    events: guardEvents([telemetry, heartbeat], logger),
  });
  return { dir, cfg, store, telemetry, daemon, backend, lines };
}

async function serve(t: Telemetry): Promise<MetricsServer> {
  const server = await startMetricsServer('127.0.0.1:0', t.registry);
  cleanup.push(() => server.close());
  return server;
}

describe('telemetry and the metrics endpoint', () => {
  it('counts failures per source, format and cause, also when a reload changed a source\'s format', async () => {
    const { store } = await setup();
    const t = new Telemetry(store, { version: '1', backend: 'dry-run', sources: [{ name: 'app', format: 'go' }], now: 0 });
    t.failure('app', 'go', 'eof');
    t.failure('app', 'go', 'eof');
    t.failure('app', 'go', 'sni');
    t.failure('app', 'nginx', 'eof');
    t.failure('web', 'nginx', 'eof');
    t.failure('app', 'go', 'eof');
    const text = t.registry.render();
    expect(text).toContain('blocker_failures_total{source="app",format="go",cause="eof"} 3\n');
    expect(text).toContain('blocker_failures_total{source="app",format="go",cause="sni"} 1\n');
    expect(text).toContain('blocker_failures_total{source="app",format="nginx",cause="eof"} 1\n');
    expect(text).toContain('blocker_failures_total{source="web",format="nginx",cause="eof"} 1\n');
    expect(t.snapshot().sources.app!.failures).toBe(5);
    expect(t.snapshot().sources.web!.failures).toBe(1);
  });

  it('counts lines, failures by cause and format, bans, and reads active bans and the breaker at scrape time', async () => {
    const { daemon, telemetry } = await setup();
    await daemon.tick();
    const server = await serve(telemetry);
    const res = await fetch(`http://${server.address}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('blocker_lines_read_total{source="app"} 6\n');
    expect(text).toContain('blocker_failures_total{source="app",format="go",cause="eof"} 3\n');
    expect(text).toContain('blocker_failures_total{source="app",format="go",cause="cert-rejected"} 1\n');
    expect(text).toContain('blocker_failures_total{source="app",format="go",cause="sni"} 0\n');
    expect(text).toContain('blocker_unparsable_lines_total{source="app",format="go"} 1\n');
    expect(text).toContain('blocker_bans_total{origin="auto"} 1\n');
    expect(text).toContain('blocker_bans_total{origin="manual"} 0\n');
    expect(text).toContain('blocker_active_bans{origin="auto",kind="address"} 1\n');
    expect(text).toContain('blocker_active_bans{origin="manual",kind="network"} 0\n');
    expect(text).toContain('blocker_breaker_tripped 0\n');
    expect(text).toContain('blocker_firewall_syncs_total 1\n');
    expect(text).toContain('blocker_firewall_errors_total 0\n');
    expect(text).toContain('blocker_source_errors_total{source="app"} 0\n');
    expect(text).toContain('blocker_build_info{version="9.9.9"} 1\n');
    expect(text).toMatch(/^blocker_last_tick_timestamp_seconds \d{10}$/m);
  });

  it('counts manual bans and unbans as the daemon picks them up', async () => {
    const { daemon, telemetry, store, backend } = await setup();
    await daemon.tick();
    const now = Date.now();
    await banManually(store, backend, parseCidr('203.0.113.0/24')!, { durationMs: 60_000, now, protect: [] });
    await unban(store, backend, parseCidr('2001:db8::1')!, now + 1);
    await daemon.tick();
    const text = telemetry.registry.render();
    expect(text).toContain('blocker_bans_total{origin="manual"} 1\n');
    expect(text).toContain('blocker_unbans_total{why="manual"} 1\n');
    expect(text).toContain('blocker_active_bans{origin="manual",kind="network"} 1\n');
    expect(text).toContain('blocker_active_bans{origin="auto",kind="address"} 0\n');
  });

  it('answers 404 elsewhere, 405 to other methods, and HEAD without a body', async () => {
    const { telemetry } = await setup();
    const server = await serve(telemetry);
    expect((await fetch(`http://${server.address}/nope`)).status).toBe(404);
    expect((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`http://${server.address}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses a port in use with a message saying what to do', async () => {
    const { telemetry } = await setup();
    const server = await serve(telemetry);
    await expect(startMetricsServer(server.address, telemetry.registry)).rejects.toThrow(
      /cannot serve metrics on 127\.0\.0\.1:\d+: another program uses that port: change metrics.listen/,
    );
  });

  it('writes the status heartbeat with the per-source counts, and marks a clean stop', async () => {
    const { daemon, store } = await setup();
    await daemon.tick();
    const row = daemonStatusRepo(store.db).get()!;
    expect(row).toMatchObject({ pid: 4242, host: 'test-host', version: '9.9.9', stoppedAt: null });
    const report = row.report as { sources: Record<string, { lines: number; failures: number; unparsable: number }>; bans: { auto: number } };
    expect(report.sources.app).toMatchObject({ lines: 6, failures: 4, unparsable: 1 });
    expect(report.bans.auto).toBe(1);
    daemon.stop();
    await daemon.run();
    expect(daemonStatusRepo(store.db).get()!.stoppedAt).toEqual(expect.any(Number));
  });
});
