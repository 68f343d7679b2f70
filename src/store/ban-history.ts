import type { Db } from './db.js';

/**
 * Past automatic bans, read from the bans table, for the escalation of repeat
 * offenders across restarts. A ban lifted with `blocker unban` does not count.
 */
export function banHistoryRepo(db: Db) {
  const since = db.prepare(
    `SELECT ip, banned_at FROM bans WHERE origin = 'auto' AND state != 'unbanned' AND banned_at >= ? ORDER BY banned_at`,
  );
  return {
    /** Per entry (address or network text), the times of its automatic bans at or after `from`, oldest first. */
    since(from: number): Map<string, number[]> {
      const out = new Map<string, number[]>();
      for (const r of since.iterate(from) as Iterable<{ ip: string; banned_at: number }>) {
        let times = out.get(r.ip);
        if (!times) out.set(r.ip, (times = []));
        times.push(r.banned_at);
      }
      return out;
    },
  };
}

export type BanHistoryRepo = ReturnType<typeof banHistoryRepo>;
