import { cidrContains, cidrOverlaps, isSingleAddress, parseCidr, parseIp, type Cidr, type Ip } from '../net/address.js';
import { toBan, type Ban, type BanOrigin, type BanRow } from './bans.js';
import type { Db } from './db.js';

/** A ban as history sees it: also the ones that ended, and how. */
export interface BanRecord extends Ban {
  state: 'active' | 'expired' | 'unbanned';
  endedAt: number | null;
}

export interface FailureRecord {
  ip: Ip;
  at: number;
  source: string;
  reason: string;
}

/** Where a source has read up to, as stored with the failures before it. */
export interface SourcePosition {
  source: string;
  kind: 'file' | 'journald';
  /** Files only. */
  path: string | null;
  offset: number | null;
  /** The file's identity when the position was saved (files only). */
  dev: number | null;
  ino: number | null;
  updatedAt: number;
}

interface BanRecordRow extends BanRow {
  state: BanRecord['state'];
  ended_at: number | null;
}

function toRecord(r: BanRecordRow): BanRecord | null {
  const ban = toBan(r);
  return ban && { ...ban, state: r.state, endedAt: r.ended_at };
}

/**
 * Read-only questions for `blocker status`, `blocker history`, the metrics
 * endpoint and the hooks: counts and timelines over what the daemon stored.
 * Nothing here writes.
 */
export function reportsRepo(db: Db) {
  const reasonsSince = db.prepare('SELECT source, reason, count(*) AS n FROM failures WHERE at >= ? GROUP BY source, reason');
  const oldestFailure = db.prepare('SELECT min(at) AS at FROM failures');
  const lastFailureBySource = db.prepare('SELECT source, max(at) AS at FROM failures GROUP BY source');
  // No index by address (migration 0005): a scan of at most findTime's failures, newest first.
  const failuresOfIp = db.prepare('SELECT ip, at, source, reason FROM failures WHERE ip = ? ORDER BY at DESC, id DESC LIMIT ?');
  const newestFailures = db.prepare('SELECT ip, at, source, reason FROM failures ORDER BY at DESC, id DESC');
  const bansOfIp = db.prepare(`SELECT * FROM bans WHERE ip = ? OR instr(ip, '/') > 0 ORDER BY banned_at, id`);
  const allBans = db.prepare('SELECT * FROM bans ORDER BY banned_at, id');
  const activeCounts = db.prepare(
    `SELECT origin, instr(ip, '/') > 0 AS network, expires_at IS NULL AS permanent, count(*) AS n FROM bans
     WHERE state = 'active' AND (expires_at IS NULL OR expires_at > ?) GROUP BY 1, 2, 3`,
  );
  const bansSince = db.prepare(`SELECT origin, count(*) AS n FROM bans WHERE banned_at >= ? GROUP BY origin`);
  const endedSince = db.prepare(
    `SELECT state, count(*) AS n FROM bans WHERE state != 'active' AND ended_at >= ? GROUP BY state`,
  );
  const endedAt = db.prepare(`SELECT * FROM bans WHERE state = 'unbanned' AND ended_at = ? ORDER BY id`);
  const filePositions = db.prepare('SELECT source, path, dev, ino, offset, updated_at FROM file_positions ORDER BY source, updated_at DESC');
  const cursors = db.prepare('SELECT source, updated_at FROM journal_cursors ORDER BY source');

  const records = (rows: unknown[]) => (rows as BanRecordRow[]).map(toRecord).filter((b): b is BanRecord => b !== null);

  return {
    /** Failures at or after `from` per source and server-written reason (the caller classifies reasons). */
    reasonsSince(from: number): { source: string; reason: string; count: number }[] {
      return (reasonsSince.all(from) as { source: string; reason: string; n: number }[]).map((r) => ({
        source: r.source,
        reason: r.reason,
        count: r.n,
      }));
    },

    /** The oldest failure still stored (the daemon prunes what is older than findTime), or null. */
    oldestFailure(): number | null {
      return (oldestFailure.get() as { at: number | null }).at;
    },

    /** Per source, the time of its newest stored failure. */
    lastFailureBySource(): Map<string, number> {
      return new Map((lastFailureBySource.all() as { source: string; at: number }[]).map((r) => [r.source, r.at]));
    },

    /** The stored failures of the addresses inside `net`, newest first, at most `limit`. */
    failuresWithin(net: Cidr, limit: number): FailureRecord[] {
      type Row = { ip: string; at: number; source: string; reason: string };
      const out: FailureRecord[] = [];
      if (isSingleAddress(net)) {
        for (const r of failuresOfIp.all(net.text, limit) as Row[]) {
          const ip = parseIp(r.ip);
          if (ip) out.push({ ip, at: r.at, source: r.source, reason: r.reason });
        }
        return out;
      }
      const inside = new Map<string, Ip | null>();
      for (const r of newestFailures.iterate() as Iterable<Row>) {
        let ip = inside.get(r.ip);
        if (ip === undefined) {
          const parsed = parseIp(r.ip);
          inside.set(r.ip, (ip = parsed !== null && cidrContains(net, parsed) ? parsed : null));
        }
        if (!ip) continue;
        out.push({ ip, at: r.at, source: r.source, reason: r.reason });
        if (out.length >= limit) break;
      }
      return out;
    },

    /** Every ban, in force or ended, that overlaps `net` (for an address: its own and the networks around it), oldest first. */
    bansOverlapping(net: Cidr): BanRecord[] {
      const rows = isSingleAddress(net) ? bansOfIp.all(net.text) : allBans.all();
      return records(rows).filter((b) => cidrOverlaps(b.ip, net));
    },

    /** Bans in force at `now`, counted by origin, kind (address or network) and permanence. */
    activeCounts(now: number): { origin: BanOrigin; network: boolean; permanent: boolean; count: number }[] {
      return (activeCounts.all(now) as { origin: BanOrigin; network: number; permanent: number; n: number }[]).map((r) => ({
        origin: r.origin,
        network: r.network === 1,
        permanent: r.permanent === 1,
        count: r.n,
      }));
    },

    /** Bans issued at or after `from`, by origin. */
    bansSince(from: number): Record<BanOrigin, number> {
      const out: Record<BanOrigin, number> = { auto: 0, manual: 0 };
      for (const r of bansSince.all(from) as { origin: BanOrigin; n: number }[]) out[r.origin] = r.n;
      return out;
    },

    /** Bans that ended at or after `from`, by how (expired, or lifted by hand or by a covering network). */
    endedSince(from: number): { expired: number; unbanned: number } {
      const out = { expired: 0, unbanned: 0 };
      for (const r of endedSince.all(from) as { state: 'expired' | 'unbanned'; n: number }[]) out[r.state] = r.n;
      return out;
    },

    /** The bans inside `net` that one `blocker unban` lifted at `at` (it ends them all at that moment). */
    liftedAt(net: Cidr, at: number): BanRecord[] {
      return records(endedAt.all(at)).filter((b) => cidrContains(net, b.ip));
    },

    /** Every stored source position: per file for file sources, the cursor's age for journald. */
    positions(): SourcePosition[] {
      type FileRow = { source: string; path: string; dev: number; ino: number; offset: number; updated_at: number };
      const files = (filePositions.all() as FileRow[]).map(
        (r): SourcePosition => ({ source: r.source, kind: 'file', path: r.path, offset: r.offset, dev: r.dev, ino: r.ino, updatedAt: r.updated_at }),
      );
      const journal = (cursors.all() as { source: string; updated_at: number }[]).map(
        (r): SourcePosition => ({ source: r.source, kind: 'journald', path: null, offset: null, dev: null, ino: null, updatedAt: r.updated_at }),
      );
      return [...files, ...journal];
    },
  };
}

export type ReportsRepo = ReturnType<typeof reportsRepo>;
