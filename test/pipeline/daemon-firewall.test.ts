import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { FirewallBackend, FirewallEntry, ReconcileReport, Wanted } from '../../src/firewall/backend.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { parseCidr } from '../../src/net/address.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore, type Store } from '../../src/store/store.js';

/** The daemon's firewall hook (issue 6): reconcile at start, every reconcileEvery, and after failures with backoff. */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(opts: { failures?: number; reconcileEveryMs?: number; replay?: boolean; beforeDaemon?: (store: Store) => void } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-daemon-fw-'));
  const cfg = parseConfig({ database: join(dir, 'blocker.db'), firewall: { backend: 'dry-run' } }, 'test');
  const store: Store = openStore(cfg.database);
  opts.beforeDaemon?.(store);
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const inner = createDryRunBackend('blocker', () => {});
  let failuresLeft = opts.failures ?? 0;
  const calls: { at: number; wanted: readonly FirewallEntry[] }[] = [];
  let now = 1_000_000;
  const backend: FirewallBackend = {
    ...inner,
    async reconcile(w: Wanted): Promise<ReconcileReport> {
      const wanted = typeof w === 'function' ? w() : w;
      calls.push({ at: now, wanted });
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('nft failed: boom');
      }
      return inner.reconcile(wanted);
    },
  };
  const log: string[] = [];
  const daemon = new Daemon({
    store,
    backend,
    rules: policyRules(cfg),
    sources: [],
    log: createLogger((l) => log.push(l), 'debug'),
    clock: () => now,
    ...(opts.reconcileEveryMs !== undefined ? { reconcileEveryMs: opts.reconcileEveryMs } : {}),
    ...(opts.replay ? { replay: true } : {}),
  });
  return {
    daemon,
    store,
    calls,
    log,
    advance: (ms: number) => void (now += ms),
    get now() {
      return now;
    },
  };
}

describe('daemon and firewall', () => {
  it('reconciles at start with the bans in force, then every reconcileEvery', async () => {
    const s = setup({ reconcileEveryMs: 60_000 });
    s.store.bans.record({ ip: parseCidr('198.51.100.7')!, reason: 'r', failures: 5, origin: 'auto', bannedAt: s.now, expiresAt: s.now + 3_600_000 });
    await s.daemon.start();
    expect(s.calls.length).toBe(1);
    expect(s.calls[0]!.wanted.map((e) => [e.net.text, e.ttlMs])).toEqual([['198.51.100.7', 3_600_000]]);
    // The fresh host's table was created: that is worth a log line.
    expect(s.log.some((l) => /^info firewall reconciled added=1 removed=0 refreshed=0 repaired="table inet blocker was missing"/.test(l))).toBe(true);
    for (let i = 0; i < 10; i++) {
      s.advance(10_000);
      await s.daemon.tick();
    }
    // 100 s of ticks: one more reconcile, at 60 s.
    expect(s.calls.map((c) => c.at - 1_000_000)).toEqual([0, 60_000]);
    expect(s.calls[1]!.wanted[0]!.ttlMs).toBe(3_600_000 - 60_000);
  });

  it('reads the bans in force once at start, for its memory and the first reconcile', async () => {
    let reads = 0;
    const s = setup({
      beforeDaemon: (store) => {
        store.bans.record({ ip: parseCidr('198.51.100.7')!, reason: 'r', failures: 5, origin: 'auto', bannedAt: 1_000_000, expiresAt: 1_000_000 + 3_600_000 });
        const active = store.bans.active;
        store.bans.active = (now) => {
          reads++;
          return active(now);
        };
      },
    });
    await s.daemon.start();
    expect(reads).toBe(1);
    expect(s.calls.map((c) => c.wanted.map((e) => e.net.text))).toEqual([['198.51.100.7']]);
  });

  it('reads the bans again at the first reconcile when another process changed them after the daemon was built', async () => {
    const s = setup();
    // `blocker ban` from a shell while the daemon starts: another connection to the same file.
    const cli = openStore(s.store.db.name);
    cli.bans.record({ ip: parseCidr('198.51.100.9')!, reason: 'manual', failures: 0, origin: 'manual', bannedAt: s.now, expiresAt: null });
    cli.close();
    await s.daemon.start();
    expect(s.calls.map((c) => c.wanted.map((e) => e.net.text))).toEqual([['198.51.100.9']]);
  });

  it('retries a failed reconcile with backoff, logging each failure, until it works', async () => {
    const s = setup({ failures: 3, reconcileEveryMs: 60_000 });
    await s.daemon.start();
    for (let i = 0; i < 40; i++) {
      s.advance(100);
      await s.daemon.tick();
    }
    // Failed at 0, retried after 0.5 s, 1 s and 2 s (the third retry works), then nothing until the next period.
    expect(s.calls.map((c) => c.at - 1_000_000)).toEqual([0, 500, 1500, 3500]);
    expect(s.log.filter((l) => l.startsWith('error firewall update failed, will retry')).length).toBe(3);
  });

  it('does not reconcile on a timer when replaying logs on their own clock', async () => {
    const s = setup({ reconcileEveryMs: 1000, replay: true });
    await s.daemon.start();
    for (let i = 0; i < 5; i++) {
      s.advance(10_000);
      await s.daemon.tick();
    }
    expect(s.calls.length).toBe(1);
  });
});
