-- Addresses and networks never banned, added by `blocker unban --allow`
-- (the config's policy.allow is the other half of the allow list).
CREATE TABLE allow_list (
  net      TEXT PRIMARY KEY,
  note     TEXT    NOT NULL,
  added_at INTEGER NOT NULL
);

-- The last good range list per CDN provider fetched by `blocker cdn update`.
-- `as_of` is the provider's own date for the list where it gives one, else the
-- fetch date; `ranges` a JSON array of canonical CIDRs.
CREATE TABLE cdn_lists (
  provider   TEXT PRIMARY KEY,
  as_of      TEXT    NOT NULL,
  fetched_at INTEGER NOT NULL,
  source     TEXT    NOT NULL,
  ranges     TEXT    NOT NULL
);

-- What the policy diagnosed (a proxy sending PROXY protocol, a storm of
-- failures), one row per kind and subject, for `blocker status`.
CREATE TABLE diagnoses (
  kind     TEXT    NOT NULL,
  subject  TEXT    NOT NULL,
  message  TEXT    NOT NULL,
  evidence TEXT    NOT NULL,
  first_at INTEGER NOT NULL,
  last_at  INTEGER NOT NULL,
  count    INTEGER NOT NULL,
  PRIMARY KEY (kind, subject)
);

-- The storm breaker: one row, written when it trips, while it holds bans
-- back and when it resumes.
CREATE TABLE breaker (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  tripped    INTEGER NOT NULL,
  since      INTEGER,
  ended_at   INTEGER,
  held       INTEGER NOT NULL,
  evidence   TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);

-- `blocker unban` forgives: automatic bans of `net` at or before `at` no
-- longer count towards the escalation of repeat offenders.
CREATE TABLE escalation_resets (
  net TEXT PRIMARY KEY,
  at  INTEGER NOT NULL
);

-- Bumped by every change to allow_list or cdn_lists, so a running daemon
-- notices within a tick and reloads the ranges it never bans.
CREATE TABLE policy_revisions (
  name     TEXT PRIMARY KEY,
  revision INTEGER NOT NULL
);
