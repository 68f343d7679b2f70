-- A source may follow several files at once (a glob, or a rotated file still
-- being finished beside its successor), so positions are kept per file: the
-- file's identity (device + inode) within its source. `path` is where the file
-- was last seen, used to find it again after a rotation while stopped.
CREATE TABLE file_positions (
  source      TEXT    NOT NULL,
  dev         INTEGER NOT NULL,
  ino         INTEGER NOT NULL,
  path        TEXT    NOT NULL,
  offset      INTEGER NOT NULL,
  fingerprint TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (source, dev, ino)
);
INSERT INTO file_positions (source, dev, ino, path, offset, fingerprint, updated_at)
  SELECT source, dev, ino, path, offset, fingerprint, updated_at FROM offsets;
DROP TABLE offsets;

-- Where a journald source has read up to (journalctl's __CURSOR), saved in the
-- same transaction as the failures read before it.
CREATE TABLE journal_cursors (
  source     TEXT PRIMARY KEY,
  cursor     TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
