import { existsSync } from 'node:fs';
import { backendFor } from './backend-for.js';
import { configFrom, storeFor, type CommonOptions } from './context.js';
import type { Io } from './io.js';

/**
 * For uninstalling: removes blocker's own objects from the firewall (the
 * nftables table, or the ipsets and the iptables rules that carry our comment)
 * and nothing else, then marks the active bans inactive so nothing puts them
 * back. With --dry-run it prints the commands and leaves the database alone.
 */
export async function flushCommand(opts: CommonOptions, io: Io, now = Date.now()): Promise<number> {
  const cfg = configFrom(opts);
  const backend = backendFor(cfg, io);
  await backend.check();
  const { removed } = await backend.flush();
  const verb = backend.name === 'dry-run' ? 'would remove' : 'removed';
  for (const r of removed) io.err(`${verb} ${r}\n`);
  if (removed.length === 0) io.err('the firewall held nothing of blocker\'s\n');
  if (opts.dryRun) {
    io.err('dry run: the database was left as it is\n');
    return 0;
  }
  if (!existsSync(cfg.database)) return 0;
  const store = storeFor(cfg);
  try {
    const ended = store.transaction(() => {
      const active = store.bans.active(now);
      for (const b of active) store.bans.unban(b, now);
      return active.length;
    });
    io.err(`marked ${ended} active ban(s) inactive in ${cfg.database}\n`);
    io.err('note: a running `blocker watch` recreates its firewall objects at its next reconcile; stop it first\n');
  } finally {
    store.close();
  }
  return 0;
}
