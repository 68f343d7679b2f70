import type { Db } from './db.js';

export interface DaemonStatusRow {
  pid: number;
  host: string;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  /** Set when it stopped cleanly; null while running (or after a crash). */
  stoppedAt: number | null;
  report: Record<string, unknown>;
}

/** The one row a running daemon keeps up to date about itself (migration 0004). */
export function daemonStatusRepo(db: Db) {
  const save = db.prepare(
    `INSERT INTO daemon_status (id, pid, host, version, started_at, heartbeat_at, stopped_at, report) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, version = excluded.version,
       started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = excluded.stopped_at,
       report = excluded.report`,
  );
  const get = db.prepare('SELECT * FROM daemon_status WHERE id = 1');
  return {
    save(s: DaemonStatusRow): void {
      save.run(s.pid, s.host, s.version, s.startedAt, s.heartbeatAt, s.stoppedAt, JSON.stringify(s.report));
    },
    get(): DaemonStatusRow | null {
      const r = get.get() as
        | { pid: number; host: string; version: string; started_at: number; heartbeat_at: number; stopped_at: number | null; report: string }
        | undefined;
      if (!r) return null;
      return {
        pid: r.pid,
        host: r.host,
        version: r.version,
        startedAt: r.started_at,
        heartbeatAt: r.heartbeat_at,
        stoppedAt: r.stopped_at,
        report: JSON.parse(r.report) as Record<string, unknown>,
      };
    },
  };
}

export type DaemonStatusRepo = ReturnType<typeof daemonStatusRepo>;
