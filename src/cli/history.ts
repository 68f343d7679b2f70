import { formatDuration } from '../config/duration.js';
import { UserError } from '../errors.js';
import { cidrOverlaps, isSingleAddress, parseCidr, type Cidr } from '../net/address.js';
import { overlappingGroup } from '../policy/protected.js';
import { banCause } from '../pipeline/ban-cause.js';
import { protectedGroups, storedPolicyData } from '../pipeline/rules.js';
import { causeOf } from '../signatures/causes.js';
import type { BanRecord } from '../store/reports.js';
import { configFrom, type CommonOptions } from './context.js';
import { iso, plural, relative, styleFor, table } from './human.js';
import type { Io } from './io.js';
import { openReadStore } from './read-store.js';

export interface History {
  target: string;
  /** The never-ban group the target falls in (e.g. `cdn:cloudflare`), or null. */
  protectedBy: { group: string; range: string } | null;
  bans: {
    ip: string;
    origin: string;
    cause: string;
    failures: number;
    bannedAt: string;
    expiresAt: string | null;
    state: BanRecord['state'];
    endedAt: string | null;
    /** The rule that banned it, as the policy wrote it. */
    reason: string;
  }[];
  failures: { at: string; ip: string; source: string; cause: string; reason: string }[];
  /** How far back failures are kept (the daemon prunes older ones). */
  failuresKeptMs: number;
  /** True when more failures are stored than --limit shows. */
  truncated: boolean;
  diagnoses: { kind: string; subject: string; message: string; firstAt: string; lastAt: string; count: number }[];
}

/** What became of a ban, e.g. "expired 2h ago", "in force, ends in 43m". */
function banEnd(b: History['bans'][number], now: number): string {
  const at = (x: string | null) => (x === null ? null : Date.parse(x));
  if (b.state === 'active') return b.expiresAt === null ? 'in force, permanent' : `in force, ends ${relative(at(b.expiresAt), now)}`;
  const how = b.state === 'expired' ? 'expired' : 'lifted';
  return `${how} ${relative(at(b.endedAt ?? b.expiresAt), now)}`;
}

/** How long it lasted (or has lasted so far). */
function lasted(b: History['bans'][number], now: number): string {
  const end = b.state === 'active' ? now : Date.parse(b.endedAt ?? b.expiresAt ?? b.bannedAt);
  return formatDuration(Math.max(0, end - Date.parse(b.bannedAt)));
}

const stamp = (isoText: string) => isoText.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** `blocker history <ip|cidr>`: when it failed, why, and when it was banned, by what rule. */
export async function historyCommand(target: string, opts: CommonOptions & { json?: boolean; limit?: string }, io: Io, now = Date.now()): Promise<number> {
  const net: Cidr | null = parseCidr(target.trim());
  if (!net) throw new UserError(`"${target}" is not an IPv4/IPv6 address or CIDR (e.g. 203.0.113.7, 2001:db8::/64)`, 2);
  const limit = opts.limit === undefined ? 50 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit: expected a whole number ≥ 1, got "${opts.limit}"`, 2);
  const cfg = configFrom(opts);
  const store = openReadStore(cfg.database);
  const hit = overlappingGroup(protectedGroups(cfg, storedPolicyData(cfg.database)), net);
  const h: History = {
    target: net.text,
    protectedBy: hit ? { group: hit.group.label, range: hit.range.text } : null,
    bans: [],
    failures: [],
    failuresKeptMs: cfg.policy.findTime,
    truncated: false,
    diagnoses: [],
  };
  if (store) {
    try {
      h.bans = store.reports.bansOverlapping(net).map((b) => ({
        ip: b.ip.text,
        origin: b.origin,
        cause: banCause(b),
        failures: b.failures,
        bannedAt: iso(b.bannedAt)!,
        expiresAt: iso(b.expiresAt),
        state: b.state,
        endedAt: iso(b.endedAt),
        reason: b.reason,
      }));
      const failures = store.reports.failuresWithin(net, limit + 1);
      h.truncated = failures.length > limit;
      h.failures = failures.slice(0, limit).map((f) => ({
        at: iso(f.at)!,
        ip: f.ip.text,
        source: f.source,
        cause: causeOf(f.reason),
        reason: f.reason,
      }));
      // A diagnosis names an address or network as its subject (a proxy, a prefix).
      const concerns = (subject: string) => {
        const c = parseCidr(subject);
        return c !== null && cidrOverlaps(c, net);
      };
      h.diagnoses = store.diagnoses
        .since(0)
        .filter((d) => concerns(d.subject))
        .map((d) => ({ kind: d.kind, subject: d.subject, message: d.message, firstAt: iso(d.firstAt)!, lastAt: iso(d.lastAt)!, count: d.count }));
    } finally {
      store.close();
    }
  }
  if (opts.json) {
    io.out(JSON.stringify(h, null, 2) + '\n');
    return 0;
  }
  const s = styleFor(io);
  const out: string[] = [];
  if (h.protectedBy) out.push(`${net.text} is never banned: ${s.green(h.protectedBy.group)} (${h.protectedBy.range})`);
  if (!store) out.push(`no database yet at ${cfg.database}: nothing recorded`);
  out.push(s.bold(`bans of ${net.text}${isSingleAddress(net) ? ' (and networks around it)' : ' (and inside it)'}: ${h.bans.length}`));
  if (h.bans.length) {
    out.push(
      table(
        ['BANNED', 'IP', 'ORIGIN', 'CAUSE', 'LASTED', 'STATE', 'REASON (RULE)'].map(s.bold),
        h.bans.map((b) => [
          stamp(b.bannedAt),
          b.ip,
          b.origin,
          b.cause,
          lasted(b, now),
          b.state === 'active' ? s.red(banEnd(b, now)) : banEnd(b, now),
          b.reason,
        ]),
      ).trimEnd(),
    );
  }
  out.push(
    s.bold(`failures stored: ${h.failures.length}${h.truncated ? `+ (newest ${limit} shown; --limit for more)` : ''}`) +
      s.dim(` [kept for policy.findTime, ${formatDuration(h.failuresKeptMs)}]`),
  );
  if (h.failures.length) {
    out.push(
      table(
        ['AT', 'IP', 'SOURCE', 'CAUSE', 'REASON'].map(s.bold),
        h.failures.map((f) => [stamp(f.at), f.ip, f.source, f.cause, f.reason]),
      ).trimEnd(),
    );
  }
  if (h.diagnoses.length) {
    out.push(s.bold('diagnoses'));
    for (const d of h.diagnoses) out.push(`  ${d.kind}: ${d.message} (${plural(d.count, 'time')}, last ${d.lastAt})`);
  }
  io.out(out.join('\n') + '\n');
  return 0;
}
