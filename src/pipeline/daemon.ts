import { setImmediate as yieldToEvents } from 'node:timers/promises';
import type { SourceConfig } from '../config/schema.js';
import { reconcileChanged, type FirewallBackend } from '../firewall/backend.js';
import { entriesFor } from '../firewall/plan.js';
import type { Logger } from '../log.js';
import { advance, emptyState, forgetWithin, observe, prune, restore, type PolicyRules, type PolicyState } from '../policy/thresholds.js';
import { causeOf } from '../signatures/causes.js';
import { createSignature } from '../signatures/index.js';
import { nginxWorkerCheck } from './nginx-workers.js';
import { isFailure, type Signature } from '../signatures/types.js';
import { createSource, type SourceContext } from '../sources/index.js';
import type { Checkpoint, Source } from '../sources/types.js';
import type { Ban, NewBan } from '../store/bans.js';
import type { StoredFailure } from '../store/failures.js';
import type { Store } from '../store/store.js';
import { guardEvents, type DaemonEvents } from './daemon-events.js';
import { DecisionSink, recordBans } from './decisions.js';
import { policyData, withPolicyData } from './rules.js';

export type DaemonSource = SourceConfig;

export interface DaemonOptions {
  readonly store: Store;
  readonly backend: FirewallBackend;
  readonly rules: PolicyRules;
  readonly sources: readonly DaemonSource[];
  readonly log: Logger;
  /** The wall clock. */
  readonly clock: () => number;
  /**
   * Replay: time is the log's own (the newest line time seen), as in `blocker
   * check`; used by the demo. Live, lines older than findTime are recorded but
   * ban no one, as a daemon catching up on an old file should not ban for last week.
   */
  readonly replay?: boolean;
  /** Longest pause between two looks at the sources when no file-system event wakes the daemon. */
  readonly pollMs?: number;
  /** Shortest time between two ticks while lines keep coming, so a steady trickle is batched. */
  readonly batchMs?: number;
  /** How often to log a one-line summary (0: never). */
  readonly summaryEveryMs?: number;
  /** Extras for building sources (tests give a stdin stream, a recorded journalctl, file timings). */
  readonly sourceContext?: Omit<Partial<SourceContext>, 'store' | 'log'>;
  /** Observers: metrics, hooks, the status heartbeat (issue 7), each called in turn and guarded here. */
  readonly events?: DaemonEvents | readonly DaemonEvents[];
  /** How often to reconcile the kernel with the database (issue 6); unset: only at start and after a failure. */
  readonly reconcileEveryMs?: number;
}

export interface TickStats {
  lines: number;
  matched: number;
  unparsable: number;
  bans: Ban[];
  expired: Ban[];
  /** True when some source has more to read right now (it stopped at its per-poll limit). */
  more: boolean;
}

interface RunningSource {
  readonly config: DaemonSource;
  /** Null until it could be created (creating it may fail, and is retried). */
  source: Source | null;
  readonly signature: Signature;
  /** Consecutive failures, for the backoff. */
  errors: number;
  retryAt: number;
  lastError: string | null;
}

/** What one tick read and decided, kept until the database has taken it. */
interface Pending {
  readonly failures: StoredFailure[];
  readonly checkpoints: { readonly source: string; readonly checkpoint: Checkpoint }[];
  readonly newBans: NewBan[];
}

const PRUNE_EVERY_MS = 60_000;
const PRUNE_STEP = 20_000;
const ADMIN_EVENTS_KEPT_MS = 86_400_000;
/** Ended bans are history: kept this long at least (longer when repeat-offender escalation remembers more). */
const ENDED_BANS_KEPT_MS = 30 * 86_400_000;
const PRUNE_BANS_EVERY_MS = 3_600_000;

/**
 * The live pipeline: sources → signatures → store → policy → firewall, one
 * tick at a time. Each tick's failures, source positions and bans are one
 * database transaction, and its firewall changes one kernel transaction.
 *
 * What survives what: a source that fails is retried with backoff while the
 * others go on; a tick the database cannot take (locked by another process,
 * disk full) is kept and retried, and no source is read meanwhile, so nothing
 * is lost or counted twice; a firewall that fails is re-synced from the
 * database on the next tick.
 */
export class Daemon {
  private readonly state: PolicyState = emptyState();
  private running: RunningSource[];
  private rules: PolicyRules;
  private nextConfig: { rules: PolicyRules; sources: readonly DaemonSource[] } | null = null;
  private pending: Pending | null = null;
  private dbErrors = 0;
  private dbRetryAt = 0;
  private lastAdminEvent: number;
  private lastPrune = Number.NEGATIVE_INFINITY;
  private pruning = false;
  private lastBanPrune = Number.NEGATIVE_INFINITY;
  private pruningBans = false;
  private lastExpiry = 0;
  private logNow = 0;
  private needsSync = true;
  private lastReconcile = Number.NEGATIVE_INFINITY;
  private firewallErrors = 0;
  private firewallRetryAt = 0;
  private stopping = false;
  /** `run({ once })`: stop when every source has given what it holds now. */
  private once = false;
  private activity = false;
  private wake: (() => void) | null = null;
  private summary = { since: 0, lines: 0, matched: 0, bans: 0, unbans: 0, pruned: 0 };
  /** Lines cut at maxLineBytes up to the last summary (sources count since they started). */
  private cutReported = 0;
  private readonly decisions: DecisionSink;
  private readonly events: DaemonEvents;
  /** Revision of the database's policy data (allow list, CDN lists) that `rules` holds; -1: not loaded. */
  private policyRevision = -1;
  /**
   * The bans in force as read for the policy's memory at start, kept for the
   * first reconcile so that a start with 100k bans reads them once, not twice.
   */
  private startBans: { bans: Ban[]; mark: string } | null = null;

  constructor(private readonly o: DaemonOptions) {
    this.rules = o.rules;
    this.decisions = new DecisionSink(o.log);
    // One guard around them all: an observer is called once per failure line, so a second wrapper would show.
    this.events = guardEvents(Array.isArray(o.events) ? o.events : [o.events as DaemonEvents | undefined], o.log);
    this.running = o.sources.map((s) => this.prepare(s));
    this.lastAdminEvent = o.store.adminEvents.lastId();
    this.restoreState(o.clock());
    this.summary.since = o.clock();
  }

  private prepare(config: DaemonSource): RunningSource {
    // Issue 3: the source's own format settings (regex pattern, nginx pid check).
    const signature = createSignature(config, {
      now: this.o.clock(),
      ...(config.format === 'nginx' && config.checkPid ? { isNginxWorker: nginxWorkerCheck() } : {}),
    });
    return { config, source: null, signature, errors: 0, retryAt: 0, lastError: null };
  }

  private now(): number {
    return this.o.replay ? this.logNow : this.o.clock();
  }

  /** Rebuilds the policy's memory from the database: bans in force, past bans, failures still in their window. */
  private restoreState(now: number): void {
    const { store } = this.o;
    const rules = this.rules;
    const mark = store.changeMark();
    const bans = store.bans.active(now);
    this.startBans = { bans, mark };
    restore(this.state, rules, {
      bans: bans.map((b) => ({ net: b.ip, until: b.expiresAt, since: b.bannedAt })),
      ...(rules.escalation ? { history: store.banHistory.since(now - rules.escalation.rememberFor) } : {}),
      failures: store.recentFailures.since(now - rules.findTime).map((f) => ({ ip: f.ip, at: f.at, cause: causeOf(f.reason) })),
      banEnds: store.bans.lastBanEnds(),
    });
  }

  /**
   * Picks up allow-list and CDN-list changes made by CLI commands (`unban
   * --allow`, `allow remove`, `cdn update`) within a tick, and lets the storm
   * breaker see time pass without lines.
   */
  private refreshPolicy(now: number): void {
    try {
      const revision = this.o.store.revisions.current();
      if (revision !== this.policyRevision) {
        this.rules = withPolicyData(this.rules, policyData(this.o.store));
        this.policyRevision = revision;
      }
    } catch (err) {
      this.o.log.debug('policy data refresh postponed', { error: (err as Error).message });
    }
    for (const d of advance(this.state, this.rules, now)) this.decisions.take(d);
  }

  /**
   * Takes a new configuration (SIGHUP), validated by the caller. It applies
   * between two ticks: new policy rules, and sources added, removed or changed
   * (a changed source resumes from its stored positions).
   */
  reload(next: { rules: PolicyRules; sources: readonly DaemonSource[] }): void {
    this.nextConfig = next;
    this.poke();
  }

  private applyReload(): void {
    const next = this.nextConfig;
    if (!next) return;
    this.nextConfig = null;
    this.rules = next.rules;
    this.policyRevision = -1;
    const old = new Map(this.running.map((r) => [r.config.name, r]));
    this.running = next.sources.map((cfg) => {
      const kept = old.get(cfg.name);
      if (kept && JSON.stringify(kept.config) === JSON.stringify(cfg)) {
        old.delete(cfg.name);
        return kept;
      }
      return this.prepare(cfg);
    });
    for (const r of old.values()) r.source?.close();
  }

  /** Reads, decides and applies once. */
  async tick(): Promise<TickStats> {
    const { store, log } = this.o;
    const stats: TickStats = { lines: 0, matched: 0, unparsable: 0, bans: [], expired: [], more: false };
    let now = this.now();
    // A tick the database did not take yet goes first, before anything new is read.
    if (this.pending) {
      if (now < this.dbRetryAt) return stats;
      const committed = this.commit(this.pending, now);
      if (!committed) return stats;
      this.pending = null;
      await this.afterCommit(committed, stats, now);
    }
    this.applyReload();
    this.applyAdminEvents();
    this.refreshPolicy(now);
    const failures: StoredFailure[] = [];
    const checkpoints: Pending['checkpoints'] = [];
    const newBans: NewBan[] = [];
    const rules = this.rules;
    for (const rs of this.running) {
      const batch = this.pollSource(rs, now);
      if (rs.source?.behind) stats.more = true;
      if (!batch) continue;
      for (const checkpoint of batch.checkpoints) checkpoints.push({ source: rs.config.name, checkpoint });
      const lines = batch.lines;
      if (lines.length) this.events.lines?.(rs.config.name, lines.length, now);
      for (let i = 0; i < lines.length; i++) {
        stats.lines++;
        const r = rs.signature.match(lines[i]!, lines[i + 1]);
        if (r === null) continue;
        if (!isFailure(r)) {
          stats.unparsable++;
          this.events.unparsable?.(rs.config.name, rs.config.format);
          continue;
        }
        stats.matched++;
        this.events.failure?.(rs.config.name, rs.config.format, r.cause);
        if (this.o.replay && r.time !== null && r.time > this.logNow) this.logNow = r.time;
        now = this.now();
        const at = r.time ?? now;
        failures.push({ ip: r.ip, at, source: rs.config.name, reason: r.reason });
        if (!this.o.replay && at < now - rules.findTime) continue;
        // Replay decides at each line's own time, so sources read one after the other still agree.
        const ev = { ip: r.ip, time: at, reason: r.reason, cause: r.cause };
        for (const d of observe(this.state, rules, ev, this.o.replay ? at : now)) {
          const ban = this.decisions.take(d);
          if (ban) newBans.push(ban);
        }
      }
    }
    now = this.now();
    this.summary.lines += stats.lines;
    this.summary.matched += stats.matched;
    if (failures.length || checkpoints.length || newBans.length || this.lastExpiry + 1000 <= now) {
      const pending: Pending = { failures, checkpoints, newBans };
      const committed = this.commit(pending, now);
      if (!committed) {
        this.pending = pending;
        stats.more = false;
        return stats;
      }
      await this.afterCommit(committed, stats, now);
    } else {
      await this.applyFirewall(now);
    }
    this.housekeeping(now);
    this.events.tick?.(now);
    return stats;
  }

  /** Polls one source unless it is waiting out a failure; a failure is logged and backed off. */
  private pollSource(rs: RunningSource, now: number) {
    if (rs.retryAt > now) return null;
    try {
      if (!rs.source) {
        rs.source = createSource(rs.config, {
          ...this.o.sourceContext,
          once: this.once,
          store: this.o.store,
          log: this.o.log,
        });
        rs.source.onActivity(() => this.poke());
      }
      const batch = rs.source.poll();
      if (rs.errors) {
        this.o.log.info('source recovered', { source: rs.config.name });
        this.events.sourceRecovered?.(rs.config.name, now);
        rs.errors = 0;
        rs.lastError = null;
      }
      return batch;
    } catch (err) {
      const message = (err as Error).message;
      rs.errors++;
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(rs.errors - 1, 6));
      rs.retryAt = now + delay;
      // The same error again is not news: once is enough at the default level.
      const level = message === rs.lastError ? 'debug' : 'error';
      this.o.log[level]('source failed, others go on; retrying', {
        source: rs.config.name,
        error: message,
        retryIn: `${Math.round(delay / 1000)}s`,
      });
      rs.lastError = message;
      this.events.sourceError?.(rs.config.name, message, now);
      return null;
    }
  }

  /**
   * Writes one tick to the database in one transaction: failures, the source
   * positions after them, bans, and expiries. Null when the database did not
   * take it (the caller keeps it and tries again).
   */
  private commit(p: Pending, now: number): { recorded: Ban[]; replaced: Ban[]; expired: Ban[] } | null {
    const { store, log } = this.o;
    try {
      const result = store.transaction(() => {
        store.failures.record(p.failures);
        for (const { source, checkpoint: c } of p.checkpoints) {
          if (c.kind === 'file') store.offsets.save(source, c.position, now);
          else if (c.kind === 'file-done') store.offsets.remove(source, c);
          else store.cursors.save(source, c.cursor, now);
        }
        // Inside a banned network: dropped; a network (an IPv6 prefix) replaces the bans it covers.
        const { recorded, replaced } = recordBans(store, p.newBans, now);
        this.decisions.flush(store, this.state, now);
        const expired = this.lastExpiry + 1000 <= now ? store.bans.expire(now) : [];
        return { recorded, replaced, expired };
      });
      if (this.dbErrors) log.info('database writable again', { after: this.dbErrors });
      this.dbErrors = 0;
      this.lastExpiry = now;
      return result;
    } catch (err) {
      const e = err as Error & { code?: string };
      const busy = typeof e.code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(e.code);
      this.dbErrors++;
      // Locked: another process holds it, try again next tick. Anything else (disk full…): back off.
      this.dbRetryAt = busy ? 0 : now + Math.min(30_000, 500 * 2 ** Math.min(this.dbErrors - 1, 6));
      if (this.dbErrors === 1 || this.dbErrors % 100 === 0) {
        log[busy ? 'warn' : 'error'](
          busy ? 'database is locked by another process; holding this tick and retrying' : 'cannot write to the database; holding this tick and retrying',
          { error: e.message, attempts: this.dbErrors },
        );
      }
      return null;
    }
  }

  private async afterCommit(c: { recorded: Ban[]; replaced: Ban[]; expired: Ban[] }, stats: TickStats, now: number): Promise<void> {
    const { log, backend } = this.o;
    stats.bans.push(...c.recorded);
    stats.expired.push(...c.expired);
    for (const b of c.replaced) {
      log.info('unban', { ip: b.ip.text, why: 'replaced by a network ban' });
      backend.remove(b.ip);
    }
    for (const b of c.recorded) {
      log.info('ban', {
        ip: b.ip.text,
        failures: b.failures,
        until: b.expiresAt === null ? 'forever' : new Date(b.expiresAt).toISOString(),
        reason: b.reason,
      });
      backend.add({ net: b.ip, ttlMs: b.expiresAt === null ? null : b.expiresAt - now });
    }
    for (const b of c.expired) log.info('unban', { ip: b.ip.text, why: 'expired' });
    if (c.recorded.length) this.events.banned?.(c.recorded, now);
    if (c.replaced.length) this.events.unbanned?.(c.replaced, 'replaced', now);
    if (c.expired.length) this.events.unbanned?.(c.expired, 'expired', now);
    this.summary.bans += c.recorded.length;
    this.summary.unbans += c.expired.length;
    await this.applyFirewall(now);
  }

  /** Keeps memory and the database bounded, and says now and then what happened. */
  private housekeeping(now: number): void {
    const { store, log } = this.o;
    if (this.lastPrune + PRUNE_EVERY_MS <= now) {
      this.lastPrune = now;
      prune(this.state, this.rules, now);
      // Replay runs on the logs' clock: pruning by it would race the wall clock's rows.
      if (!this.o.replay) this.pruning = true;
    }
    if (this.pruning || this.pruningBans) {
      try {
        if (this.pruning) {
          // Older than the window, a failure can no longer ban anyone. A step at a time,
          // so a big backlog does not hold the write lock for long.
          const n = store.transaction(() => store.failures.pruneSome(now - this.rules.findTime, PRUNE_STEP));
          this.summary.pruned += n;
          if (n < PRUNE_STEP) {
            this.pruning = false;
            store.transaction(() => store.adminEvents.pruneBefore(now - ADMIN_EVENTS_KEPT_MS));
            if (this.lastBanPrune + PRUNE_BANS_EVERY_MS <= now) {
              this.lastBanPrune = now;
              this.pruningBans = true;
            }
          }
        } else {
          // A month-long flood of unique addresses bans many: their ended bans go too, a step per tick.
          const keep = Math.max(ENDED_BANS_KEPT_MS, this.rules.escalation?.rememberFor ?? 0);
          const n = store.transaction(() => store.bans.pruneEndedBefore(now - keep, PRUNE_STEP));
          if (n < PRUNE_STEP) this.pruningBans = false;
        }
      } catch (err) {
        log.debug('pruning postponed', { error: (err as Error).message });
      }
    }
    const every = this.o.summaryEveryMs ?? 3_600_000;
    if (every > 0 && this.summary.since + every <= now) {
      const s = this.summary;
      if (s.lines || s.bans || s.unbans) {
        const cutTotal = this.running.reduce((n, r) => n + (r.source?.cutLines ?? 0), 0);
        const cut = cutTotal - this.cutReported;
        this.cutReported = cutTotal;
        const failing = this.running.filter((r) => r.errors > 0).map((r) => r.config.name);
        log.info('summary', {
          period: `${Math.round((now - s.since) / 1000)}s`,
          lines: s.lines,
          failures: s.matched,
          bans: s.bans,
          unbans: s.unbans,
          pruned: s.pruned,
          cutLines: cut || undefined,
          failingSources: failing.length ? failing.join(',') : undefined,
        });
      }
      this.summary = { since: now, lines: 0, matched: 0, bans: 0, unbans: 0, pruned: 0 };
    }
  }

  private async applyFirewall(now: number): Promise<void> {
    const { backend, store, log } = this.o;
    const every = this.o.reconcileEveryMs;
    const full = this.needsSync || (every !== undefined && !this.o.replay && this.lastReconcile + every <= now);
    // After a failure, the retries (each a full reconcile) back off from 0.5 s to 30 s.
    if (this.needsSync && now < this.firewallRetryAt) return;
    try {
      if (full) {
        // Reads the kernel back, then the database (the truth), and fixes what differs.
        const fixes = await backend.reconcile(() => {
          const t = this.now();
          return entriesFor(this.startBansIfCurrent() ?? store.bans.targets(t), t);
        });
        this.needsSync = false;
        this.lastReconcile = now;
        if (reconcileChanged(fixes)) {
          const { added, removed, refreshed, repairs } = fixes;
          log.info('firewall reconciled', { added, removed, refreshed, repaired: repairs.join('; ') || undefined });
        }
        this.events.reconciled?.(fixes, now);
      } else {
        await backend.commit();
      }
      this.events.firewall?.({ ok: true, full }, now);
      this.firewallErrors = 0;
    } catch (err) {
      // The database is the truth: re-apply everything at the next try.
      this.needsSync = true;
      this.firewallErrors++;
      this.firewallRetryAt = now + Math.min(30_000, 500 * 2 ** Math.min(this.firewallErrors - 1, 6));
      log.error('firewall update failed, will retry', { backend: backend.name, error: (err as Error).message });
      this.events.firewall?.({ ok: false, full, error: (err as Error).message }, now);
    }
  }

  /**
   * The bans read at start, once, if nothing was written to the database since
   * (a CLI `ban` or `unban`, say). Bans that ran out since are dropped by the caller's clock.
   */
  private startBansIfCurrent(): Ban[] | null {
    const start = this.startBans;
    this.startBans = null;
    if (!start) return null;
    try {
      return this.o.store.changeMark() === start.mark ? start.bans : null;
    } catch {
      return null;
    }
  }

  /** Brings memory in line with bans and unbans made by CLI commands while running. */
  private applyAdminEvents(): void {
    let events;
    try {
      events = this.o.store.adminEvents.after(this.lastAdminEvent);
    } catch (err) {
      this.o.log.debug('admin events postponed', { error: (err as Error).message });
      return;
    }
    for (const ev of events) {
      this.lastAdminEvent = ev.id;
      this.events.admin?.(ev.kind, ev.ip, ev.at);
      if (ev.kind === 'ban') {
        const ban = this.o.store.bans.activeFor(ev.ip);
        if (ban) this.state.bannedUntil.set(ban.ip.text, ban.expiresAt ?? Number.POSITIVE_INFINITY);
        this.state.windows.delete(ev.ip.text);
      } else if (ev.kind === 'unban') {
        forgetWithin(this.state, ev.ip);
      }
    }
  }

  /** Makes the kernel hold exactly the bans in force, as at start-up. */
  async start(): Promise<void> {
    // A missing nft/ipset or CAP_NET_ADMIN stops the start with a message saying what to do.
    await this.o.backend.check();
    await this.applyFirewall(this.now());
  }

  /**
   * Runs until {@link stop}; with `once`, returns when every source is read to
   * its end. Also returns when every source has ended (stdin closed).
   */
  async run(options: { once?: boolean } = {}): Promise<void> {
    const pollMs = this.o.pollMs ?? 250;
    const batchMs = this.o.batchMs ?? 10;
    this.once = options.once ?? false;
    await this.start();
    while (!this.stopping) {
      const began = Date.now();
      const stats = await this.tick();
      const allEnded = this.running.length > 0 && this.running.every((r) => r.source?.ended);
      // Once: files are read to their end; a pipe or journalctl has ended.
      const drained = !stats.more && this.running.every((r) => r.config.type === 'file' || r.source?.ended || r.errors > 0);
      if (!this.pending && ((this.once && drained) || allEnded)) break;
      if (stats.more) {
        // Let signals and file-system events in before reading on.
        await yieldToEvents();
        continue;
      }
      await this.waitForWork(this.pending ? Math.min(pollMs, 100) : pollMs);
      // Lines keep coming: give them a moment to gather, so each tick carries a batch.
      const rest = batchMs - (Date.now() - began);
      if (stats.lines > 0 && rest > 0 && !this.stopping) await new Promise((r) => setTimeout(r, rest));
    }
    // A tick still held for the database gets a last chance.
    if (this.pending && this.commit(this.pending, this.now())) this.pending = null;
    if (this.pending) this.o.log.error('stopped with one tick unsaved: its lines will be read again at the next start');
    for (const r of this.running) r.source?.close();
    await this.o.backend.shutdown();
    this.events.stopped?.(this.now());
  }

  private waitForWork(ms: number): Promise<void> {
    if (this.activity || this.stopping) {
      this.activity = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        self.activity = false;
        resolve();
      }
      this.wake = done;
    });
  }

  /** Something may be waiting (a file-system event, a line on a pipe, a reload). */
  private poke(): void {
    this.activity = true;
    this.wake?.();
  }

  /** Asks {@link run} to finish its current tick and return. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }
}
