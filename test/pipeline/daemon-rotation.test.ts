/**
 * Rotation while lines are being written: a child process appends failure
 * lines (each from an address of its own, so a line counted twice would show)
 * while the daemon follows the file, and the file is rotated the two ways
 * logrotate does it — rename + create with the writer told to reopen (nginx's
 * USR1), and copytruncate — several times. Afterwards the database holds
 * exactly one failure per line written.
 */
import { execa } from 'execa';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore, type Store } from '../../src/store/store.js';

/** Appends numbered lines until SIGTERM; reopens its file on SIGUSR1 (as nginx does); prints the count at exit. */
const WRITER = `
const fs = require('node:fs');
const path = process.argv[1];
let fd = fs.openSync(path, 'a');
let n = 0;
let stop = false;
process.on('SIGUSR1', () => { fs.closeSync(fd); fd = fs.openSync(path, 'a'); });
process.on('SIGTERM', () => { stop = true; });
(function burst() {
  if (stop) { fs.closeSync(fd); process.stdout.write(String(n)); return; }
  let chunk = '';
  for (let i = 0; i < 50; i++, n++) chunk += 'http: TLS handshake error from [2001:db8:' + (n >> 16).toString(16) + ':' + (n & 0xffff).toString(16) + '::1]:443: EOF\\n';
  fs.writeSync(fd, chunk);
  setTimeout(burst, 2);
})();
`;

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) if (s.db.open) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Daemon under rotation while lines are written', () => {
  it('counts every line exactly once through rename+create and copytruncate rotations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-rotate-'));
    dirs.push(dir);
    const log = join(dir, 'error.log');
    const cfg = parseConfig(
      {
        database: join(dir, 'blocker.db'),
        sources: [{ name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' }],
        policy: { maxRetry: 1000, breaker: { enabled: false } },
        firewall: { backend: 'dry-run' },
      },
      'test',
    );
    const store = openStore(cfg.database, { busyTimeoutMs: 50 });
    stores.push(store);
    const logLines: string[] = [];
    const daemon = new Daemon({
      store,
      backend: createDryRunBackend('blocker', () => {}),
      rules: policyRules(cfg),
      sources: cfg.sources,
      log: createLogger((l) => logLines.push(l), 'debug'),
      clock: Date.now,
      pollMs: 50,
      // A rotated file is finished once quiet this long. Long enough that a writer starved of CPU
      // on a loaded machine (vitest runs files side by side) is not taken for one that has moved on.
      sourceContext: { file: { rotateGraceMs: 1500 } },
    });
    const running = daemon.run();
    const writer = execa(process.execPath, ['-e', WRITER, log], { reject: false });
    // Until the writer is up and writing (a loaded machine starts node slowly).
    for (let i = 0; i < 400 && !(existsSync(log) && statSync(log).size > 0); i++) await sleep(25);
    await sleep(200);

    // logrotate "create": rename, create, then the server reopens — a while later, so lines still go to the old file.
    renameSync(log, `${log}.1`);
    await sleep(50);
    writer.kill('SIGUSR1');
    await sleep(300);

    // logrotate "copytruncate": copy, then truncate in place; the writer never reopens.
    // (The writer is paused across the two steps: lines written between them are lost
    // to any reader, which is copytruncate's own gap, not what is tested here.)
    writer.kill('SIGSTOP');
    renameSync(`${log}.1`, `${log}.2`);
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    writer.kill('SIGCONT');
    await sleep(300);

    // And "create" once more, reopening at once.
    renameSync(`${log}.1`, `${log}.3`);
    renameSync(log, `${log}.1`);
    writer.kill('SIGUSR1');
    await sleep(300);

    writer.kill('SIGTERM');
    const written = Number((await writer).stdout);
    expect(written).toBeGreaterThan(1000);
    const counted = () => (store.db.prepare('SELECT count(*) AS n, count(DISTINCT ip) AS ips FROM failures').get() as { n: number; ips: number });
    // Every line counted, and every rotated file finished (quiet for the grace time) …
    const settled = () => counted().n >= written && store.offsets.all('app').length === 1;
    for (let i = 0; i < 400 && !settled(); i++) await sleep(25);
    await sleep(300); // … and nothing more comes
    daemon.stop();
    await running;
    expect(counted(), logLines.filter((l) => !l.startsWith('debug')).join('')).toEqual({ n: written, ips: written });
    expect(logLines.join('')).toMatch(/file was truncated \(copytruncate\?\)/);
    expect(logLines.join('')).toMatch(/file was rotated, finishing the old one/);
    // What is left to remember: the live file only (every rotated one was finished).
    expect(store.offsets.all('app').map((p) => p.path)).toEqual([log]);
  }, 30_000);
});
