import { UserError } from '../errors.js';
import { cidrOverlaps, parseCidr, type Cidr } from '../net/address.js';
import { bounds } from '../net/match.js';
import { banCause, type BanCause } from '../pipeline/ban-cause.js';
import type { Ban } from '../store/bans.js';
import { configFrom, type CommonOptions } from './context.js';
import { iso, plural, relative, styleFor, table } from './human.js';
import type { Io } from './io.js';
import { openReadStore } from './read-store.js';

import { LIST_SORTS, type ListSort } from './list-sorts.js';

export { LIST_SORTS, type ListSort };

export interface ListOptions extends CommonOptions {
  json?: boolean;
  /** Only bans overlapping this network. */
  in?: string;
  origin?: 'auto' | 'manual';
  cause?: string;
  sort?: ListSort;
  reverse?: boolean;
}

/** The JSON of one ban: the skeleton's fields, then `cause`. */
export function banJson(b: Ban) {
  return {
    ip: b.ip.text,
    reason: b.reason,
    failures: b.failures,
    origin: b.origin,
    bannedAt: iso(b.bannedAt),
    expiresAt: iso(b.expiresAt),
    cause: banCause(b),
  };
}

/** The policy's rule without the last failure's reason, which the CAUSE column already says. */
function rule(b: Ban): string {
  return b.reason.replace(/ \(last: .*?\)(?=;|$)/, '');
}

function compareNets(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  const [x] = bounds(a);
  const [y] = bounds(b);
  return x < y ? -1 : x > y ? 1 : a.prefix - b.prefix;
}

const BY: Record<ListSort, (a: Ban & { cause: BanCause }, b: Ban & { cause: BanCause }) => number> = {
  banned: (a, b) => a.bannedAt - b.bannedAt || a.id - b.id,
  // Permanent bans last: they have the most time left.
  remaining: (a, b) => (a.expiresAt ?? Number.POSITIVE_INFINITY) - (b.expiresAt ?? Number.POSITIVE_INFINITY) || a.id - b.id,
  failures: (a, b) => b.failures - a.failures || a.id - b.id,
  ip: (a, b) => compareNets(a.ip, b.ip),
  cause: (a, b) => a.cause.localeCompare(b.cause) || a.bannedAt - b.bannedAt,
};

/** `blocker list`: the bans in force, filtered and sorted, as a table or JSON. */
export async function listCommand(opts: ListOptions, io: Io, now = Date.now()): Promise<number> {
  let within: Cidr | null = null;
  if (opts.in !== undefined) {
    within = parseCidr(opts.in.trim());
    if (!within) throw new UserError(`--in: "${opts.in}" is not an address or CIDR (e.g. 2001:db8::/32)`, 2);
  }
  const sort = opts.sort ?? 'banned';
  if (!LIST_SORTS.includes(sort)) throw new UserError(`--sort: expected one of ${LIST_SORTS.join(', ')}, got "${sort}"`, 2);
  const cfg = configFrom(opts);
  // Read-only: any user who may read the database can list, and listing never creates it.
  const store = openReadStore(cfg.database);
  try {
    const all = store ? store.bans.active(now) : [];
    const bans = all
      .map((b) => ({ ...b, cause: banCause(b) }))
      .filter((b) => (within ? cidrOverlaps(within, b.ip) : true))
      .filter((b) => (opts.origin ? b.origin === opts.origin : true))
      .filter((b) => (opts.cause ? b.cause === opts.cause : true))
      .sort(BY[sort]);
    if (opts.reverse) bans.reverse();
    if (opts.json) {
      io.out(JSON.stringify(bans.map(banJson), null, 2) + '\n');
      return 0;
    }
    const filtered = bans.length !== all.length;
    if (bans.length === 0) {
      io.out(all.length === 0 ? 'no active bans\n' : `no active bans match (${plural(all.length, 'ban')} in force in all)\n`);
      return 0;
    }
    const s = styleFor(io);
    io.out(
      table(
        ['IP', 'FAILURES', 'BANNED', 'REMAINING', 'RULE', 'CAUSE'].map(s.bold),
        bans.map((b) => [
          b.ip.text,
          b.origin === 'manual' ? '-' : b.failures,
          relative(b.bannedAt, now),
          b.expiresAt === null ? s.yellow('forever') : relative(b.expiresAt, now),
          rule(b),
          b.cause,
        ]),
      ),
    );
    io.out(`${plural(all.length, 'active ban')}${filtered ? `, ${bans.length} shown` : ''}\n`);
    return 0;
  } finally {
    store?.close();
  }
}
