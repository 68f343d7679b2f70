/**
 * `blocker watch` as a process with the issue-7 observers on: the metrics
 * endpoint on an ephemeral loopback port, an onBan hook, the status heartbeat,
 * and a clean stop that `blocker status` reports. Dry-run firewall, no root;
 * the built CLI (npm test builds it first).
 */
import { execa, type ResultPromise } from 'execa';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const CLI = join(import.meta.dirname, '../../dist/blocker/bin.js');
const dirs: string[] = [];
const procs: ResultPromise[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, context: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('watch with metrics and hooks', () => {
  it('serves metrics, runs the onBan hook, and leaves a status that says it stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-observers-'));
    dirs.push(dir);
    const hookOut = join(dir, 'hook.out');
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\nprintf '%s %s %s\\n' "$1" "$2" "$3" >> '${hookOut}'\n`);
    chmodSync(hook, 0o755);
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    const config = join(dir, 'blocker.yaml');
    writeFileSync(
      config,
      YAML.stringify({
        database: join(dir, 'blocker.db'),
        // start: the lines are appended while the daemon may still be starting; `end` could skip them.
        sources: [{ name: 'app', type: 'file', path: log, format: 'go', readFrom: 'start' }],
        policy: { maxRetry: 3, cdn: [] },
        firewall: { backend: 'dry-run' },
        watch: { pollInterval: '50ms' },
        metrics: { enabled: true, listen: '127.0.0.1:0' },
        actions: { onBan: [hook, '{ip}', '{cause}', '{duration}'] },
      }),
    );
    const p = execa(process.execPath, [CLI, 'watch', '-c', config], { reject: false, stdin: 'ignore' });
    procs.push(p);
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('the metrics address', () => /^info metrics url=http:\/\/127\.0\.0\.1:\d+\/metrics$/m.test(stderr), () => stderr);
    const url = /url=(\S+)/.exec(stderr)![1]!;

    appendFileSync(log, 'http: TLS handshake error from [2001:db8::7]:4433: tls: invalid client key share\n'.repeat(3));
    await waitFor('the hook', () => existsSync(hookOut), () => stderr);
    expect(readFileSync(hookOut, 'utf8')).toBe('2001:db8::7 bad-key-share 1h\n');

    let metrics = '';
    await waitFor('the ban in the metrics', async () => {
      metrics = await (await fetch(url)).text();
      // The hook's run is counted when its process has exited, just after it wrote its file.
      return metrics.includes('blocker_bans_total{origin="auto"} 1\n') && metrics.includes('blocker_hook_runs_total{hook="onBan",result="ok"} 1\n');
    }, () => metrics);
    expect(metrics).toContain('blocker_lines_read_total{source="app"} 3\n');
    expect(metrics).toContain('blocker_failures_total{source="app",format="go",cause="bad-key-share"} 3\n');
    expect(metrics).toContain('blocker_active_bans{origin="auto",kind="address"} 1\n');
    expect(metrics).toContain('blocker_hook_runs_total{hook="onBan",result="ok"} 1\n');

    // The heartbeat row follows a ban within a second.
    let running: { daemon: unknown; sources: { lines: number | null }[] } = { daemon: null, sources: [] };
    await waitFor('the heartbeat after the ban', async () => {
      running = JSON.parse((await execa(process.execPath, [CLI, 'status', '-c', config, '--json'])).stdout);
      return running.sources[0]?.lines === 3;
    }, () => JSON.stringify(running));
    expect(running.daemon).toMatchObject({ state: 'running', pid: p.pid });
    expect(running.sources[0]).toMatchObject({ name: 'app', lines: 3, failures: 3, files: [{ lagBytes: 0 }] });

    p.kill('SIGTERM');
    expect((await p).exitCode).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
    const stopped = JSON.parse((await execa(process.execPath, [CLI, 'status', '-c', config, '--json'])).stdout);
    expect(stopped.daemon.state).toBe('stopped');
  });

  it('a metrics port in use stops it at start with exit 1 and what to change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-observers-'));
    dirs.push(dir);
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const config = join(dir, 'blocker.yaml');
      writeFileSync(join(dir, 'app.log'), '');
      writeFileSync(
        config,
        YAML.stringify({
          database: join(dir, 'blocker.db'),
          sources: [{ name: 'app', type: 'file', path: join(dir, 'app.log'), format: 'go' }],
          firewall: { backend: 'dry-run' },
          metrics: { enabled: true, listen: `127.0.0.1:${port}` },
        }),
      );
      const r = await execa(process.execPath, [CLI, 'watch', '-c', config], { reject: false, stdin: 'ignore' });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`blocker: cannot serve metrics on 127.0.0.1:${port}: another program uses that port: change metrics.listen or stop it`);
    } finally {
      blocker.close();
    }
  });
});
