import { UserError } from '../errors.js';
import { createLogger, type Level } from '../log.js';
import { Daemon } from '../pipeline/daemon.js';
import { policyRules } from '../pipeline/rules.js';
import { backendFor, configFrom, storeFor, type CommonOptions } from './context.js';
import type { Io } from './io.js';

export async function watchCommand(
  opts: CommonOptions & { once?: boolean; logLevel?: string },
  io: Io,
): Promise<number> {
  const cfg = configFrom(opts);
  if (cfg.sources.length === 0) {
    throw new UserError('config key sources: no log sources configured, so there is nothing to watch', 2);
  }
  const level = (opts.logLevel ?? 'info') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new UserError(`--log-level: expected debug, info, warn or error, got "${opts.logLevel}"`, 2);
  }
  const log = createLogger(io.err, level);
  const store = storeFor(cfg);
  const backend = backendFor(cfg, io);
  const daemon = new Daemon({
    store,
    backend,
    rules: policyRules(cfg),
    sources: cfg.sources,
    log,
    clock: Date.now,
  });
  const stop = () => daemon.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log.info('watching', {
    sources: cfg.sources.map((s) => s.name).join(','),
    backend: backend.name,
    database: cfg.database,
    active: store.bans.active(Date.now()).length,
  });
  try {
    await daemon.run({ once: opts.once ?? false });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    store.close();
  }
  log.info('stopped');
  return 0;
}
