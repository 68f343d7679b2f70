import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceConfig } from '../config/schema.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { entriesFor } from '../firewall/plan.js';
import type { Logger } from '../log.js';
import { cidrContains, cidrOf, isSingleAddress, parseIp } from '../net/address.js';
import { emptyState, forget, observe, prune, type PolicyRules, type PolicyState } from '../policy/thresholds.js';
import { createSignature, type FormatName } from '../signatures/index.js';
import { isFailure, type Signature } from '../signatures/types.js';
import { FileSource } from '../sources/file.js';
import type { Ban, NewBan } from '../store/bans.js';
import type { StoredFailure } from '../store/failures.js';
import type { Store } from '../store/store.js';

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
  /** Pause between polls when no source had anything new. */
  readonly pollMs?: number;
}

export interface TickStats {
  lines: number;
  matched: number;
  unparsable: number;
  bans: Ban[];
  expired: Ban[];
  /** True when some source stopped at its per-poll limit and has more to read. */
  more: boolean;
}

interface RunningSource {
  readonly source: FileSource;
  readonly signature: Signature;
}

/**
 * The live pipeline: sources → signatures → store → policy → firewall, one
 * tick at a time. Each tick's failures, positions and bans are one database
 * transaction, and its firewall changes one kernel transaction.
 */
export class Daemon {
  private readonly state: PolicyState = emptyState();
  private readonly running: RunningSource[];
  private lastAdminEvent: number;
  private lastPrune = 0;
  private lastExpiry = 0;
  private logNow = 0;
  private needsSync = true;
  private stopping = false;
  private wake: (() => void) | null = null;

  constructor(private readonly o: DaemonOptions) {
    this.running = o.sources.filter((s) => s.type === 'file').map((s) => ({
      source: new FileSource(
        { name: s.name, path: s.path, readFrom: s.readFrom },
        o.store.offsets.get(s.name),
        o.log,
      ),
      signature: createSignature(s.format),
    }));
    this.lastAdminEvent = o.store.adminEvents.lastId();
    this.restoreState(o.clock());
  }

  private now(): number {
    return this.o.replay ? this.logNow : this.o.clock();
  }

  /** Rebuilds the policy's memory from the database: bans in force and failures still in their window. */
  private restoreState(now: number): void {
    const { store, rules } = this.o;
    for (const b of store.bans.active(now)) {
      if (isSingleAddress(b.ip)) this.state.bannedUntil.set(b.ip.text, b.expiresAt ?? Number.POSITIVE_INFINITY);
    }
    const banEnds = store.bans.lastBanEnds();
    for (const f of store.failures.since(now - rules.findTime)) {
      const end = banEnds.get(f.ip.text);
      if (end !== undefined && f.at <= end) continue;
      let times = this.state.windows.get(f.ip.text);
      if (!times) this.state.windows.set(f.ip.text, (times = []));
      times.push(f.at);
      if (times.length > rules.maxRetry) times.shift();
    }
  }

  /** Reads, decides and applies once. */
  async tick(): Promise<TickStats> {
    const { store, rules, log } = this.o;
    const stats: TickStats = { lines: 0, matched: 0, unparsable: 0, bans: [], expired: [], more: false };
    this.applyAdminEvents();
    const failures: StoredFailure[] = [];
    const positions: { name: string; position: NonNullable<ReturnType<FileSource['poll']>>['position'] }[] = [];
    const newBans: NewBan[] = [];
    let now = this.now();
    for (const { source, signature } of this.running) {
      let batch;
      try {
        batch = source.poll();
      } catch (err) {
        log.error('cannot read source, will retry', { source: source.name, error: (err as Error).message });
        continue;
      }
      if (!batch) continue;
      if (batch.lines.length) stats.more = true;
      positions.push({ name: source.name, position: batch.position });
      for (const line of batch.lines) {
        stats.lines++;
        const r = signature.match(line);
        if (r === null) continue;
        if (!isFailure(r)) {
          stats.unparsable++;
          continue;
        }
        stats.matched++;
        if (this.o.replay && r.time !== null && r.time > this.logNow) this.logNow = r.time;
        now = this.now();
        const at = r.time ?? now;
        failures.push({ ip: r.ip, at, source: source.name, reason: r.reason });
        if (!this.o.replay && at < now - rules.findTime) continue;
        // Replay decides at each line's own time, so sources read one after the other still agree.
        const d = observe(this.state, rules, { ip: r.ip, time: at, reason: r.reason }, this.o.replay ? at : now);
        if (d?.kind === 'ban') {
          newBans.push({
            ip: cidrOf(d.ip),
            reason: d.reason,
            failures: d.failures,
            origin: 'auto',
            bannedAt: d.at,
            expiresAt: d.until,
          });
        } else if (d?.kind === 'spared') {
          log.info('not banned: protected', { ip: d.ip.text, by: d.by, failures: d.failures });
        }
      }
    }
    now = this.now();
    if (failures.length || positions.length || newBans.length || this.lastExpiry + 1000 <= now) {
      this.lastExpiry = now;
      const committed = store.transaction(() => {
        store.failures.record(failures);
        for (const p of positions) store.offsets.save(p.name, p.position, now);
        const cidrBans = store.bans.active(now).filter((b) => !isSingleAddress(b.ip));
        const recorded: Ban[] = [];
        for (const nb of newBans) {
          // Already inside a banned network: the kernel drops it anyway.
          if (cidrBans.some((c) => cidrContains(c.ip, nb.ip))) continue;
          recorded.push(store.bans.record(nb));
        }
        const expired = store.bans.expire(now);
        return { recorded, expired };
      });
      stats.bans = committed.recorded;
      stats.expired = committed.expired;
    }
    for (const b of stats.bans) {
      log.info('ban', { ip: b.ip.text, failures: b.failures, until: new Date(b.expiresAt!).toISOString(), reason: b.reason });
      this.o.backend.add({ net: b.ip, ttlMs: b.expiresAt === null ? null : b.expiresAt - now });
    }
    for (const b of stats.expired) log.info('unban', { ip: b.ip.text, why: 'expired' });
    await this.applyFirewall(now);
    if (this.lastPrune + 60_000 <= now) {
      prune(this.state, rules, now);
      this.lastPrune = now;
    }
    return stats;
  }

  private async applyFirewall(now: number): Promise<void> {
    const { backend, store, log } = this.o;
    try {
      if (this.needsSync) {
        await backend.sync(entriesFor(store.bans.active(now), now));
        this.needsSync = false;
      } else {
        await backend.commit();
      }
    } catch (err) {
      // The database is the truth: re-apply everything on the next tick.
      this.needsSync = true;
      log.error('firewall update failed, will retry', { backend: backend.name, error: (err as Error).message });
    }
  }

  /** Brings memory in line with bans and unbans made by CLI commands while running. */
  private applyAdminEvents(): void {
    const events = this.o.store.adminEvents.after(this.lastAdminEvent);
    for (const ev of events) {
      this.lastAdminEvent = ev.id;
      if (ev.kind === 'ban' && isSingleAddress(ev.ip)) {
        const ban = this.o.store.bans.activeFor(ev.ip);
        if (ban) this.state.bannedUntil.set(ban.ip.text, ban.expiresAt ?? Number.POSITIVE_INFINITY);
        this.state.windows.delete(ev.ip.text);
      } else if (ev.kind === 'unban') {
        for (const key of [...this.state.windows.keys(), ...this.state.bannedUntil.keys()]) {
          const ip = parseIp(key);
          if (ip && cidrContains(ev.ip, ip)) forget(this.state, key);
        }
      }
    }
  }

  /** Makes the kernel hold exactly the bans in force, as at start-up. */
  async start(): Promise<void> {
    await this.applyFirewall(this.now());
  }

  /** Runs until {@link stop}; with `once`, returns when every source is read to its end. */
  async run(options: { once?: boolean } = {}): Promise<void> {
    const pollMs = this.o.pollMs ?? 100;
    await this.start();
    while (!this.stopping) {
      const stats = await this.tick();
      if (options.once && !stats.more) break;
      if (!stats.more) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          void sleep(pollMs).then(resolve);
        });
        this.wake = null;
      }
    }
    for (const r of this.running) r.source.close();
    await this.o.backend.shutdown();
  }

  /** Asks {@link run} to finish its current tick and return. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }
}
