import { parseIp, type Ip } from '../net/address.js';
import type { Db } from './db.js';

/**
 * Failures still in their window with the server's reason, so a restarted
 * daemon can weigh each by its cause again (a client refusing our certificate
 * counts for nothing by default).
 */
export function recentFailuresRepo(db: Db) {
  const since = db.prepare('SELECT ip, at, reason FROM failures WHERE at >= ? ORDER BY at');
  return {
    since(from: number): { ip: Ip; at: number; reason: string }[] {
      const out: { ip: Ip; at: number; reason: string }[] = [];
      for (const row of since.iterate(from) as Iterable<{ ip: string; at: number; reason: string }>) {
        const ip = parseIp(row.ip);
        if (ip) out.push({ ip, at: row.at, reason: row.reason });
      }
      return out;
    },
  };
}
