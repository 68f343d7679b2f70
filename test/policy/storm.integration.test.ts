/**
 * The storm breaker through the real pipeline: a generated Go-format log in
 * which an expired certificate makes thousands of clients fail (their
 * browsers refuse the certificate, their apps just close and retry), read by
 * the daemon (file source, signatures, SQLite store, policy, dry-run
 * firewall) on the log's own clock, and by `blocker check`. No one may be
 * banned, the storm must be reported (log, database, check), and banning
 * must resume by itself once it is over.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore } from '../../src/store/store.js';
import { cli } from '../cli/run.js';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const IPS = 3000;
const ATTACKER = '203.0.113.66';

const p2 = (n: number) => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}
const line = (ms: number, ip: string, reason: string) => `${stamp(ms)} http: TLS handshake error from ${ip}:${40000 + (ms % 20000)}: ${reason}`;
const client = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/**
 * Eight rounds of 75 s: every client tries once per round, three times
 * refusing the certificate and five times just closing (EOF, weight 1) —
 * enough for each to be banned five times over without the breaker. Then ten
 * quiet minutes, and one scanner failing five times.
 */
const CERT = 'remote error: tls: bad certificate';
const EXPIRED_CERT = [CERT, 'EOF', CERT, 'EOF', 'EOF', CERT, 'EOF', 'EOF'];

function stormLog(kinds: readonly string[] = EXPIRED_CERT): string {
  const out: string[] = [];
  kinds.forEach((reason, round) => {
    for (let i = 0; i < IPS; i++) out.push(line(T0 + round * 75_000 + Math.floor((i * 75_000) / IPS), client(i), reason));
  });
  const after = T0 + 8 * 75_000 + 10 * 60_000;
  for (let k = 0; k < 5; k++) out.push(line(after + k * 1000, ATTACKER, 'EOF'));
  return out.join('\n') + '\n';
}

function setup(policy: Record<string, unknown>, kinds?: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-storm-'));
  const log = join(dir, 'go.log');
  writeFileSync(log, stormLog(kinds));
  const doc = {
    database: join(dir, 'blocker.db'),
    sources: [{ name: 'go', type: 'file', path: log, format: 'go', readFrom: 'start' }],
    policy: { maxRetry: 5, findTime: '10m', banTime: '1h', cdn: [], ...policy },
    firewall: { backend: 'dry-run' },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(doc));
  return { dir, log, configPath, cfg: parseConfig(doc, configPath) };
}

/** The daemon on the log's own clock, as the demo runs it; returns what it logged and the store. */
async function runDaemon(cfg: ReturnType<typeof parseConfig>) {
  const store = openStore(cfg.database);
  const lines: string[] = [];
  let nft = '';
  const daemon = new Daemon({
    store,
    backend: createDryRunBackend(cfg.firewall.table, (t) => void (nft += t)),
    rules: policyRules(cfg),
    sources: cfg.sources,
    log: createLogger((l) => void lines.push(l.trimEnd())),
    clock: () => T0,
    replay: true,
    summaryEveryMs: 0,
  });
  await daemon.run({ once: true });
  return { store, lines, nft };
}

describe('storm breaker on a synthetic storm (expired certificate, thousands of clients)', () => {
  it('the log alone would ban every client: without the breaker, 3000 bans', async () => {
    const { cfg } = setup({ breaker: { enabled: false } });
    const { store } = await runDaemon(cfg);
    try {
      const bans = store.bans.active(T0 + 8 * 75_000).filter((b) => b.ip.text.startsWith('198.18.'));
      expect(bans.length).toBe(IPS);
    } finally {
      store.close();
    }
  }, 60_000);

  it('with the default breaker: bans no client, reports the storm, then resumes and bans a scanner', async () => {
    const { cfg, configPath, log } = setup({});
    const { store, lines, nft } = await runDaemon(cfg);
    try {
      const all = store.db.prepare('SELECT ip, reason FROM bans ORDER BY id').all() as { ip: string; reason: string }[];
      expect(all.map((b) => b.ip)).toEqual([ATTACKER]);
      expect(nft).not.toMatch(/198\.18\./);

      // Loud, with the evidence, once (the storm lasts 10 minutes, the period is an hour).
      const storm = lines.filter((l) => l.startsWith('warn diagnosis storm '));
      expect(storm).toHaveLength(1);
      // The first 20 failures are all certificate refusals: the share trips it at once.
      expect(storm[0]).toMatch(/ failures=20 certRejected=20 /);
      expect(storm[0]).toMatch(/100% of 20 failures within 1m are clients rejecting the certificate/);
      expect(storm[0]).toMatch(/automatic bans are paused/);
      expect(lines.filter((l) => l.startsWith('info ban held back')).length).toBe(IPS);
      const over = lines.filter((l) => l.startsWith('info diagnosis storm-over'));
      expect(over).toHaveLength(1);
      expect(over[0]).toMatch(new RegExp(`\\(${IPS} held back during it were not issued\\)`));

      // In the database for `blocker status`: the breaker's state and the diagnoses.
      const breaker = store.diagnoses.breaker();
      expect(breaker).toMatchObject({ tripped: false, held: IPS, since: T0 });
      expect(breaker!.endedAt! - breaker!.since!).toBeGreaterThanOrEqual(8 * 75_000 + 5 * 60_000 - 75_000);
      expect(store.diagnoses.since(0).map((d) => [d.kind, d.subject])).toEqual(
        expect.arrayContaining([
          ['storm', 'breaker'],
          ['storm-over', 'breaker'],
        ]),
      );
    } finally {
      store.close();
    }

    // `blocker check` previews exactly this.
    const r = await cli('check', '-c', configPath, '--json', log);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as { bans: { ip: string }[]; held: unknown[]; diagnoses: { code: string; message: string }[] };
    expect(report.bans.map((b) => b.ip)).toEqual([ATTACKER]);
    expect(report.held).toHaveLength(IPS);
    expect(report.diagnoses.map((d) => d.code)).toEqual(expect.arrayContaining(['storm', 'storm-over']));
  }, 60_000);

  it('a TLS config change that fails every client (no certificate refusals): tripped by the number of addresses', async () => {
    const { cfg } = setup({}, Array(8).fill('tls: client offered only unsupported versions: [303 302 301]'));
    const { store, lines } = await runDaemon(cfg);
    try {
      expect((store.db.prepare('SELECT ip FROM bans').all() as { ip: string }[]).map((b) => b.ip)).toEqual([ATTACKER]);
      const storm = lines.filter((l) => l.startsWith('warn diagnosis storm '));
      expect(storm).toHaveLength(1);
      expect(storm[0]).toMatch(/ addresses=300 /);
      expect(storm[0]).toMatch(/300 different addresses failed handshakes within 1m \(limit 300\)/);
    } finally {
      store.close();
    }
  }, 60_000);
});
