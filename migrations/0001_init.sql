-- Handshake failures as read from the logs. `at` is the line's own time (ms since
-- the epoch) or the time it was read when the line carries none.
CREATE TABLE failures (
  id     INTEGER PRIMARY KEY,
  ip     TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  source TEXT    NOT NULL,
  reason TEXT    NOT NULL
);
CREATE INDEX failures_ip_at ON failures (ip, at);
CREATE INDEX failures_at ON failures (at);

-- Every ban ever issued; `state` says whether it is still in force.
-- `ip` is an address or a CIDR in canonical text; `expires_at` NULL means forever.
CREATE TABLE bans (
  id         INTEGER PRIMARY KEY,
  ip         TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  failures   INTEGER NOT NULL,
  origin     TEXT    NOT NULL CHECK (origin IN ('auto', 'manual')),
  banned_at  INTEGER NOT NULL,
  expires_at INTEGER,
  state      TEXT    NOT NULL CHECK (state IN ('active', 'expired', 'unbanned')),
  ended_at   INTEGER
);
CREATE UNIQUE INDEX bans_one_active_per_ip ON bans (ip) WHERE state = 'active';
CREATE INDEX bans_ip ON bans (ip, banned_at);

-- Where each source has read up to, saved in the same transaction as the
-- failures read before that position, so a restart neither skips nor recounts.
CREATE TABLE offsets (
  source      TEXT PRIMARY KEY,
  path        TEXT    NOT NULL,
  dev         INTEGER NOT NULL,
  ino         INTEGER NOT NULL,
  offset      INTEGER NOT NULL,
  fingerprint TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Changes made by CLI commands beside a running daemon (ban, unban), so the
-- daemon can bring its in-memory windows in line without a restart.
CREATE TABLE admin_events (
  id   INTEGER PRIMARY KEY,
  kind TEXT    NOT NULL CHECK (kind IN ('ban', 'unban')),
  ip   TEXT    NOT NULL,
  at   INTEGER NOT NULL
);
