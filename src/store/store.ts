import { adminEventsRepo } from './admin-events.js';
import { allowListRepo } from './allow-list.js';
import { banHistoryRepo } from './ban-history.js';
import { bansRepo } from './bans.js';
import { cdnListsRepo } from './cdn-lists.js';
import { cursorsRepo } from './cursors.js';
import { openDatabase, type Db } from './db.js';
import { diagnosesRepo } from './diagnoses.js';
import { failuresRepo } from './failures.js';
import { offsetsRepo } from './offsets.js';
import { recentFailuresRepo } from './recent-failures.js';
import { revisionsRepo } from './revisions.js';

/** The only door to SQL: repositories in the domain's words plus one transaction helper. */
export function openStore(path: string, options: { busyTimeoutMs?: number; cacheKiB?: number } = {}) {
  const db: Db = openDatabase(path, options);
  const ownChanges = db.prepare('SELECT total_changes()').pluck();
  return {
    db,
    failures: failuresRepo(db),
    bans: bansRepo(db),
    offsets: offsetsRepo(db),
    cursors: cursorsRepo(db),
    adminEvents: adminEventsRepo(db),
    allowList: allowListRepo(db),
    cdnLists: cdnListsRepo(db),
    diagnoses: diagnosesRepo(db),
    banHistory: banHistoryRepo(db),
    revisions: revisionsRepo(db),
    recentFailures: recentFailuresRepo(db),
    /** Runs `fn` in one write transaction (IMMEDIATE, so it waits for a lock instead of failing midway). */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate();
    },
    /**
     * Differs from an earlier mark whenever anything was written since (by this
     * connection or another process), so a reader can tell a copy of some rows is still current.
     */
    changeMark(): string {
      return `${db.pragma('data_version', { simple: true }) as number}:${ownChanges.get() as number}`;
    },
    close(): void {
      db.close();
    },
  };
}

export type Store = ReturnType<typeof openStore>;
