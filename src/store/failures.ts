import { cidrContains, parseCidr, parseIp, type Cidr, type Ip } from '../net/address.js';
import type { Db } from './db.js';

export interface StoredFailure {
  ip: Ip;
  at: number;
  source: string;
  reason: string;
}

export function failuresRepo(db: Db) {
  const insert = db.prepare('INSERT INTO failures (ip, at, source, reason) VALUES (?, ?, ?, ?)');
  // A flood arrives by the thousand per tick: many rows per statement cut the per-statement cost.
  const ROWS = 64;
  const insertMany = db.prepare(
    `INSERT INTO failures (ip, at, source, reason) VALUES ${Array(ROWS).fill('(?, ?, ?, ?)').join(', ')}`,
  );
  const args: unknown[] = new Array(ROWS * 4);
  const since = db.prepare('SELECT ip, at FROM failures WHERE at >= ? ORDER BY at');
  // No index by address (migration 0005): these scan the table, which holds at most findTime's failures.
  const deleteIp = db.prepare('DELETE FROM failures WHERE ip = ?');
  const everyIp = db.prepare('SELECT id, ip FROM failures').raw();
  const deleteId = db.prepare('DELETE FROM failures WHERE id = ?');
  const countIp = db.prepare('SELECT count(*) AS n FROM failures WHERE ip = ?');
  const pruneBefore = db.prepare('DELETE FROM failures WHERE at < ?');
  const pruneSome = db.prepare('DELETE FROM failures WHERE id IN (SELECT id FROM failures WHERE at < ? LIMIT ?)');

  return {
    /** Call inside a transaction: one statement per failure, committed together. */
    record(failures: readonly StoredFailure[]): void {
      let i = 0;
      for (; i + ROWS <= failures.length; i += ROWS) {
        for (let j = 0; j < ROWS; j++) {
          const f = failures[i + j]!;
          args[j * 4] = f.ip.text;
          args[j * 4 + 1] = f.at;
          args[j * 4 + 2] = f.source;
          args[j * 4 + 3] = f.reason;
        }
        insertMany.run(args);
      }
      for (; i < failures.length; i++) {
        const f = failures[i]!;
        insert.run(f.ip.text, f.at, f.source, f.reason);
      }
    },

    /** Failures at or after `from`, oldest first: what a restarted daemon needs to rebuild its windows. */
    since(from: number): { ip: Ip; at: number }[] {
      const out: { ip: Ip; at: number }[] = [];
      for (const row of since.iterate(from) as Iterable<{ ip: string; at: number }>) {
        const ip = parseIp(row.ip);
        if (ip) out.push({ ip, at: row.at });
      }
      return out;
    },

    countFor(ip: Ip): number {
      return (countIp.get(ip.text) as { n: number }).n;
    },

    /** Forgets every failure of the addresses inside `net`; returns how many were removed. */
    forget(net: Cidr): number {
      if (net.prefix === (net.family === 4 ? 32 : 128)) return deleteIp.run(net.text).changes;
      // One pass over the table, then deletes by id; all(), not iterate(): a statement
      // cannot write while another is still reading.
      const inside = new Map<string, boolean>();
      let removed = 0;
      for (const [id, text] of everyIp.all() as [number, string][]) {
        let hit = inside.get(text);
        if (hit === undefined) {
          const ip = parseCidr(text);
          inside.set(text, (hit = ip !== null && cidrContains(net, ip)));
        }
        if (hit) removed += deleteId.run(id).changes;
      }
      return removed;
    },

    pruneBefore(at: number): number {
      return pruneBefore.run(at).changes;
    },

    /** Deletes at most `limit` failures older than `at`, so a daemon can prune a big backlog in short steps. */
    pruneSome(at: number, limit: number): number {
      return pruneSome.run(at, limit).changes;
    },
  };
}

export type FailuresRepo = ReturnType<typeof failuresRepo>;
