import type { Db } from './db.js';

/**
 * A counter per kind of policy data (allow list, CDN lists), bumped by each
 * change, so a running daemon can tell with one cheap read that a CLI command
 * changed what it must never ban.
 */
export function revisionsRepo(db: Db) {
  const bump = db.prepare(
    `INSERT INTO policy_revisions (name, revision) VALUES (?, 1)
     ON CONFLICT (name) DO UPDATE SET revision = revision + 1`,
  );
  const read = db.prepare('SELECT coalesce(sum(revision), 0) AS r FROM policy_revisions');
  return {
    bump(name: 'allow' | 'cdn'): void {
      bump.run(name);
    },
    /** Changes whenever any policy data changed. */
    current(): number {
      return (read.get() as { r: number }).r;
    },
  };
}

export type RevisionsRepo = ReturnType<typeof revisionsRepo>;
