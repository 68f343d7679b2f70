import type { Logger } from '../log.js';
import type { Cidr } from '../net/address.js';
import type { Cause } from '../signatures/causes.js';
import type { Ban } from '../store/bans.js';

/** How a ban ended, as the daemon saw it. */
export type UnbanWhy = 'expired' | 'replaced' | 'manual';

/** What the firewall's last kernel transaction did. */
export interface FirewallResult {
  readonly ok: boolean;
  /** A full sync (start, or after a failure) rather than one tick's changes. */
  readonly full: boolean;
  readonly error?: string;
}

/** What a reconcile of kernel and database put right. */
export interface ReconcileFixes {
  readonly added: number;
  readonly removed: number;
  /** Members whose kernel timeout was off, set again (backends that compare timeouts). */
  readonly refreshed?: number;
  /** Our table or chain was gone and was created again. */
  readonly recreated: boolean;
}

/**
 * What the daemon tells observers (metrics, hooks, the status heartbeat) as it
 * goes. Every method is optional; observers must be quick and never decide
 * anything: the daemon calls them through {@link guardEvents}, so one that
 * throws is logged and ignored.
 */
export interface DaemonEvents {
  /** Lines one source handed over in one tick. */
  lines?(source: string, count: number, now: number): void;
  /** One handshake failure with a valid client address. */
  failure?(source: string, format: string, cause: Cause): void;
  /** A failure-shaped line whose address was invalid or not trusted (counted, never banned). */
  unparsable?(source: string, format: string): void;
  /** Automatic bans recorded this tick (in the database, before the kernel). */
  banned?(bans: readonly Ban[], now: number): void;
  /** Bans that ended this tick. */
  unbanned?(bans: readonly Ban[], why: UnbanWhy, now: number): void;
  /** A `blocker ban` / `blocker unban` from the command line, as the daemon picks it up. */
  admin?(kind: 'ban' | 'unban', net: Cidr, at: number): void;
  sourceError?(source: string, message: string, now: number): void;
  /** A source that had failed reads again. */
  sourceRecovered?(source: string, now: number): void;
  firewall?(result: FirewallResult, now: number): void;
  /** A backend that compares the kernel with the database reports what it fixed. */
  reconciled?(fixes: ReconcileFixes, now: number): void;
  /** End of every tick. */
  tick?(now: number): void;
  /** The daemon has stopped (clean shutdown). */
  stopped?(now: number): void;
}

const EVENT_NAMES = [
  'lines', 'failure', 'unparsable', 'banned', 'unbanned', 'admin', 'sourceError', 'sourceRecovered', 'firewall', 'reconciled', 'tick', 'stopped',
] as const satisfies readonly (keyof DaemonEvents)[];

/** Several observers as one, each call isolated: an observer that throws is logged, never the daemon's problem. */
export function guardEvents(list: readonly (DaemonEvents | undefined)[], log: Logger): DaemonEvents {
  const observers = list.filter((o): o is DaemonEvents => o !== undefined);
  const out: Record<string, unknown> = {};
  for (const key of EVENT_NAMES) {
    // Methods may live on a class's prototype, so look them up rather than listing own keys.
    const fns = observers
      .filter((o) => typeof o[key] === 'function')
      .map((o) => (o[key] as (...a: unknown[]) => void).bind(o));
    if (fns.length === 0) continue;
    out[key] = (...args: unknown[]) => {
      for (const fn of fns) {
        try {
          fn(...args);
        } catch (err) {
          log.error('observer failed (ignored)', { event: key, error: (err as Error).message });
        }
      }
    };
  }
  return out as DaemonEvents;
}
