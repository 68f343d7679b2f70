import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookRunner } from '../actions/hooks.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { isLoopback, parseListen } from '../metrics/listen.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { Telemetry } from '../metrics/telemetry.js';
import { packageRoot } from '../paths.js';
import type { DaemonEvents } from '../pipeline/daemon-events.js';
import { statusHeartbeat } from '../status/heartbeat.js';
import { reportsRepo } from '../store/reports.js';
import type { Store } from '../store/store.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * What `blocker watch` hangs on the daemon beside the pipeline: counters (and
 * the metrics endpoint when enabled), the status heartbeat, and the hooks.
 * Order matters: telemetry sees each event before the heartbeat writes it.
 */
export async function watchObservers(
  cfg: Config,
  store: Store,
  log: Logger,
  backendName: string,
  now = Date.now(),
): Promise<{ events: DaemonEvents[]; hooks: HookRunner; metrics: MetricsServer | null; close(): Promise<void> }> {
  const version = packageVersion();
  const telemetry = new Telemetry(store, { version, backend: backendName, sources: cfg.sources, now });
  const hooks = new HookRunner(cfg.actions, log, reportsRepo(store.db), { registry: telemetry.registry });
  const heartbeat = statusHeartbeat(store, () => telemetry.snapshot(), { version, startedAt: now, log });
  let metrics: MetricsServer | null = null;
  if (cfg.metrics.enabled) {
    metrics = await startMetricsServer(cfg.metrics.listen, telemetry.registry);
    const addr = parseListen(cfg.metrics.listen);
    if (typeof addr !== 'string' && !isLoopback(addr.host)) {
      log.warn('metrics are reachable from other hosts: restrict the port in the firewall', { listen: metrics.address });
    }
    log.info('metrics', { url: `http://${metrics.address}/metrics` });
  }
  return {
    events: [telemetry, hooks, heartbeat],
    hooks,
    metrics,
    close: async () => {
      await metrics?.close();
    },
  };
}
