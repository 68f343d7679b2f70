/**
 * `blocker watch` as a process, the way a service manager runs it: signals
 * (SIGTERM, SIGHUP with a good and a bad config), another process holding the
 * database's write lock, and databases it cannot use. Dry-run firewall, so no
 * root is needed; the built CLI is (npm test builds it first).
 */
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CLI } from './netns.js';

const dirs: string[] = [];
const procs: ResultPromise[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'blocker-watch-'));
  dirs.push(d);
  return d;
}

const failure = (n: number) => `http: TLS handshake error from 198.51.100.${n}:4433: EOF\n`;

function writeConfig(dir: string, policy: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const path = join(dir, 'blocker.yaml');
  writeFileSync(
    path,
    YAML.stringify({
      database: join(dir, 'blocker.db'),
      sources: [{ name: 'app', type: 'file', path: join(dir, 'app.log'), format: 'go', readFrom: 'start' }],
      policy: { allow: ['127.0.0.0/8'], cdn: [], ...policy },
      firewall: { backend: 'dry-run' },
      watch: { pollInterval: '50ms' },
      ...extra,
    }),
  );
  return path;
}

function watch(config: string) {
  const p = execa(process.execPath, [CLI, 'watch', '-c', config], { reject: false, stdin: 'ignore', buffer: true, all: true });
  procs.push(p);
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { p, stderr: () => stderr };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000, context = () => ''): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function countFailures(db: string): number {
  if (!existsSync(db)) return -1;
  const h = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (h.prepare('SELECT count(*) AS n FROM failures').get() as { n: number }).n;
  } catch {
    return -1;
  } finally {
    h.close();
  }
}

describe('blocker watch as a process', () => {
  it('stops on SIGTERM within 2 s with exit 0, and a restart goes on exactly where it stopped', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { maxRetry: 1000 });
    const log = join(dir, 'app.log');
    writeFileSync(log, failure(1).repeat(100));
    const first = watch(config);
    await waitFor('100 failures counted', () => countFailures(join(dir, 'blocker.db')) === 100, 5000, first.stderr);
    appendFileSync(log, failure(2).repeat(50));
    await waitFor('150 failures counted', () => countFailures(join(dir, 'blocker.db')) === 150, 5000, first.stderr);
    const t = Date.now();
    first.p.kill('SIGTERM');
    const r = await first.p;
    expect(Date.now() - t).toBeLessThan(2000);
    expect(r.exitCode, first.stderr()).toBe(0);
    expect(first.stderr()).toMatch(/info stopped/);
    appendFileSync(log, failure(3).repeat(25));
    const second = watch(config);
    await waitFor('175 failures counted', () => countFailures(join(dir, 'blocker.db')) === 175, 5000, second.stderr);
    await new Promise((r) => setTimeout(r, 300));
    expect(countFailures(join(dir, 'blocker.db'))).toBe(175);
    second.p.kill('SIGTERM');
    expect((await second.p).exitCode).toBe(0);
  });

  it('stops with exit 0 on a SIGTERM that comes while the `blocker` binary is still loading or starting', async () => {
    // bin.js is what `blocker` runs (package.json bin); loading the program takes a few hundred ms.
    const bin = join(CLI, '..', 'bin.js');
    const dir = tempDir();
    const config = writeConfig(dir, { maxRetry: 1000 });
    writeFileSync(join(dir, 'app.log'), failure(1).repeat(10));
    const start = () => {
      const p = execa(process.execPath, [bin, 'watch', '-c', config], { reject: false, stdin: 'ignore', buffer: true });
      procs.push(p);
      return p;
    };
    // SQLite's native module is loaded near the end of loading the program: how long that takes here.
    const loaded = async (p: ResultPromise) => {
      while (!mapped(p.pid!, 'better_sqlite3.node')) await new Promise((r) => setTimeout(r, 2));
    };
    const probe = start();
    const began = Date.now();
    await loaded(probe);
    const loadMs = Date.now() - began;
    probe.kill('SIGKILL');
    await probe;
    // Half-way and late through loading (Node's own start-up, which no script can answer, is a small
    // part of it), then as the store opens and the daemon starts.
    const stops: { label: string; when: (p: ResultPromise) => Promise<void> }[] = [
      ...[0.5, 0.8].map((f) => ({ label: `${Math.round(f * loadMs)} ms into loading`, when: () => new Promise<void>((r) => setTimeout(r, f * loadMs)) })),
      ...[0, 100, 250].map((ms) => ({ label: `${ms} ms after loading`, when: (p: ResultPromise) => loaded(p).then(() => new Promise<void>((r) => setTimeout(r, ms))) })),
    ];
    for (const { label, when } of stops) {
      const p = start();
      await when(p);
      const t = Date.now();
      p.kill('SIGTERM');
      const r = await p;
      expect(Date.now() - t, label).toBeLessThan(2000);
      expect({ label, exitCode: r.exitCode, signal: r.signal ?? null }, r.stderr).toEqual({ label, exitCode: 0, signal: null });
      expect(r.stderr, label).toMatch(/info stopped/);
    }
  });

  it('on SIGHUP keeps the running config when the new one is invalid, and takes a valid one', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { maxRetry: 1000 });
    writeFileSync(join(dir, 'app.log'), '');
    const w = watch(config);
    await waitFor('the watcher to start', () => /info watching/.test(w.stderr()), 5000, w.stderr);
    writeFileSync(config, 'policy: { maxRetry: "lots" }\nbogus: 1\n');
    w.p.kill('SIGHUP');
    await waitFor('the reload to be rejected', () => /error config reload rejected/.test(w.stderr()), 5000, w.stderr);
    expect(w.stderr()).toMatch(/bogus/);
    // Still running on the old rules: 3 failures ban no one.
    appendFileSync(join(dir, 'app.log'), failure(9).repeat(3));
    await waitFor('3 failures counted', () => countFailures(join(dir, 'blocker.db')) === 3, 5000, w.stderr);
    expect(w.stderr()).not.toMatch(/info ban /);
    writeConfig(dir, { maxRetry: 2 });
    w.p.kill('SIGHUP');
    await waitFor('the reload', () => /info config reloaded/.test(w.stderr()), 5000, w.stderr);
    appendFileSync(join(dir, 'app.log'), failure(10).repeat(2));
    await waitFor('a ban under the new rules', () => /info ban ip=198\.51\.100\.10 /.test(w.stderr()), 5000, w.stderr);
    w.p.kill('SIGTERM');
    expect((await w.p).exitCode).toBe(0);
  });

  it('loses no line while another process holds the write lock', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { maxRetry: 1000 });
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const w = watch(config);
    await waitFor('the watcher to start', () => /info watching/.test(w.stderr()), 5000, w.stderr);
    // Another process takes the write lock for 1.5 s.
    const holder = execa(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(require_('better-sqlite3'))}); const db = new D(process.argv[1]);
         db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 1500);`,
        join(dir, 'blocker.db'),
      ],
      { reject: false, buffer: true },
    );
    procs.push(holder);
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    for (let i = 0; i < 20; i++) {
      appendFileSync(log, failure(20 + i).repeat(10));
      await new Promise((r) => setTimeout(r, 50));
    }
    await holder;
    await waitFor('200 failures counted', () => countFailures(join(dir, 'blocker.db')) === 200, 5000, w.stderr);
    expect(w.stderr()).toMatch(/warn database is locked by another process/);
    await new Promise((r) => setTimeout(r, 300));
    expect(countFailures(join(dir, 'blocker.db'))).toBe(200);
    w.p.kill('SIGTERM');
    expect((await w.p).exitCode).toBe(0);
  });

  it('refuses a corrupt database or one it cannot open with one clear line, not a stack trace', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, {});
    writeFileSync(join(dir, 'blocker.db'), 'garbage, not SQLite '.repeat(500));
    const corrupt = await execa(process.execPath, [CLI, 'watch', '-c', config], { reject: false, stdin: 'ignore' });
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stderr).toMatch(/cannot open database .*blocker\.db.*not a usable SQLite database: move it aside/);
    expect(corrupt.stderr).not.toMatch(/\n\s+at /);

    const dir2 = tempDir();
    const config2 = writeConfig(dir2, {});
    mkdirSync(join(dir2, 'blocker.db'));
    const unopenable = await execa(process.execPath, [CLI, 'watch', '-c', config2], { reject: false, stdin: 'ignore' });
    expect(unopenable.exitCode).toBe(1);
    expect(unopenable.stderr).toMatch(/cannot open database .*blocker\.db/);
    expect(unopenable.stderr).not.toMatch(/\n\s+at /);
  });
});

/** Whether process `pid` has loaded a shared object whose path contains `name`. */
function mapped(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').includes(name);
  } catch {
    return false;
  }
}

function require_(name: string): string {
  return join(process.cwd(), 'node_modules', name);
}
