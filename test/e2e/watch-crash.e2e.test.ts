/**
 * kill -9 during a flood: a child process appends handshake-failure lines at
 * full speed while `blocker watch` follows the file and bans through nftables
 * in a network namespace of its own. The watcher is SIGKILLed mid-flood and
 * started again. Afterwards the database must hold exactly one failure per line
 * written (nothing lost, nothing counted twice), every ban the first run
 * reported must still be recorded, and the kernel sets must hold exactly the
 * bans the database has in force. See ./netns.ts for the safety rules.
 */
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  cleanup,
  createTopology,
  makeTempDir,
  nftSetMembers,
  requireE2E,
  startBlocker,
  waitFor,
  writeBlockerConfig,
  notYet,
} from './netns.js';

const describeE2E = await requireE2E();

const TABLE = 'blocker';

/**
 * The flood: Go-style failure lines (no timestamp, so each counts when read)
 * from 100 IPv4 and 50 IPv6 test addresses (each in a /64 of its own) in
 * turn, fewer than the storm breaker's default threshold. 1000 lines per
 * write, as fast as it can up to 100,000 lines/s (twice the rate the watcher
 * is built for, and a bound on how long catching up takes), for 1.5 s.
 * Prints how many lines it wrote.
 */
const WRITER = `
const fs = require('node:fs');
const [path, maxMs, perSecond] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const fd = fs.openSync(path, 'a');
const ips = [];
for (let i = 0; i < 100; i++) ips.push('198.51.100.' + (50 + i));
for (let i = 0; i < 50; i++) ips.push('[2001:db8:' + (i + 1).toString(16) + '::1]');
let n = 0;
const start = Date.now();
(function burst() {
  let chunk = '';
  for (let i = 0; i < 1000; i++, n++) chunk += 'http: TLS handshake error from ' + ips[n % ips.length] + ':' + (1024 + (n % 60000)) + ': EOF\\n';
  fs.writeSync(fd, chunk);
  const elapsed = Date.now() - start;
  if (elapsed >= maxMs) { fs.closeSync(fd); process.stdout.write(String(n)); return; }
  const ahead = (n * 1000) / perSecond - elapsed;
  if (ahead >= 1) setTimeout(burst, ahead);
  else setImmediate(burst);
})();
`;

function dbCounts(path: string): { failures: number; active: string[] } | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const failures = (db.prepare('SELECT count(*) AS n FROM failures').get() as { n: number }).n;
    const active = (db.prepare(`SELECT ip FROM bans WHERE state = 'active'`).all() as { ip: string }[]).map((r) => r.ip);
    return { failures, active };
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

const bansIn = (stderr: string) => [...stderr.matchAll(/^info ban ip=(\S+)/gm)].map((m) => m[1]!);

describeE2E('blocker watch killed with SIGKILL during a flood', () => {
  afterAll(cleanup, 60_000);

  it(
    'counts every line exactly once across the crash and keeps every reported ban in the kernel',
    async () => {
      const T = Date.now();
      const mark = (what: string) => process.env.HB_E2E_VERBOSE && console.log(`${Date.now() - T} ms: ${what}`);
      const topo = await createTopology<never>({ clients: {} as Record<never, never> });
      const srv = topo.server.ns;
      const dir = makeTempDir('crash');
      const log = join(dir, 'flood.log');
      const database = join(dir, 'blocker.db');
      const config = writeBlockerConfig(join(dir, 'blocker.yaml'), {
        database,
        sources: [{ name: 'flood', type: 'file', path: log, format: 'go', readFrom: 'start' }],
        policy: { maxRetry: 5, findTime: '10m', banTime: '1h', allow: ['127.0.0.0/8', '::1'], cdn: [] },
        firewall: { backend: 'nftables', table: TABLE },
      });

      mark('topology');
      const first = startBlocker(srv, ['watch', '-c', config], 'blocker-1');
      await waitFor('the first watcher to start', () => /info watching/.test(first.stderr()) || notYet(first.stderr()), {
        timeoutMs: 10_000,
        context: () => first.output(),
      });
      const writer = execa(process.execPath, ['-e', WRITER, log, '1500', '100000'], { reject: false });
      let writerDone = false;
      void writer.then(() => (writerDone = true));

      // Mid-flood: some lines and bans are in, the writer is still going.
      await waitFor(
        'the first watcher to count failures and report bans',
        () => {
          const c = dbCounts(database);
          return (c && c.failures > 2000 && bansIn(first.stderr()).length > 0) || notYet(JSON.stringify(c && { failures: c.failures }));
        },
        { timeoutMs: 10_000, intervalMs: 20, context: () => first.output().slice(-3000) },
      );
      mark('killing');
      const exit = await first.stop({ signal: 'SIGKILL' });
      expect(exit.signal).toBe('SIGKILL');
      expect(writerDone, 'the writer was still writing when the watcher was killed').toBe(false);
      const reported = bansIn(first.stderr());
      const atKill = dbCounts(database)!;

      const written = Number((await writer).stdout);
      expect(written).toBeGreaterThan(atKill.failures);
      const lines = readFileSync(log, 'utf8').split('\n').length - 1;
      expect(lines).toBe(written);

      mark(`writer done: ${written}`);
      const second = startBlocker(srv, ['watch', '-c', config], 'blocker-2');
      const final = await waitFor(
        `all ${written} lines counted after the restart`,
        () => {
          const c = dbCounts(database);
          return (c && c.failures >= written && c) || notYet(JSON.stringify(c && { failures: c.failures }));
        },
        { timeoutMs: 60_000, intervalMs: 100, context: () => second.output().slice(-3000) },
      );
      mark('caught up');
      // Give it a moment more: a line counted twice would show up as more rows than lines.
      await new Promise((r) => setTimeout(r, 500));
      const settled = dbCounts(database)!;
      expect(settled.failures).toBe(written);
      expect(final.failures).toBe(written);

      // Every ban the first run reported is still in force in the database …
      const active = new Set(settled.active);
      for (const ip of reported) expect(active.has(ip), `reported ban ${ip} kept`).toBe(true);
      // … each address banned once (150 addresses, each far over maxRetry) …
      expect(settled.active).toHaveLength(150);
      // … and the kernel holds exactly what the database has in force.
      await waitFor(
        'the kernel sets to hold every active ban',
        async () => {
          const inKernel = [
            ...(await nftSetMembers(srv, 'inet', TABLE, 'v4')),
            ...(await nftSetMembers(srv, 'inet', TABLE, 'v6')),
          ].sort();
          return JSON.stringify(inKernel) === JSON.stringify([...active].sort()) || notYet(`${inKernel.length} in kernel`);
        },
        { timeoutMs: 10_000, context: () => second.output().slice(-3000) },
      );

      const stopped = await second.stop({ signal: 'SIGTERM', graceMs: 5000 });
      expect(stopped.exitCode, second.output().slice(-2000)).toBe(0);
      expect(stopped.ms).toBeLessThan(2000);
    },
    120_000,
  );
});
