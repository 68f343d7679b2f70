-- What a running `blocker watch` says about itself, for `blocker status`: one
-- row, rewritten every few seconds (the heartbeat) and when something changes
-- (a source fails, the firewall refuses a change). `report` is JSON: per
-- source lines, failures and last error; the firewall's last apply and error.
CREATE TABLE daemon_status (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  pid          INTEGER NOT NULL,
  host         TEXT    NOT NULL,
  version      TEXT    NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  stopped_at   INTEGER,
  report       TEXT    NOT NULL
);
