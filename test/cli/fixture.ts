import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { parseCidr, parseIp } from '../../src/net/address.js';
import type { NewBan } from '../../src/store/bans.js';
import { openStore, type Store } from '../../src/store/store.js';

/** A fixed clock for the commands that take `now`: 2026-11-01 12:00 UTC. */
export const NOW = Date.parse('2026-11-01T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp folder with a config (dry-run firewall, one nginx file source) and its database path. */
export function workspace(extraYaml = ''): { dir: string; config: string; db: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-cli7-'));
  dirs.push(dir);
  const config = join(dir, 'config.yaml');
  const log = join(dir, 'error.log');
  writeFileSync(log, '');
  writeFileSync(
    config,
    `database: state/blocker.db
sources:
  - { name: nginx, type: file, path: error.log, format: nginx }
policy: { maxRetry: 5, findTime: 10m, banTime: 1h }
firewall: { backend: dry-run }
${extraYaml}`,
  );
  return { dir, config, db: join(dir, 'state', 'blocker.db'), log };
}

/** Opens the workspace's database, runs `fn` on it and closes it. */
export function withStore<T>(db: string, fn: (s: Store) => T): T {
  const store = openStore(db);
  try {
    return store.transaction(() => fn(store));
  } finally {
    store.close();
  }
}

export function ban(ip: string, at: number, over: Partial<NewBan> = {}): NewBan {
  return {
    ip: parseCidr(ip)!,
    reason: '5 handshake failures within 10m (last: EOF)',
    failures: 5,
    origin: 'auto',
    bannedAt: at,
    expiresAt: at + HOUR,
    ...over,
  };
}

export function failure(ip: string, at: number, reason = 'EOF', source = 'nginx') {
  return { ip: parseIp(ip)!, at, source, reason };
}

/** Captures what a command prints. */
export function capture() {
  let out = '';
  let err = '';
  return {
    io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}
