import Database from 'better-sqlite3';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { parseCidr } from '../../src/net/address.js';
import { Daemon, type DaemonOptions } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore, type Store } from '../../src/store/store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) if (s.db.open) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'blocker-daemon-'));
  dirs.push(d);
  return d;
}

/** A Go-style failure line without a timestamp (so it counts at the time it is read), one address per n. */
const failure = (n: number) => `http: TLS handshake error from [2001:db8::${(n + 1).toString(16)}]:4433: EOF\n`;
const failures = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => failure(from + i)).join('');

interface Run {
  daemon: Daemon;
  store: Store;
  log: string[];
  nft: string[];
  cfg: Config;
}

function start(dir: string, doc: Record<string, unknown>, extra: Partial<DaemonOptions> = {}): Run {
  const cfg = parseConfig({ database: join(dir, 'blocker.db'), firewall: { backend: 'dry-run' }, ...doc }, 'test');
  const store = openStore(cfg.database, { busyTimeoutMs: 10 });
  stores.push(store);
  const log: string[] = [];
  const nft: string[] = [];
  const daemon = new Daemon({
    store,
    backend: createDryRunBackend('blocker', (s) => nft.push(s)),
    rules: policyRules(cfg),
    sources: cfg.sources,
    log: createLogger((l) => log.push(l), 'debug'),
    clock: Date.now,
    sourceContext: { file: { fsEvents: false, scanMs: 0, rotateGraceMs: 30 } },
    ...extra,
  });
  return { daemon, store, log, nft, cfg };
}

/** Ticks until `ticks` ticks in a row read nothing, with a pause between, so grace periods can pass. */
async function settle(d: Daemon, quietTicks = 5): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 500 && quiet < quietTicks; i++) {
    const s = await d.tick();
    quiet = s.lines === 0 && !s.more ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, 15));
  }
}

const count = (store: Store) => store.db.prepare('SELECT count(*) AS n, count(DISTINCT ip) AS ips FROM failures').get() as { n: number; ips: number };

describe('Daemon', () => {
  it('counts every line exactly once through rotation while running, a restart, and rotation while stopped', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    const doc = { sources: [{ name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' }], policy: { maxRetry: 1000 } };
    writeFileSync(log, failures(0, 100));
    const first = start(dir, doc);
    await first.daemon.tick();
    // logrotate while the server writes: rename, a few more lines into the old file, then the new one.
    appendFileSync(log, failures(100, 150));
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, failures(150, 160));
    writeFileSync(log, failures(160, 190));
    await first.daemon.tick();
    appendFileSync(`${log}.1`, failures(190, 200));
    await settle(first.daemon);
    expect(count(first.store)).toEqual({ n: 200, ips: 200 });
    // Stopped mid-file: the process is gone without a goodbye (what kill -9 leaves behind).
    first.store.close();
    appendFileSync(log, failures(200, 220));
    renameSync(`${log}.1`, `${log}.2`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, failures(220, 235));
    const second = start(dir, doc);
    await settle(second.daemon);
    expect(count(second.store)).toEqual({ n: 235, ips: 235 });
    expect(second.log.join('')).toMatch(/finishing a file rotated while stopped/);
    // Only the live file's position is left once the rotated one is finished.
    expect(second.store.offsets.all('app').map((p) => p.path)).toEqual([log]);
  });

  it('holds a tick while another process has the database locked, then saves it exactly once', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const run = start(dir, { sources: [{ name: 'app', type: 'file', path: log, format: 'go' }], policy: { maxRetry: 1000 } });
    await run.daemon.tick();
    const other = new Database(run.cfg.database);
    other.exec('BEGIN IMMEDIATE');
    appendFileSync(log, failures(0, 10));
    expect((await run.daemon.tick()).lines).toBe(10);
    appendFileSync(log, failures(10, 15));
    // Nothing new is read while a tick waits for the database.
    expect((await run.daemon.tick()).lines).toBe(0);
    expect(run.log.filter((l) => l.includes('database is locked'))).toHaveLength(1);
    other.exec('ROLLBACK');
    other.close();
    await settle(run.daemon, 2);
    expect(count(run.store)).toEqual({ n: 15, ips: 15 });
  });

  it('keeps the other sources going while one fails, and retries the failing one with backoff', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, failures(0, 5));
    const run = start(
      dir,
      {
        sources: [
          { name: 'journal', type: 'journald', format: 'go', identifiers: ['hysteria'] },
          { name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' },
        ],
        policy: { maxRetry: 1000 },
      },
      { sourceContext: { journalctl: join(dir, 'no-such-journalctl'), file: { fsEvents: false, scanMs: 0 } } },
    );
    await settle(run.daemon);
    appendFileSync(log, failures(5, 8));
    await settle(run.daemon);
    expect(count(run.store).n).toBe(8);
    const errors = run.log.filter((l) => l.startsWith('error source failed'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/source=journal .*not found: install systemd's journalctl.* retryIn=1s/);
  });

  it('logs a file source that cannot be read once, retries it with backoff, and says when it recovers', async () => {
    const dir = tempDir();
    // A path through a regular file cannot be opened (ENOTDIR), whoever runs this, root included.
    const blocker = join(dir, 'logs');
    writeFileSync(blocker, 'not a folder');
    const log = join(blocker, 'app.log');
    let now = Date.now();
    const run = start(
      dir,
      { sources: [{ name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' }], policy: { maxRetry: 1000 } },
      { clock: () => now },
    );
    await run.daemon.tick();
    now += 500;
    await run.daemon.tick(); // still backing off: not tried again, not logged again
    now += 600;
    await run.daemon.tick(); // tried again after 1 s: the same error, logged at debug only
    const failed = run.log.filter((l) => l.includes('source failed'));
    expect(failed.map((l) => l.split(' ')[0])).toEqual(['error', 'debug']);
    expect(failed[0]).toMatch(/source=app error=.*ENOTDIR.* retryIn=1s/);
    expect(failed[1]).toMatch(/retryIn=2s/);
    rmSync(blocker);
    mkdirSync(blocker);
    writeFileSync(log, failures(0, 3));
    now += 2100;
    await run.daemon.tick();
    expect(run.log.some((l) => l.startsWith('info source recovered source=app'))).toBe(true);
    expect(count(run.store).n).toBe(3);
  });

  it('bans at maxRetry, records the ban with the failures and prints it to the firewall', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const run = start(dir, { sources: [{ name: 'app', type: 'file', path: log, format: 'go' }], policy: { maxRetry: 3 } });
    await run.daemon.tick();
    appendFileSync(log, failure(7).repeat(3) + failure(8).repeat(2));
    const stats = await run.daemon.tick();
    expect(stats.bans.map((b) => b.ip.text)).toEqual(['2001:db8::8']);
    expect(run.nft.join('')).toContain('2001:db8::8');
    expect(run.nft.join('')).not.toContain('2001:db8::9');
    expect(run.log.filter((l) => l.startsWith('info ban '))).toHaveLength(1);
  });

  it('prunes failures older than findTime and bans ended over 30 days ago, so the database stays bounded', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const run = start(dir, { sources: [{ name: 'app', type: 'file', path: log, format: 'go' }], policy: { findTime: '10m' } });
    const now = Date.now();
    const ip = (n: number) => ({ family: 6, text: `2001:db8::${n}` }) as never;
    run.store.transaction(() =>
      run.store.failures.record([
        ...Array.from({ length: 30 }, (_, i) => ({ ip: ip(i + 1), at: now - 3_600_000, source: 'app', reason: 'EOF' })),
        { ip: ip(99), at: now - 60_000, source: 'app', reason: 'EOF' },
      ]),
    );
    const day = 86_400_000;
    for (const [i, endedDaysAgo] of [40, 31, 5].entries()) {
      const at = now - endedDaysAgo * day;
      const ip = parseCidr(`198.51.100.${i + 1}`)!;
      run.store.bans.record({ ip, reason: 'r', failures: 5, origin: 'auto', bannedAt: at - 3_600_000, expiresAt: at });
      run.store.bans.expire(at);
    }
    await run.daemon.tick();
    expect(count(run.store).n).toBe(1);
    await run.daemon.tick();
    // Ended bans are kept 30 days (the escalation's rememberFor, when longer), then go too.
    const left = run.store.db.prepare('SELECT ip FROM bans ORDER BY ip').pluck().all();
    expect(left).toEqual(['198.51.100.3']);
  });

  it('reads stdin and returns once the pipe has ended, with every line counted', async () => {
    const dir = tempDir();
    const input = new PassThrough();
    const run = start(
      dir,
      { sources: [{ name: 'pipe', type: 'stdin', format: 'go' }], policy: { maxRetry: 1000 } },
      { sourceContext: { stdin: input } },
    );
    const done = run.daemon.run();
    input.write(failures(0, 500));
    setTimeout(() => input.end(failures(500, 600)), 50);
    await done;
    expect(count(run.store)).toEqual({ n: 600, ips: 600 });
  });

  it('with once, returns when files are read, a pipe has ended and journalctl (without --follow) is done', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, failures(0, 10));
    const journalctl = join(dir, 'journalctl');
    const entries = [20, 21, 22].map((n, i) => JSON.stringify({ __CURSOR: `c${i}`, MESSAGE: failure(n).trimEnd() }));
    writeFileSync(
      journalctl,
      `#!${process.execPath}\nif (process.argv.includes('--follow')) process.exit(3);\nprocess.stdout.write(${JSON.stringify(entries.join('\n') + '\n')});\n`,
    );
    chmodSync(journalctl, 0o755);
    const input = new PassThrough();
    const run = start(
      dir,
      {
        sources: [
          { name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' },
          { name: 'journal', type: 'journald', identifiers: ['x'], format: 'go', readFrom: 'start' },
          { name: 'pipe', type: 'stdin', format: 'go' },
        ],
        policy: { maxRetry: 1000 },
      },
      { sourceContext: { stdin: input, journalctl, file: { fsEvents: false } } },
    );
    const done = run.daemon.run({ once: true });
    setTimeout(() => input.end(failures(30, 35)), 100);
    await done;
    expect(count(run.store).n).toBe(10 + 3 + 5);
    expect(run.store.cursors.get('journal')).toBe('c2');
  });

  it('applies a reloaded config between ticks: new rules, new sources', async () => {
    const dir = tempDir();
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    writeFileSync(a, '');
    const first = { sources: [{ name: 'a', type: 'file', path: a, format: 'go' }], policy: { maxRetry: 1000 } };
    const run = start(dir, first);
    await run.daemon.tick();
    const next = parseConfig(
      { database: run.cfg.database, sources: [...first.sources, { name: 'b', type: 'file', path: b, format: 'go' }], policy: { maxRetry: 2 } },
      'test',
    );
    run.daemon.reload({ rules: policyRules(next), sources: next.sources });
    await run.daemon.tick();
    // b.log appears after start-up: read from its start.
    writeFileSync(b, failure(1).repeat(2));
    appendFileSync(a, failure(2));
    await settle(run.daemon, 2);
    expect(run.store.bans.active(Date.now()).map((x) => x.ip.text)).toEqual(['2001:db8::2']);
    expect(count(run.store).n).toBe(3);
  });

  it('logs a one-line summary at most once per period, and only when something happened', async () => {
    const dir = tempDir();
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    let now = Date.now();
    const run = start(
      dir,
      { sources: [{ name: 'app', type: 'file', path: log, format: 'go' }], policy: { maxRetry: 1000 } },
      { clock: () => now, summaryEveryMs: 60_000 },
    );
    await run.daemon.tick();
    appendFileSync(log, failures(0, 4) + 'not a failure\n');
    await run.daemon.tick();
    now += 61_000;
    await run.daemon.tick();
    now += 61_000;
    await run.daemon.tick();
    const summaries = run.log.filter((l) => l.startsWith('info summary'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatch(/ lines=5 failures=4 bans=0 unbans=0/);
  });
});
