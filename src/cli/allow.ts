import { UserError } from '../errors.js';
import { cidrContains } from '../net/address.js';
import { configFrom, storeFor, type CommonOptions } from './context.js';
import { parseTarget } from './ban.js';
import { iso, table } from './human.js';
import type { Io } from './io.js';

/** `blocker allow list`: the persistent allow list (from `unban --allow`) and the config's policy.allow. */
export async function allowListCommand(opts: CommonOptions & { json?: boolean }, io: Io): Promise<number> {
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const rows = [
      ...cfg.policy.allow.map((c) => ({ net: c.text, from: 'config', note: 'policy.allow', addedAt: null as number | null })),
      ...store.allowList.list().map((e) => ({ net: e.net.text, from: 'database', note: e.note, addedAt: e.addedAt as number | null })),
    ];
    if (opts.json) {
      io.out(JSON.stringify(rows.map((r) => ({ ...r, addedAt: iso(r.addedAt) })), null, 2) + '\n');
      return 0;
    }
    io.out(table(['NETWORK', 'FROM', 'ADDED', 'NOTE'], rows.map((r) => [r.net, r.from, iso(r.addedAt) ?? '-', r.note])));
    io.out('loopback and this host\'s own addresses are never banned either, whatever the lists say\n');
    return 0;
  } finally {
    store.close();
  }
}

/** `blocker allow add`: the same as `unban --allow` without the unban message. */
export async function allowAddCommand(target: string, opts: CommonOptions & { note?: string }, io: Io, now = Date.now()): Promise<number> {
  const net = parseTarget(target);
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const added = store.transaction(() => store.allowList.add(net, opts.note ?? 'allow add', now));
    io.err(added ? `added ${net.text} to the allow list: it is never banned\n` : `${net.text} was already on the allow list\n`);
    if (store.bans.active(now).some((b) => cidrContains(net, b.ip))) {
      io.err(`note: existing bans stay until they end; lift them with \`blocker unban ${net.text}\`\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}

/** `blocker allow remove`: takes an entry off the persistent allow list (exactly as listed). */
export async function allowRemoveCommand(target: string, opts: CommonOptions, io: Io): Promise<number> {
  const net = parseTarget(target);
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const removed = store.transaction(() => store.allowList.remove(net));
    if (!removed) {
      const inConfig = cfg.policy.allow.some((c) => c.text === net.text);
      throw new UserError(
        inConfig
          ? `${net.text} is in the config's policy.allow, not in the database: remove it from the config file`
          : `${net.text} is not on the allow list (see \`blocker allow list\`)`,
        2,
      );
    }
    io.err(`removed ${net.text} from the allow list\n`);
    return 0;
  } finally {
    store.close();
  }
}
