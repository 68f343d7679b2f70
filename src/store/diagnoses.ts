import type { Db } from './db.js';

export interface StoredDiagnosis {
  kind: string;
  subject: string;
  message: string;
  evidence: Record<string, unknown>;
  firstAt: number;
  lastAt: number;
  /** How many times it was raised (at most once per period each). */
  count: number;
}

export interface BreakerRecord {
  tripped: boolean;
  /** When the current (or last) storm began. */
  since: number | null;
  /** When the last storm ended; null while one is going on or before any. */
  endedAt: number | null;
  /** Bans held back during the current (or last) storm. */
  held: number;
  evidence: Record<string, unknown>;
  updatedAt: number;
}

/** Diagnoses and the storm breaker's state, kept for `blocker status` and across restarts. */
export function diagnosesRepo(db: Db) {
  const upsert = db.prepare(
    `INSERT INTO diagnoses (kind, subject, message, evidence, first_at, last_at, count) VALUES (?, ?, ?, ?, ?, ?, 1)
     ON CONFLICT (kind, subject) DO UPDATE SET message = excluded.message, evidence = excluded.evidence,
       last_at = max(last_at, excluded.last_at), count = count + 1`,
  );
  const all = db.prepare('SELECT * FROM diagnoses WHERE last_at >= ? ORDER BY last_at DESC, kind, subject');
  const saveBreaker = db.prepare(
    `INSERT INTO breaker (id, tripped, since, ended_at, held, evidence, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET tripped = excluded.tripped, since = excluded.since, ended_at = excluded.ended_at,
       held = excluded.held, evidence = excluded.evidence, updated_at = excluded.updated_at`,
  );
  const getBreaker = db.prepare('SELECT * FROM breaker WHERE id = 1');
  type Row = { kind: string; subject: string; message: string; evidence: string; first_at: number; last_at: number; count: number };
  return {
    record(d: { kind: string; subject: string; message: string; evidence: Record<string, unknown>; at: number }): void {
      upsert.run(d.kind, d.subject, d.message, JSON.stringify(d.evidence), d.at, d.at);
    },
    /** Diagnoses raised at or after `since`, newest first. */
    since(since: number): StoredDiagnosis[] {
      return (all.all(since) as Row[]).map((r) => ({
        kind: r.kind,
        subject: r.subject,
        message: r.message,
        evidence: JSON.parse(r.evidence) as Record<string, unknown>,
        firstAt: r.first_at,
        lastAt: r.last_at,
        count: r.count,
      }));
    },
    saveBreaker(b: BreakerRecord): void {
      saveBreaker.run(b.tripped ? 1 : 0, b.since, b.endedAt, b.held, JSON.stringify(b.evidence), b.updatedAt);
    },
    breaker(): BreakerRecord | null {
      const r = getBreaker.get() as
        | { tripped: number; since: number | null; ended_at: number | null; held: number; evidence: string; updated_at: number }
        | undefined;
      if (!r) return null;
      return {
        tripped: r.tripped === 1,
        since: r.since,
        endedAt: r.ended_at,
        held: r.held,
        evidence: JSON.parse(r.evidence) as Record<string, unknown>,
        updatedAt: r.updated_at,
      };
    },
  };
}

export type DiagnosesRepo = ReturnType<typeof diagnosesRepo>;
