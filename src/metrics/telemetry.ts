import type { Cidr } from '../net/address.js';
import type { DaemonEvents, FirewallResult, ReconcileFixes, UnbanWhy } from '../pipeline/daemon-events.js';
import { CAUSES, type Cause } from '../signatures/causes.js';
import type { Ban } from '../store/bans.js';
import type { Store } from '../store/store.js';
import { reportsRepo } from '../store/reports.js';
import { Registry, type Counter } from './registry.js';

/** What one source did since the daemon started, for `blocker status`. */
export interface SourceSnapshot {
  lines: number;
  failures: number;
  unparsable: number;
  /** Wall-clock time the daemon last got a line from it. */
  lastLineAt: number | null;
  errors: number;
  lastError: string | null;
  lastErrorAt: number | null;
  /** True from an error until the source hands over lines again. */
  failing: boolean;
}

export interface FirewallSnapshot {
  backend: string;
  /** Last time the kernel was made to hold exactly the active bans (start, or after a failure). */
  lastSyncAt: number | null;
  errors: number;
  lastError: string | null;
  lastErrorAt: number | null;
  /** True from a failed apply until one succeeds. */
  failing: boolean;
  lastReconcile: { at: number; added: number; removed: number; refreshed: number; recreated: boolean } | null;
}

export interface TelemetrySnapshot {
  startedAt: number;
  lastTickAt: number | null;
  sources: Record<string, SourceSnapshot>;
  firewall: FirewallSnapshot;
  bans: { auto: number; manual: number };
  unbans: Record<UnbanWhy, number>;
}

const DIAGNOSIS_RECENT_MS = 3_600_000;

/**
 * The daemon's counters: fed by its events, rendered for Prometheus, and
 * summed up for the status heartbeat. Gauges of state (active bans, the
 * breaker, diagnoses) are read from the database at each scrape, so they
 * also see what CLI commands changed.
 */
export class Telemetry implements DaemonEvents {
  readonly registry = new Registry();
  private readonly reports;
  private readonly snap: TelemetrySnapshot;
  private readonly c: Record<
    'lines' | 'failures' | 'unparsable' | 'bans' | 'unbans' | 'sourceErrors' | 'firewallErrors' | 'syncs' | 'reconcile',
    Counter
  >;
  private readonly lastTick;
  /** Per source, its snapshot and failure series (for its current format): found without building a key string. */
  private readonly failureCounters = new Map<string, { snap: SourceSnapshot; format: string; byCause: Map<Cause, (by?: number) => void> }>();

  constructor(
    private readonly store: Store,
    o: { version: string; backend: string; sources: readonly { name: string; format: string }[]; now: number; clock?: () => number },
  ) {
    this.reports = reportsRepo(store.db);
    const r = this.registry;
    const clock = o.clock ?? Date.now;
    this.snap = {
      startedAt: o.now,
      lastTickAt: null,
      sources: {},
      firewall: { backend: o.backend, lastSyncAt: null, errors: 0, lastError: null, lastErrorAt: null, failing: false, lastReconcile: null },
      bans: { auto: 0, manual: 0 },
      unbans: { expired: 0, replaced: 0, manual: 0 },
    };
    r.gauge('blocker_build_info', 'Always 1; the version is in the label.', ['version']).set({ version: o.version }, 1);
    r.gauge('blocker_start_time_seconds', 'When this daemon started (Unix time).').set({}, Math.floor(o.now / 1000));
    this.lastTick = r.gauge('blocker_last_tick_timestamp_seconds', 'When the daemon last finished a tick (Unix time): alert when it stops moving.');
    this.c = {
      lines: r.counter('blocker_lines_read_total', 'Log lines read, per source.', ['source']),
      failures: r.counter('blocker_failures_total', 'Handshake failures recognised, per source, format and cause.', ['source', 'format', 'cause']),
      unparsable: r.counter('blocker_unparsable_lines_total', 'Failure lines whose client address was invalid or untrusted (never banned).', ['source', 'format']),
      bans: r.counter('blocker_bans_total', 'Bans issued: auto by the policy, manual by `blocker ban`.', ['origin']),
      unbans: r.counter('blocker_unbans_total', 'Bans ended: expired, replaced by a network ban, or manual (`blocker unban`).', ['why']),
      sourceErrors: r.counter('blocker_source_errors_total', 'Times a source failed to read (it is retried with backoff).', ['source']),
      firewallErrors: r.counter('blocker_firewall_errors_total', 'Firewall transactions that failed (the next tick re-syncs from the database).'),
      syncs: r.counter('blocker_firewall_syncs_total', 'Full syncs of the kernel sets from the database (start, and after a failure).'),
      reconcile: r.counter('blocker_reconcile_fixes_total', 'What reconciling the kernel with the database put right.', ['fix']),
    };
    r.collected('blocker_active_bans', 'Bans in force, by origin and kind (address or network).', ['origin', 'kind'], () => {
      const now = clock();
      const sums = new Map<string, number>();
      for (const origin of ['auto', 'manual']) for (const kind of ['address', 'network']) sums.set(`${origin} ${kind}`, 0);
      for (const row of this.reports.activeCounts(now)) {
        const key = `${row.origin} ${row.network ? 'network' : 'address'}`;
        sums.set(key, (sums.get(key) ?? 0) + row.count);
      }
      return [...sums].map(([k, n]) => {
        const [origin, kind] = k.split(' ') as [string, string];
        return [{ origin, kind }, n] as const;
      });
    });
    r.collected('blocker_breaker_tripped', '1 while the storm breaker holds automatic bans back.', [], () => [[{}, this.store.diagnoses.breaker()?.tripped ? 1 : 0]]);
    r.collected('blocker_breaker_held_bans', 'Bans held back during the current (or last) storm.', [], () => [[{}, this.store.diagnoses.breaker()?.held ?? 0]]);
    r.collected('blocker_diagnoses', 'Diagnoses raised within the last hour, by kind (e.g. proxy-protocol, storm).', ['kind'], () => {
      const counts = new Map<string, number>();
      for (const d of this.store.diagnoses.since(clock() - DIAGNOSIS_RECENT_MS)) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
      return [...counts].map(([kind, n]) => [{ kind }, n] as const);
    });
    // Series that exist from the start, so rate() and alerts see their first increase.
    for (const s of o.sources) {
      this.source(s.name);
      this.c.lines.touch({ source: s.name });
      this.c.sourceErrors.touch({ source: s.name });
      for (const cause of CAUSES) this.c.failures.touch({ source: s.name, format: s.format, cause });
    }
    for (const origin of ['auto', 'manual']) this.c.bans.touch({ origin });
    for (const why of ['expired', 'replaced', 'manual']) this.c.unbans.touch({ why });
    for (const fix of ['added', 'removed', 'refreshed', 'recreated']) this.c.reconcile.touch({ fix });
    this.c.firewallErrors.touch();
    this.c.syncs.touch();
  }

  snapshot(): TelemetrySnapshot {
    return structuredClone(this.snap);
  }

  lines(source: string, count: number, now: number): void {
    this.c.lines.inc({ source }, count);
    const s = this.source(source);
    s.lines += count;
    s.lastLineAt = now;
    s.failing = false;
  }

  failure(source: string, format: string, cause: Cause): void {
    // Once per failure line: the same few strings each time, whose hashes V8 keeps, and labels rendered once.
    let f = this.failureCounters.get(source);
    if (!f || f.format !== format) this.failureCounters.set(source, (f = { snap: this.source(source), format, byCause: new Map() }));
    let inc = f.byCause.get(cause);
    if (!inc) f.byCause.set(cause, (inc = this.c.failures.series({ source, format, cause })));
    inc();
    f.snap.failures++;
  }

  unparsable(source: string, format: string): void {
    this.c.unparsable.inc({ source, format });
    this.source(source).unparsable++;
  }

  banned(bans: readonly Ban[]): void {
    this.c.bans.inc({ origin: 'auto' }, bans.length);
    this.snap.bans.auto += bans.length;
  }

  unbanned(bans: readonly Ban[], why: UnbanWhy): void {
    this.c.unbans.inc({ why }, bans.length);
    this.snap.unbans[why] += bans.length;
  }

  admin(kind: 'ban' | 'unban', net: Cidr, at: number): void {
    if (kind === 'ban') {
      this.c.bans.inc({ origin: 'manual' });
      this.snap.bans.manual++;
    } else {
      const lifted = this.reports.liftedAt(net, at).length;
      this.c.unbans.inc({ why: 'manual' }, lifted);
      this.snap.unbans.manual += lifted;
    }
  }

  sourceError(source: string, message: string, now: number): void {
    this.c.sourceErrors.inc({ source });
    const s = this.source(source);
    s.errors++;
    s.lastError = message;
    s.lastErrorAt = now;
    s.failing = true;
  }

  sourceRecovered(source: string): void {
    this.source(source).failing = false;
  }

  firewall(result: FirewallResult, now: number): void {
    const f = this.snap.firewall;
    if (result.ok) {
      f.failing = false;
      if (result.full) {
        this.c.syncs.inc();
        f.lastSyncAt = now;
      }
      return;
    }
    this.c.firewallErrors.inc();
    f.errors++;
    f.failing = true;
    f.lastError = result.error ?? 'unknown error';
    f.lastErrorAt = now;
  }

  reconciled(fixes: ReconcileFixes, now: number): void {
    this.c.reconcile.inc({ fix: 'added' }, fixes.added);
    this.c.reconcile.inc({ fix: 'removed' }, fixes.removed);
    this.c.reconcile.inc({ fix: 'refreshed' }, fixes.refreshed ?? 0);
    if (fixes.recreated) this.c.reconcile.inc({ fix: 'recreated' });
    this.snap.firewall.lastReconcile = { at: now, added: fixes.added, removed: fixes.removed, refreshed: fixes.refreshed ?? 0, recreated: fixes.recreated };
  }

  tick(now: number): void {
    this.snap.lastTickAt = now;
    this.lastTick.set({}, Math.floor(now / 1000));
  }

  private source(name: string): SourceSnapshot {
    let s = this.snap.sources[name];
    if (!s) {
      s = { lines: 0, failures: 0, unparsable: 0, lastLineAt: null, errors: 0, lastError: null, lastErrorAt: null, failing: false };
      this.snap.sources[name] = s;
    }
    return s;
  }
}
