import type { Ban } from '../store/bans.js';
import { configFrom, storeFor, type CommonOptions } from './context.js';
import { iso, relative, table } from './human.js';
import type { Io } from './io.js';

export function banJson(b: Ban) {
  return {
    ip: b.ip.text,
    reason: b.reason,
    failures: b.failures,
    origin: b.origin,
    bannedAt: iso(b.bannedAt),
    expiresAt: iso(b.expiresAt),
  };
}

export async function listCommand(opts: CommonOptions & { json?: boolean }, io: Io, now = Date.now()): Promise<number> {
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const bans = store.bans.active(now);
    if (opts.json) {
      io.out(JSON.stringify(bans.map(banJson), null, 2) + '\n');
      return 0;
    }
    if (bans.length === 0) {
      io.out('no active bans\n');
      return 0;
    }
    io.out(
      table(
        ['IP', 'FAILURES', 'BANNED', 'EXPIRES', 'REASON'],
        bans.map((b) => [b.ip.text, b.failures, relative(b.bannedAt, now), relative(b.expiresAt, now), b.reason]),
      ),
    );
    io.out(`${bans.length} active ban${bans.length === 1 ? '' : 's'}\n`);
    return 0;
  } finally {
    store.close();
  }
}
