import { execa } from 'execa';
import { formatDuration } from '../config/duration.js';
import type { ActionsConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Counter, Registry } from '../metrics/registry.js';
import type { Cidr } from '../net/address.js';
import { banCause } from '../pipeline/ban-cause.js';
import type { DaemonEvents, UnbanWhy } from '../pipeline/daemon-events.js';
import type { Ban } from '../store/bans.js';
import type { ReportsRepo } from '../store/reports.js';
import { expand, type HookValues } from './template.js';

export type HookName = 'onBan' | 'onUnban';
export type HookResult = 'ok' | 'failed' | 'timeout' | 'dropped';

/** Runs one hook; resolves with how it went, never rejects. */
export type HookExecutor = (argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number) => Promise<HookOutcome>;
export interface HookOutcome {
  result: Exclude<HookResult, 'dropped'>;
  detail: string;
}

/** Hooks running at once; more wait in the queue. */
export const MAX_RUNNING = 4;
/** Hooks waiting at most; beyond this a flood's hooks are dropped (and counted) rather than kept in memory. */
export const MAX_QUEUED = 1000;

const WHY_TEXT: Record<UnbanWhy, string> = {
  expired: 'expired',
  replaced: 'replaced by a network ban',
  manual: 'unbanned by hand',
};

export function banValues(event: 'ban' | 'unban', ban: Ban, why?: UnbanWhy): HookValues {
  const length = ban.expiresAt === null ? null : ban.expiresAt - ban.bannedAt;
  return {
    event,
    ip: ban.ip.text,
    cause: banCause(ban),
    duration: length === null ? 'forever' : formatDuration(length),
    seconds: length === null ? '0' : String(Math.round(length / 1000)),
    until: ban.expiresAt === null ? 'forever' : new Date(ban.expiresAt).toISOString(),
    reason: why ? WHY_TEXT[why] : ban.reason,
    failures: String(ban.failures),
    origin: ban.origin,
  };
}

/** execa with an argument array: no shell, a timeout, output kept short for the log. */
export const execaExecutor: HookExecutor = async (argv, env, timeoutMs) => {
  const r = await execa(argv[0]!, argv.slice(1), {
    env,
    timeout: timeoutMs,
    forceKillAfterDelay: 2000,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 64 * 1024,
  });
  const out = (s: unknown) => (typeof s === 'string' ? s.trim().slice(0, 300) : '');
  if (r.timedOut) return { result: 'timeout', detail: `still running after ${formatDuration(timeoutMs)}, killed` };
  if (r.failed) {
    const why = r.exitCode !== undefined ? `exit ${r.exitCode}` : r.signal ? `signal ${r.signal}` : (r.originalMessage ?? r.shortMessage ?? 'failed');
    const stderr = out(r.stderr);
    return { result: 'failed', detail: stderr ? `${why}: ${stderr}` : why };
  }
  return { result: 'ok', detail: '' };
};

/**
 * `actions.onBan` / `actions.onUnban`: runs the configured command for each
 * ban and unban the daemon makes or learns of, in the background. A hook
 * that fails or hangs is logged (and killed at the timeout); banning never
 * waits for it. At most {@link MAX_RUNNING} run at once, and a flood beyond
 * {@link MAX_QUEUED} waiting is dropped with a warning.
 */
export class HookRunner implements DaemonEvents {
  private running = 0;
  private readonly queue: { hook: HookName; values: HookValues }[] = [];
  private droppedSinceWarn = 0;
  private idle: (() => void)[] = [];
  private readonly runs: Counter | null;

  constructor(
    private readonly cfg: ActionsConfig,
    private readonly log: Logger,
    private readonly reports: ReportsRepo,
    o: { registry?: Registry; executor?: HookExecutor } = {},
  ) {
    this.exec = o.executor ?? execaExecutor;
    this.runs = o.registry ? o.registry.counter('blocker_hook_runs_total', 'Hook runs by hook and result (ok, failed, timeout, dropped).', ['hook', 'result']) : null;
    for (const hook of ['onBan', 'onUnban'] as const) {
      if (cfg[hook]) for (const result of ['ok', 'failed', 'timeout', 'dropped']) this.runs?.touch({ hook, result });
    }
  }

  private readonly exec: HookExecutor;

  banned(bans: readonly Ban[]): void {
    if (this.cfg.onBan) for (const b of bans) this.enqueue('onBan', banValues('ban', b));
  }

  unbanned(bans: readonly Ban[], why: UnbanWhy): void {
    if (this.cfg.onUnban) for (const b of bans) this.enqueue('onUnban', banValues('unban', b, why));
  }

  /** A CLI ban or unban: the ban itself is read back from the database. */
  admin(kind: 'ban' | 'unban', net: Cidr, at: number): void {
    if (kind === 'ban' && this.cfg.onBan) {
      const ban = this.reports.bansOverlapping(net).find((b) => b.ip.text === net.text && b.state === 'active' && b.bannedAt === at);
      if (ban) this.enqueue('onBan', banValues('ban', ban));
    } else if (kind === 'unban' && this.cfg.onUnban) {
      for (const b of this.reports.liftedAt(net, at)) this.enqueue('onUnban', banValues('unban', b, 'manual'));
    }
  }

  /** Resolves when no hook runs or waits (tests, and a stop that wants to give hooks a moment). */
  whenIdle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private enqueue(hook: HookName, values: HookValues): void {
    if (!this.cfg[hook]) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.runs?.inc({ hook, result: 'dropped' });
      if (this.droppedSinceWarn++ === 0) {
        this.log.warn('hooks cannot keep up: dropping runs until the queue drains', { hook, queued: this.queue.length });
      }
      return;
    }
    this.queue.push({ hook, values });
    this.pump();
  }

  private pump(): void {
    while (this.running < MAX_RUNNING && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void this.runOne(job.hook, job.values).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) {
          if (this.droppedSinceWarn) this.log.warn('hook queue drained', { dropped: this.droppedSinceWarn });
          this.droppedSinceWarn = 0;
          const waiting = this.idle;
          this.idle = [];
          for (const r of waiting) r();
        }
      });
    }
  }

  private async runOne(hook: HookName, values: HookValues): Promise<void> {
    const argv = expand(this.cfg[hook]!, values);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) env[`BLOCKER_${k.toUpperCase()}`] = v;
    let outcome: HookOutcome;
    try {
      outcome = await this.exec(argv, env, this.cfg.timeout);
    } catch (err) {
      outcome = { result: 'failed', detail: (err as Error).message };
    }
    this.runs?.inc({ hook, result: outcome.result });
    if (outcome.result === 'ok') this.log.debug('hook ran', { hook, ip: values.ip });
    else this.log.warn(outcome.result === 'timeout' ? 'hook timed out' : 'hook failed', { hook, ip: values.ip, command: argv[0], error: outcome.detail });
  }
}
