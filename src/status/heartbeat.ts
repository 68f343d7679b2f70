import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { TelemetrySnapshot } from '../metrics/telemetry.js';
import type { DaemonEvents } from '../pipeline/daemon-events.js';
import { daemonStatusRepo } from '../store/daemon-status.js';
import type { Store } from '../store/store.js';

/** How often a running daemon rewrites its status row when nothing changed. */
export const HEARTBEAT_MS = 5_000;

/**
 * Keeps the daemon's status row (pid, heartbeat, the telemetry snapshot) up
 * to date for `blocker status`: every {@link HEARTBEAT_MS}; within a second
 * after a ban or unban or when a source or the firewall fails; at a clean stop. A write the database
 * refuses (locked) is simply tried at the next tick: it is only a report.
 */
export function statusHeartbeat(
  store: Store,
  snapshot: () => TelemetrySnapshot,
  o: { version: string; startedAt: number; log: Logger; pid?: number; host?: string },
): DaemonEvents {
  const repo = daemonStatusRepo(store.db);
  let lastWrite = Number.NEGATIVE_INFINITY;
  let dirty = true;
  const write = (now: number, stoppedAt: number | null) => {
    try {
      store.transaction(() =>
        repo.save({
          pid: o.pid ?? process.pid,
          host: o.host ?? hostname(),
          version: o.version,
          startedAt: o.startedAt,
          heartbeatAt: now,
          stoppedAt,
          report: snapshot() as unknown as Record<string, unknown>,
        }),
      );
      lastWrite = now;
      dirty = false;
    } catch (err) {
      o.log.debug('status heartbeat postponed', { error: (err as Error).message });
    }
  };
  return {
    // A ban or unban is what an operator looks for first: show it at once.
    banned: () => void (dirty = true),
    unbanned: () => void (dirty = true),
    sourceError: () => void (dirty = true),
    sourceRecovered: () => void (dirty = true),
    firewall: (r) => {
      if (!r.ok || r.full) dirty = true;
    },
    reconciled: () => void (dirty = true),
    tick: (now) => {
      // At most once a second even when something changed: under a flood a ban comes every tick.
      if ((dirty && now - lastWrite >= 1000) || now - lastWrite >= HEARTBEAT_MS) write(now, null);
    },
    stopped: (now) => write(now, now),
  };
}
