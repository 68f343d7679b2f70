/**
 * An IPv6 prefix ban through the daemon: it replaces the address bans it
 * covers, in the database and in one firewall transaction (nft interval sets
 * refuse overlapping members), and is listed with the prefix as its ip.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore } from '../../src/store/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const p2 = (n: number) => String(n).padStart(2, '0');
const stamp = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
};
const go = (ms: number, ip: string) => `${stamp(ms)} http: TLS handshake error from [${ip}]:4433: EOF\n`;

describe('IPv6 prefix bans in the daemon', () => {
  it('a /64 ban replaces the address bans inside it, in the database and the firewall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-prefix-'));
    dirs.push(dir);
    // One address fails 3 times (banned alone); later, after a restart, three more of its /64
    // fail: with the first one's failures the prefix crosses maxAddresses 4.
    writeFileSync(join(dir, 'go.log'), [0, 1, 2].map((i) => go(T0 + i * 1000, '2001:db8:77:1::1')).join(''));
    const more = ['2001:db8:77:1::2', '2001:db8:77:1::3', '2001:db8:77:1::4'].map((a, i) => go(T0 + (10 + i) * 1000, a));
    const doc = {
      database: join(dir, 'blocker.db'),
      sources: [{ name: 'go', type: 'file', path: join(dir, 'go.log'), format: 'go', readFrom: 'start' }],
      policy: { maxRetry: 3, findTime: '10m', banTime: '1h', cdn: [], ipv6: { prefixLength: 64, maxRetry: 10, maxAddresses: 4 } },
      firewall: { backend: 'dry-run' },
    };
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(doc));
    const cfg = parseConfig(doc, configPath);
    const store = openStore(cfg.database);
    const scripts: string[] = [];
    const log: string[] = [];
    const run = (clock: number) =>
      new Daemon({
        store,
        backend: createDryRunBackend('blocker', (s) => void scripts.push(s)),
        rules: policyRules(cfg),
        sources: cfg.sources,
        log: createLogger((l) => void log.push(l.trimEnd())),
        clock: () => clock,
        replay: true,
        summaryEveryMs: 0,
      }).run({ once: true });
    try {
      await run(T0);
      expect(store.bans.active(T0 + 5000).map((b) => b.ip.text)).toEqual(['2001:db8:77:1::1']);
      appendFileSync(join(dir, 'go.log'), more.join(''));
      await run(T0 + 5000);
      const all = store.db.prepare('SELECT ip, state FROM bans ORDER BY id').all();
      expect(all).toEqual([
        { ip: '2001:db8:77:1::1', state: 'unbanned' },
        { ip: '2001:db8:77:1::/64', state: 'active' },
      ]);
      expect(log).toContain('info unban ip=2001:db8:77:1::1 why="replaced by a network ban"');
      const last = scripts.join('').split("nft -f - <<'EOF'").pop()!;
      const del = last.indexOf('delete element inet blocker v6 { 2001:db8:77:1::1 }');
      // Networks may live in a set of their own (v6 or v6net): the element is what matters.
      const add = last.search(/add element inet blocker v6\w* \{ 2001:db8:77:1::\/64 timeout 3600s \}/);
      expect(del, last).toBeGreaterThan(-1);
      expect(add, last).toBeGreaterThan(del);
      // What `blocker list` shows (at the log's time: these bans are from the log's past).
      const listed = store.bans.active(T0 + 60_000);
      expect(listed.map((b) => b.ip.text)).toEqual(['2001:db8:77:1::/64']);
      expect(listed[0]!.reason).toMatch(/^4 addresses of 2001:db8:77:1::\/64 failed 6 handshakes within 10m/);
    } finally {
      store.close();
    }
  });
});
