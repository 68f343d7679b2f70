import type { Db } from './db.js';

/** Where a file source stopped in one file: the file's identity and the byte after the last line counted. */
export interface FilePosition {
  path: string;
  dev: number;
  ino: number;
  offset: number;
  /** Hash of the file's first bytes, to tell a rotated file that reused an inode. */
  fingerprint: string;
}

/**
 * Positions of file sources, one per file (device + inode) within a source:
 * a glob follows many files, and a rotated file is finished beside its successor.
 */
export function offsetsRepo(db: Db) {
  const cols = 'path, dev, ino, offset, fingerprint';
  const all = db.prepare(`SELECT ${cols} FROM file_positions WHERE source = ? ORDER BY updated_at, rowid`);
  const latest = db.prepare(`SELECT ${cols} FROM file_positions WHERE source = ? ORDER BY updated_at DESC, rowid DESC LIMIT 1`);
  const save = db.prepare(
    `INSERT INTO file_positions (source, dev, ino, path, offset, fingerprint, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (source, dev, ino) DO UPDATE SET path = excluded.path, offset = excluded.offset,
       fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
  );
  const remove = db.prepare('DELETE FROM file_positions WHERE source = ? AND dev = ? AND ino = ?');
  return {
    /** The most recently saved position of `source` (its live file in the common case). */
    get(source: string): FilePosition | null {
      return (latest.get(source) as FilePosition | undefined) ?? null;
    },
    /** Every file position of `source`, oldest update first. */
    all(source: string): FilePosition[] {
      return all.all(source) as FilePosition[];
    },
    /** Call in the same transaction as the failures read up to `pos.offset`. */
    save(source: string, pos: FilePosition, now: number): void {
      save.run(source, pos.dev, pos.ino, pos.path, pos.offset, pos.fingerprint, now);
    },
    /** Forgets a file the source has finished (a rotated file read to its end, or gone). */
    remove(source: string, file: { dev: number; ino: number }): void {
      remove.run(source, file.dev, file.ino);
    },
  };
}

export type OffsetsRepo = ReturnType<typeof offsetsRepo>;
