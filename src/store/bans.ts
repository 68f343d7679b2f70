import { parseCidr, type Cidr } from '../net/address.js';
import type { Db } from './db.js';

export type BanOrigin = 'auto' | 'manual';

/** A ban about to be recorded. */
export interface NewBan {
  ip: Cidr;
  reason: string;
  failures: number;
  origin: BanOrigin;
  bannedAt: number;
  /** null: never expires. */
  expiresAt: number | null;
}

/** A recorded ban. */
export interface Ban extends NewBan {
  id: number;
}

/** What the firewall needs of a ban: its entry and when it ends (null: never). */
export type BanTarget = Pick<Ban, 'ip' | 'expiresAt'>;

/** A row of the bans table as SQLite returns it. */
export interface BanRow {
  id: number;
  ip: string;
  reason: string;
  failures: number;
  origin: BanOrigin;
  banned_at: number;
  expires_at: number | null;
}

export function toBan(row: BanRow): Ban | null {
  const ip = parseCidr(row.ip);
  if (!ip) return null;
  return {
    id: row.id,
    ip,
    reason: row.reason,
    failures: row.failures,
    origin: row.origin,
    bannedAt: row.banned_at,
    expiresAt: row.expires_at,
  };
}

/** At most this many entries recorded since the last targets() call are kept parsed for it. */
const PARSED_KEPT_MAX = 200_000;

export function bansRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO bans (ip, reason, failures, origin, banned_at, expires_at, state)
     VALUES (?, ?, ?, ?, ?, ?, 'active')`,
  );
  const active = db.prepare(
    `SELECT * FROM bans WHERE state = 'active' AND (expires_at IS NULL OR expires_at > ?) ORDER BY banned_at, id`,
  );
  const activeFor = db.prepare(`SELECT * FROM bans WHERE state = 'active' AND ip = ?`);
  const targets = db
    .prepare(`SELECT ip, expires_at FROM bans WHERE state = 'active' AND (expires_at IS NULL OR expires_at > ?) ORDER BY id`)
    .raw();
  // Named, as the planner without statistics would rather walk every active ban by age.
  const activeNetworks = db.prepare(
    `SELECT * FROM bans INDEXED BY bans_active_networks
     WHERE state = 'active' AND instr(ip, '/') > 0 AND (expires_at IS NULL OR expires_at > ?)`,
  );
  const countInForce = db.prepare(
    `SELECT count(*) FROM bans WHERE state = 'active' AND (expires_at IS NULL OR expires_at > ?)`,
  ).pluck();
  const lapsed = db.prepare(
    `SELECT * FROM bans WHERE state = 'active' AND expires_at IS NOT NULL AND expires_at <= ?`,
  );
  const end = db.prepare(`UPDATE bans SET state = ?, ended_at = ? WHERE id = ? AND state = 'active'`);
  const lastEnds = db.prepare(
    `SELECT ip, max(coalesce(ended_at, expires_at, banned_at)) AS until FROM bans GROUP BY ip`,
  );
  const pruneEnded = db.prepare(
    `DELETE FROM bans WHERE id IN (SELECT id FROM bans WHERE state <> 'active' AND ended_at < ? LIMIT ?)`,
  );

  /** The entries the last targets() call parsed, by their text (which is how the database writes them). */
  let parsedBefore = new Map<string, Cidr>();

  const rows = (stmt: { all(...a: unknown[]): unknown[] }, ...args: unknown[]): Ban[] =>
    (stmt.all(...args) as BanRow[]).map(toBan).filter((b): b is Ban => b !== null);

  return {
    /** Records an active ban. An existing active ban of the same entry is replaced (ended as 'unbanned'). */
    record(ban: NewBan): Ban {
      const previous = activeFor.get(ban.ip.text) as BanRow | undefined;
      if (previous) end.run('unbanned', ban.bannedAt, previous.id);
      const info = insert.run(ban.ip.text, ban.reason, ban.failures, ban.origin, ban.bannedAt, ban.expiresAt);
      // The next targets() call takes it from here rather than parsing it (the ban holds it anyway);
      // bounded, for a process that records bans and never asks for targets.
      if (parsedBefore.size < PARSED_KEPT_MAX) parsedBefore.set(ban.ip.text, ban.ip);
      return { id: Number(info.lastInsertRowid), ...ban };
    },

    /** Bans in force at `now`, oldest first. */
    active(now: number): Ban[] {
      return rows(active, now);
    },

    /**
     * What the firewall needs of each ban in force at `now` (its entry and
     * when it ends), in the order they were recorded. The daemon reconciles
     * every minute: each entry parsed by the previous call (or recorded
     * since) is taken again rather than parsed anew, and rows are read one at
     * a time, so that what outlives the read is one small object per ban
     * (with 15k bans, reading them all and parsing each made 10 MB, enough to
     * grow the heap by as much for several seconds every minute).
     */
    targets(now: number): BanTarget[] {
      const out: BanTarget[] = [];
      const seen = new Map<string, Cidr>();
      for (const [text, expiresAt] of targets.iterate(now) as Iterable<[string, number | null]>) {
        const ip = parsedBefore.get(text) ?? parseCidr(text);
        if (!ip) continue;
        seen.set(text, ip);
        out.push({ ip, expiresAt });
      }
      parsedBefore = seen;
      return out;
    },

    /** How many bans are in force at `now`. */
    countInForce(now: number): number {
      return countInForce.get(now) as number;
    },

    /** Network (CIDR) bans in force at `now`: cheaper than {@link active} when only they matter. */
    activeNetworks(now: number): Ban[] {
      return rows(activeNetworks, now);
    },

    activeFor(ip: Cidr): Ban | null {
      const row = activeFor.get(ip.text) as BanRow | undefined;
      return row ? toBan(row) : null;
    },

    /** Marks bans whose time ran out as expired and returns them. */
    expire(now: number): Ban[] {
      const done = rows(lapsed, now);
      for (const b of done) end.run('expired', b.expiresAt, b.id);
      return done;
    },

    /** Ends an active ban by hand. */
    unban(ban: Ban, now: number): void {
      end.run('unbanned', now, ban.id);
    },

    /**
     * For each address ever banned, when its last ban ended (or ends): failures
     * before that moment were wiped by the ban or seen during it, and do not count.
     */
    lastBanEnds(): Map<string, number> {
      const out = new Map<string, number>();
      for (const r of lastEnds.iterate() as Iterable<{ ip: string; until: number }>) out.set(r.ip, r.until);
      return out;
    },

    /** Deletes at most `limit` bans that ended before `at` (history no rule looks at any more); returns how many. */
    pruneEndedBefore(at: number, limit: number): number {
      return pruneEnded.run(at, limit).changes;
    },
  };
}

export type BansRepo = ReturnType<typeof bansRepo>;
