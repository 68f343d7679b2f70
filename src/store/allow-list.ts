import { parseCidr, type Cidr } from '../net/address.js';
import type { Db } from './db.js';
import { revisionsRepo } from './revisions.js';

export interface AllowEntry {
  net: Cidr;
  note: string;
  addedAt: number;
}

/** The persistent half of the allow list (`blocker unban --allow`); the config's policy.allow is the other. */
export function allowListRepo(db: Db) {
  const revisions = revisionsRepo(db);
  const insert = db.prepare('INSERT INTO allow_list (net, note, added_at) VALUES (?, ?, ?) ON CONFLICT (net) DO NOTHING');
  const del = db.prepare('DELETE FROM allow_list WHERE net = ?');
  const all = db.prepare('SELECT net, note, added_at FROM allow_list ORDER BY added_at, net');
  return {
    /** Adds `net`; false when it was already there (its first note and date are kept). */
    add(net: Cidr, note: string, now: number): boolean {
      const added = insert.run(net.text, note, now).changes > 0;
      if (added) revisions.bump('allow');
      return added;
    },
    /** Removes exactly `net` (no containment); false when it was not there. */
    remove(net: Cidr): boolean {
      const removed = del.run(net.text).changes > 0;
      if (removed) revisions.bump('allow');
      return removed;
    },
    list(): AllowEntry[] {
      const out: AllowEntry[] = [];
      for (const r of all.all() as { net: string; note: string; added_at: number }[]) {
        const net = parseCidr(r.net);
        if (net) out.push({ net, note: r.note, addedAt: r.added_at });
      }
      return out;
    },
  };
}

export type AllowListRepo = ReturnType<typeof allowListRepo>;
