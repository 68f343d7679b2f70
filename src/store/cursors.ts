import type { Db } from './db.js';

/** Where each journald source has read up to: journalctl's opaque `__CURSOR`. */
export function cursorsRepo(db: Db) {
  const get = db.prepare('SELECT cursor FROM journal_cursors WHERE source = ?');
  const save = db.prepare(
    `INSERT INTO journal_cursors (source, cursor, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
  );
  return {
    get(source: string): string | null {
      return (get.get(source) as { cursor: string } | undefined)?.cursor ?? null;
    },
    /** Call in the same transaction as the failures read up to the entry `cursor` names. */
    save(source: string, cursor: string, now: number): void {
      save.run(source, cursor, now);
    },
  };
}

export type CursorsRepo = ReturnType<typeof cursorsRepo>;
