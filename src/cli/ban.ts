import { formatDuration, parseDuration } from '../config/duration.js';
import { UserError } from '../errors.js';
import { parseCidr, type Cidr } from '../net/address.js';
import { banManually, unban } from '../pipeline/admin.js';
import { policyData, protectedGroups } from '../pipeline/rules.js';
import { backendFor } from './backend-for.js';
import { configFrom, storeFor, type CommonOptions } from './context.js';
import type { Io } from './io.js';

export function parseTarget(text: string): Cidr {
  const net = parseCidr(text.trim());
  if (!net) throw new UserError(`"${text}" is not an IPv4/IPv6 address or CIDR (e.g. 203.0.113.7, 2001:db8::/64)`, 2);
  return net;
}

export async function banCommand(
  target: string,
  opts: CommonOptions & { for?: string; reason?: string; force?: boolean },
  io: Io,
  now = Date.now(),
): Promise<number> {
  const net = parseTarget(target);
  const cfg = configFrom(opts);
  let durationMs: number | null = cfg.policy.banTime;
  if (opts.for !== undefined) {
    durationMs = opts.for === 'forever' ? null : parseDuration(opts.for);
    if (durationMs === 0 || (durationMs === null && opts.for !== 'forever')) {
      throw new UserError(`--for: expected a duration like 30s, 10m, 2h, 7d or "forever", got "${opts.for}"`, 2);
    }
  }
  const store = storeFor(cfg);
  try {
    const { ban, replaced, overridden } = await banManually(store, backendFor(cfg, io), net, {
      durationMs,
      now,
      protect: protectedGroups(cfg, policyData(store)),
      force: opts.force ?? false,
      ...(opts.reason ? { reason: opts.reason } : {}),
    });
    if (overridden) io.err(`warning: ${net.text} is protected by ${overridden}; banned anyway because of --force\n`);
    for (const r of replaced) io.err(`replaced the ban of ${r.ip.text}, which ${net.text} covers\n`);
    io.err(`banned ${ban.ip.text} ${durationMs === null ? 'forever' : `for ${formatDuration(durationMs)}`}\n`);
    return 0;
  } finally {
    store.close();
  }
}

export async function unbanCommand(
  target: string,
  opts: CommonOptions & { allow?: boolean; note?: string },
  io: Io,
  now = Date.now(),
): Promise<number> {
  const net = parseTarget(target);
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const { lifted, forgotten, allowed } = await unban(store, backendFor(cfg, io), net, now, {
      ...(opts.allow ? { allow: { note: opts.note ?? 'unban --allow' } } : {}),
    });
    if (lifted.length === 0) io.err(`${net.text} was not banned; forgot ${forgotten} counted failure(s)\n`);
    for (const b of lifted) io.err(`unbanned ${b.ip.text}\n`);
    if (lifted.length) io.err(`forgot ${forgotten} counted failure(s)\n`);
    if (opts.allow) io.err(allowed ? `added ${net.text} to the allow list: it is never banned\n` : `${net.text} was already on the allow list\n`);
    return 0;
  } finally {
    store.close();
  }
}
