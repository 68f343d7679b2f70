import type { Db } from './db.js';

/** Where a file source stopped: the file's identity and the byte after the last line counted. */
export interface FilePosition {
  path: string;
  dev: number;
  ino: number;
  offset: number;
  /** Hash of the file's first bytes, to tell a rotated file that reused an inode. */
  fingerprint: string;
}

export function offsetsRepo(db: Db) {
  const get = db.prepare('SELECT path, dev, ino, offset, fingerprint FROM offsets WHERE source = ?');
  const save = db.prepare(
    `INSERT INTO offsets (source, path, dev, ino, offset, fingerprint, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET path = excluded.path, dev = excluded.dev, ino = excluded.ino,
       offset = excluded.offset, fingerprint = excluded.fingerprint, updated_at = excluded.updated_at`,
  );
  return {
    get(source: string): FilePosition | null {
      return (get.get(source) as FilePosition | undefined) ?? null;
    },
    /** Call in the same transaction as the failures read up to `pos.offset`. */
    save(source: string, pos: FilePosition, now: number): void {
      save.run(source, pos.path, pos.dev, pos.ino, pos.offset, pos.fingerprint, now);
    },
  };
}

export type OffsetsRepo = ReturnType<typeof offsetsRepo>;
