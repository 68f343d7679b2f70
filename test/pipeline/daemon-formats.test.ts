import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore, type Store } from '../../src/store/store.js';

/*
 * The daemon builds each source's signature from that source's config: a
 * regex source reads with its own pattern and cause, an nginx source with
 * checkPid trusts only records from running nginx processes.
 */
const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) if (s.db.open) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(sources: Record<string, unknown>[], lines: Record<string, string>): Promise<{ store: Store; bans: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-daemon-formats-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(lines)) writeFileSync(join(dir, name), text);
  const cfg = parseConfig(
    {
      database: join(dir, 'blocker.db'),
      firewall: { backend: 'dry-run' },
      policy: { maxRetry: 3, findTime: '10m' },
      sources: sources.map((s) => ({ ...s, path: join(dir, s.path as string), readFrom: 'start' })),
    },
    'test',
  );
  const store = openStore(cfg.database, { busyTimeoutMs: 10 });
  stores.push(store);
  const daemon = new Daemon({
    store,
    backend: createDryRunBackend('blocker', () => {}),
    rules: policyRules(cfg),
    sources: cfg.sources,
    log: createLogger(() => {}, 'error'),
    clock: Date.now,
    sourceContext: { file: { fsEvents: false, scanMs: 0, rotateGraceMs: 30 } },
  });
  for (let i = 0; i < 5; i++) await daemon.tick();
  const rows = store.db.prepare('SELECT ip FROM bans ORDER BY ip').all() as { ip: string }[];
  return { store, bans: rows.map((r) => r.ip) };
}

describe('Daemon with per-source formats', () => {
  it('reads a regex source with its pattern and cause', async () => {
    const { store, bans } = await run(
      [{ name: 'tlsd', type: 'file', path: 'tlsd.log', format: 'regex', pattern: '^tlsd: refused <HOST>$', cause: 'protocol-mismatch' }],
      { 'tlsd.log': 'tlsd: refused 198.51.100.9\n'.repeat(3) + 'tlsd: accepted 198.51.100.8\n' },
    );
    expect(bans).toEqual(['198.51.100.9']);
    expect(store.db.prepare('SELECT count(*) AS n FROM failures').get()).toEqual({ n: 3 });
  });

  it('with checkPid, counts no nginx record whose pid is not a running nginx', async () => {
    // This test's own pid is a running process, but not nginx.
    const line = (pid: number) =>
      `${stampNow()} [info] ${pid}#${pid}: *1 client closed connection while SSL handshaking, client: 198.51.100.7, server: 0.0.0.0:443\n`;
    const checked = await run([{ name: 'ng', type: 'file', path: 'e.log', format: 'nginx', checkPid: true }], { 'e.log': line(process.pid).repeat(3) });
    expect(checked.bans).toEqual([]);
    const unchecked = await run([{ name: 'ng', type: 'file', path: 'e.log', format: 'nginx' }], { 'e.log': line(process.pid).repeat(3) });
    expect(unchecked.bans).toEqual(['198.51.100.7']);
  });
});

function stampNow(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
