import type { Cidr } from '../net/address.js';
import type { Db } from './db.js';

/**
 * Past automatic bans, read from the bans table, for the escalation of repeat
 * offenders across restarts. A ban lifted by `blocker unban`, and every ban
 * of an entry before it was unbanned, does not count.
 */
export function banHistoryRepo(db: Db) {
  const since = db.prepare(
    `SELECT b.ip, b.banned_at FROM bans b LEFT JOIN escalation_resets r ON r.net = b.ip
     WHERE b.origin = 'auto' AND b.state != 'unbanned' AND b.banned_at >= ? AND b.banned_at > coalesce(r.at, -1)
     ORDER BY b.banned_at`,
  );
  const reset = db.prepare(
    `INSERT INTO escalation_resets (net, at) VALUES (?, ?) ON CONFLICT (net) DO UPDATE SET at = max(at, excluded.at)`,
  );
  return {
    /** Per entry (address or network text), the times of its counted automatic bans at or after `from`, oldest first. */
    since(from: number): Map<string, number[]> {
      const out = new Map<string, number[]>();
      for (const r of since.iterate(from) as Iterable<{ ip: string; banned_at: number }>) {
        let times = out.get(r.ip);
        if (!times) out.set(r.ip, (times = []));
        times.push(r.banned_at);
      }
      return out;
    },
    /** Forgives `entry`: its bans up to `at` stop counting. */
    reset(entry: Cidr, at: number): void {
      reset.run(entry.text, at);
    },
  };
}

export type BanHistoryRepo = ReturnType<typeof banHistoryRepo>;
