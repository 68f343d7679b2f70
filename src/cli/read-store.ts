import { existsSync } from 'node:fs';
import { bansRepo } from '../store/bans.js';
import { daemonStatusRepo } from '../store/daemon-status.js';
import { openDatabase, type Db } from '../store/db.js';
import { diagnosesRepo } from '../store/diagnoses.js';
import { reportsRepo } from '../store/reports.js';
import { UserError } from '../errors.js';

/** What the read-only commands (status, history) look at. */
export interface ReadStore {
  readonly db: Db;
  readonly bans: ReturnType<typeof bansRepo>;
  readonly reports: ReturnType<typeof reportsRepo>;
  readonly diagnoses: ReturnType<typeof diagnosesRepo>;
  /** Null when the database predates the daemon's status row. */
  readonly daemonStatus: ReturnType<typeof daemonStatusRepo> | null;
  close(): void;
}

/**
 * Opens the database read-only, so `status` and `history` work for any user
 * who may read it and never create or migrate it. Null when it does not exist
 * yet (the daemon has not run).
 */
export function openReadStore(path: string): ReadStore | null {
  if (path !== ':memory:' && !existsSync(path)) return null;
  const db = openDatabase(path, { readonly: true });
  try {
    const has = (t: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(t) !== undefined;
    if (!has('bans') || !has('diagnoses') || !has('file_positions')) {
      throw new UserError(`database ${path} is older than this version of blocker: start \`blocker watch\` once to upgrade it`);
    }
    return {
      db,
      bans: bansRepo(db),
      reports: reportsRepo(db),
      diagnoses: diagnosesRepo(db),
      daemonStatus: has('daemon_status') ? daemonStatusRepo(db) : null,
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}
