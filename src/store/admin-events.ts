import { parseCidr, type Cidr } from '../net/address.js';
import type { Db } from './db.js';

export interface AdminEvent {
  id: number;
  kind: 'ban' | 'unban';
  ip: Cidr;
  at: number;
}

/** A mailbox from the CLI commands to the running daemon. */
export function adminEventsRepo(db: Db) {
  const insert = db.prepare('INSERT INTO admin_events (kind, ip, at) VALUES (?, ?, ?)');
  const after = db.prepare('SELECT id, kind, ip, at FROM admin_events WHERE id > ? ORDER BY id');
  const last = db.prepare('SELECT coalesce(max(id), 0) AS id FROM admin_events');
  const prune = db.prepare('DELETE FROM admin_events WHERE at < ?');
  return {
    post(kind: AdminEvent['kind'], ip: Cidr, at: number): void {
      insert.run(kind, ip.text, at);
    },
    after(id: number): AdminEvent[] {
      const out: AdminEvent[] = [];
      for (const r of after.all(id) as { id: number; kind: AdminEvent['kind']; ip: string; at: number }[]) {
        const ip = parseCidr(r.ip);
        if (ip) out.push({ id: r.id, kind: r.kind, ip, at: r.at });
      }
      return out;
    },
    lastId(): number {
      return (last.get() as { id: number }).id;
    },
    pruneBefore(at: number): void {
      prune.run(at);
    },
  };
}
