import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { createLogger, type Level, type Logger } from '../log.js';
import { Daemon } from '../pipeline/daemon.js';
import { policyRules } from '../pipeline/rules.js';
import { backendFor } from './backend-for.js';
import { configFrom, type CommonOptions } from './context.js';
import type { Io } from './io.js';
import { openStore } from '../store/store.js';
import { watchObservers } from './watch-observers.js';
import { onStopSignal } from './stop-signals.js';
import { batchWrites } from './write-batch.js';
import { collectGarbage } from './memory-first.js';

/**
 * How long the daemon lets SQLite wait for another process's write lock
 * before it holds the tick and retries: the wait blocks its event loop, so it
 * stays short enough for signals to be answered promptly.
 */
const DAEMON_BUSY_TIMEOUT_MS = 250;
/**
 * SQLite's own default page cache. better-sqlite3 builds SQLite with 16 MiB,
 * which a flood filled with failure rows the daemon never reads again (16 MB
 * of the live bench's settled RSS); the tables written per line only grow at
 * their end, so a small cache holds what they touch.
 */
const DAEMON_CACHE_KIB = 2048;

/** A SIGTERM or SIGINT, and the daemon it stops once there is one. */
interface Stopping {
  requested: boolean;
  daemon: Daemon | null;
}

export async function watchCommand(
  opts: CommonOptions & { once?: boolean; logLevel?: string },
  io: Io,
): Promise<number> {
  // Claimed at once: a stop that comes before the daemon exists stops it as soon as it does.
  const stopping: Stopping = { requested: false, daemon: null };
  const release = onStopSignal(() => {
    stopping.requested = true;
    stopping.daemon?.stop();
  });
  const errOut = batchWrites(io.err);
  try {
    return await watch(opts, io, errOut.write, stopping);
  } finally {
    errOut.close();
    release();
  }
}

async function watch(
  opts: CommonOptions & { once?: boolean; logLevel?: string },
  io: Io,
  writeLog: (text: string) => void,
  stopping: Stopping,
): Promise<number> {
  const cfg = configFrom(opts);
  if (cfg.sources.length === 0) {
    throw new UserError('config key sources: no log sources configured, so there is nothing to watch', 2);
  }
  const level = (opts.logLevel ?? 'info') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new UserError(`--log-level: expected debug, info, warn or error, got "${opts.logLevel}"`, 2);
  }
  const log = createLogger(writeLog, level);
  const store = openStore(cfg.database, { busyTimeoutMs: DAEMON_BUSY_TIMEOUT_MS, cacheKiB: DAEMON_CACHE_KIB });
  const backend = backendFor(cfg, io);
  // Issue 7: counters, metrics endpoint, status heartbeat, onBan/onUnban hooks.
  let observers;
  try {
    observers = await watchObservers(cfg, store, log, backend.name);
  } catch (err) {
    store.close();
    throw err;
  }
  const daemon = new Daemon({
    store,
    backend,
    rules: policyRules(cfg),
    sources: cfg.sources,
    log,
    clock: Date.now,
    pollMs: cfg.watch.pollInterval,
    summaryEveryMs: cfg.watch.summaryEvery,
    // After the minute's reconcile, its garbage goes (see collectGarbage). A moment later: the
    // `nft` child's streams and promises let go of its output only after the reconcile returns.
    events: [...observers.events, { reconciled: () => void setTimeout(collectGarbage, 1000).unref() }],
    reconcileEveryMs: cfg.firewall.reconcileEvery,
  });
  let current = cfg;
  const reload = () => {
    current = reloadConfig(opts, current, daemon, log);
  };
  stopping.daemon = daemon;
  if (stopping.requested) daemon.stop();
  process.on('SIGHUP', reload);
  log.info('watching', {
    sources: cfg.sources.map((s) => s.name).join(','),
    backend: backend.name,
    database: cfg.database,
    active: store.bans.countInForce(Date.now()),
  });
  try {
    await daemon.run({ once: opts.once ?? false });
  } finally {
    process.off('SIGHUP', reload);
    await observers.close();
    store.close();
  }
  log.info('stopped');
  return 0;
}

/**
 * SIGHUP: reads and validates the config again. A config that does not
 * validate is rejected with its errors and the running one stays in force.
 * Policy and sources change in place; the database and firewall cannot be
 * swapped under a running daemon, so a change there asks for a restart.
 */
function reloadConfig(opts: CommonOptions, current: Config, daemon: Daemon, log: Logger): Config {
  let next: Config;
  try {
    next = configFrom(opts);
    if (next.sources.length === 0) throw new UserError('config key sources: no log sources configured', 2);
    policyRules(next);
  } catch (err) {
    const message = (err as Error).message.replace(/\n\s*/g, '; ');
    log.error('config reload rejected, the running config stays in force', { error: message });
    return current;
  }
  const restartNeeded = ['database', 'firewall', 'metrics', 'actions'].filter(
    (k) => JSON.stringify(next[k as keyof Config]) !== JSON.stringify(current[k as keyof Config]),
  );
  if (restartNeeded.length) {
    log.warn('config reload: these keys only change at a restart, keeping the running values', {
      keys: restartNeeded.join(','),
    });
    next = { ...next, database: current.database, firewall: current.firewall, metrics: current.metrics, actions: current.actions };
  }
  daemon.reload({ rules: policyRules(next), sources: next.sources });
  log.info('config reloaded', { sources: next.sources.map((s) => s.name).join(',') });
  return next;
}
