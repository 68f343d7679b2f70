-- Indexes for what the live path really asks, and none it pays for per line
-- without asking.
--
-- failures (ip, at): every failure from a new address landed on a random leaf
-- of this index, so each tick's commit rewrote hundreds of scattered pages
-- (about 20 µs of a core per failure under a flood of distinct addresses,
-- against under 2 µs without it). Only `blocker history` and `blocker unban`
-- look failures up by address, rarely, and the table holds at most findTime's
-- worth of failures: they scan it instead.
DROP INDEX failures_ip_at;

-- Expiring bans once a second, and reading the bans in force in age order,
-- touch only the active rows instead of scanning every ban ever issued.
CREATE INDEX bans_active_expiry ON bans (expires_at) WHERE state = 'active';
CREATE INDEX bans_active_age ON bans (banned_at) WHERE state = 'active';

-- The network bans in force, read each tick that bans someone: few rows,
-- found without scanning the address bans.
CREATE INDEX bans_active_networks ON bans (ip) WHERE state = 'active' AND instr(ip, '/') > 0;
