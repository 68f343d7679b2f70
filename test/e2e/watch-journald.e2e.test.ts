/**
 * The journald source against a real journal: a private systemd-journald runs
 * in a mount namespace of its own (a tmpfs over /run, temporary folders over
 * /run/log/journal and /var/log/journal), `blocker watch` runs in that namespace, and lines go
 * in through systemd-cat (nsenter into the same namespace). The host's journal
 * is never touched. Where that cannot be set up (not root, no journald), the
 * suite is skipped with the reason; the cursor handling is also unit-tested
 * against recorded journalctl output (test/sources/journald.test.ts).
 */
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CLI } from './netns.js';

const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'].find((p) => existsSync(p));

async function missing(): Promise<string[]> {
  const out: string[] = [];
  if (process.platform !== 'linux') return ['Linux'];
  if (process.getuid?.() !== 0) out.push('root (for a private mount namespace)');
  if (!JOURNALD) out.push('systemd-journald (apt-get install systemd)');
  for (const cmd of ['unshare', 'nsenter', 'systemd-cat', 'journalctl']) {
    if ((await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode !== 0) out.push(cmd);
  }
  if (!existsSync(CLI)) out.push(`the built CLI ${CLI}`);
  return out;
}

const why = await missing();
if (why.length) console.warn(`skipping the real-journald test: missing ${why.join(', ')}`);
const suite = why.length ? describe.skip : describe;

/** Inside the new mount namespace: private journald, then exec the watcher (same PID as the unshare). */
const SCRIPT = `
set -e
dir="$1"; journald="$2"; shift 2
# A private /run (its sockets and the volatile journal), so nothing is created on the host's.
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal /run/log/journal
# journald keeps its journal in /run/log/journal (or /var/log/journal once flushed):
# both are the test's own folders here, kept across the two runs.
mount --bind "$dir/run-journal" /run/log/journal
if [ -d /var/log/journal ]; then mount --bind "$dir/journal" /var/log/journal; fi
"$journald" >"$dir/journald.log" 2>&1 &
echo $! > "$dir/journald.pid"
i=0; while [ ! -S /run/systemd/journal/stdout ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
exec "$@"
`;

const dirs: string[] = [];
const procs: ResultPromise[] = [];

function killJournald(dir: string): void {
  const pidFile = join(dir, 'journald.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    if (pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(pidFile, { force: true });
}

afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
  for (const d of dirs) {
    killJournald(d);
    rmSync(d, { recursive: true, force: true });
  }
});

function startWatch(dir: string, config: string) {
  const p = execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SCRIPT, 'sh', dir, JOURNALD!, process.execPath, CLI, 'watch', '-c', config], {
    reject: false,
    stdin: 'ignore',
    buffer: false,
  });
  procs.push(p);
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { p, stderr: () => err };
}

async function journal(pid: number, lines: string): Promise<void> {
  const r = await execa('nsenter', ['-t', String(pid), '-m', '--', 'systemd-cat', '-t', 'hbtest'], { input: lines, reject: false });
  if (r.exitCode !== 0) throw new Error(`systemd-cat failed: ${r.stderr}`);
}

async function until(what: string, check: () => boolean, context: () => string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function failures(db: string): number {
  const h = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (h.prepare('SELECT count(*) AS n FROM failures').get() as { n: number }).n;
  } finally {
    h.close();
  }
}

const line = (ip: string) => `http: TLS handshake error from ${ip}:4433: EOF\n`;

suite('journald source with a real journal', () => {
  it('bans from journal entries, and resumes after its cursor at a restart without recounting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-journald-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'journal'));
    mkdirSync(join(dir, 'run-journal'));
    const database = join(dir, 'blocker.db');
    const config = join(dir, 'blocker.yaml');
    writeFileSync(
      config,
      YAML.stringify({
        database,
        // The journal is the test's own: reading it from the start reads only what the test wrote.
        sources: [{ name: 'hb', type: 'journald', identifiers: ['hbtest'], format: 'go', readFrom: 'start' }],
        policy: { maxRetry: 3, allow: ['127.0.0.0/8'], cdn: [] },
        firewall: { backend: 'dry-run' },
      }),
    );
    const first = startWatch(dir, config);
    await until('the watcher to start', () => /info watching/.test(first.stderr()), first.stderr);
    await new Promise((r) => setTimeout(r, 500)); // journalctl --follow is up
    await journal(first.p.pid!, line('198.51.100.7').repeat(3));
    await until('the ban', () => /info ban ip=198\.51\.100\.7 /.test(first.stderr()), first.stderr);
    expect(failures(database)).toBe(3);
    first.p.kill('SIGTERM');
    expect((await first.p).exitCode, first.stderr()).toBe(0);
    killJournald(dir);

    // After a restart (a new journald over the same journal files) only new entries are read: the old ones are not read again.
    const second = startWatch(dir, config);
    await until('the watcher to start again', () => /info watching/.test(second.stderr()), second.stderr);
    await journal(second.p.pid!, line('198.51.100.8').repeat(2));
    await until('two more failures', () => failures(database) === 5, second.stderr);
    await new Promise((r) => setTimeout(r, 500));
    expect(failures(database)).toBe(5);
    expect(second.stderr()).not.toMatch(/info ban ip=198\.51\.100\.7 /);
    second.p.kill('SIGTERM');
    expect((await second.p).exitCode, second.stderr()).toBe(0);
    killJournald(dir);
  });
});
