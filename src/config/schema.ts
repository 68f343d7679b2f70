import * as z from 'zod';
import { parseCidr, type Cidr } from '../net/address.js';
import { parseDuration } from './duration.js';
import { CDN_PROVIDERS } from '../policy/cdn-ranges.js';
import { CAUSES, FORMAT_NAMES, specProblem } from '../signatures/index.js';
import { templateProblem } from '../actions/template.js';
import { parseListen } from '../metrics/listen.js';

/** `30s`, `10m`, `1h`, `7d` (or a number of milliseconds) → milliseconds. */
const duration = z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 10m, 1h or 7d, got "${v}"` });
    return z.NEVER;
  }
  return ms;
});

const cidr = z.string().transform((v, ctx): Cidr => {
  const c = parseCidr(v.trim());
  if (!c) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an IPv4/IPv6 address or CIDR` });
    return z.NEVER;
  }
  return c;
});

/** `64KiB`, `1MiB`, `512B` (or a number of bytes) → bytes. */
const size = z.union([z.string(), z.number().int().nonnegative()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*(B|KiB|MiB|KB|MB|k|K|M)?$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 64KiB or 1MiB, got "${v}"` });
    return z.NEVER;
  }
  const unit = m[2] ?? 'B';
  return Number(m[1]) * (unit === 'B' ? 1 : /^(KiB|KB|k|K)$/.test(unit) ? 1024 : 1024 * 1024);
});

const sourceName = z.string().regex(/^[\w.-]{1,64}$/, 'use letters, digits, ".", "_" or "-" (at most 64)');
/** A longer line is cut there (and counted), so one huge line cannot stall the reader or fill memory. */
const maxLineBytes = size
  .refine((n) => n >= 256 && n <= 16 * 1024 * 1024, 'maxLineBytes must be between 256B and 16MiB')
  .default(64 * 1024);

/** Issue 3: a `format: regex` source's pattern and the cause of its matches (README "Formats"). */
const signatureFields = {
  pattern: z.string().min(1).optional(),
  cause: z.enum(CAUSES).optional(),
  /** nginx only: trust a record only when its pid is a running nginx process (README "Log injection"). */
  checkPid: z.boolean().optional(),
};

const fileSource = z.strictObject({
  name: sourceName,
  type: z.literal('file'),
  /** A file, or a pattern with `*`, `?` or `[...]` in its last part (the file name). */
  path: z.string().min(1),
  format: z.enum(FORMAT_NAMES),
  ...signatureFields,
  /** Where to begin in a file that has no stored position yet. */
  readFrom: z.enum(['end', 'start']).default('end'),
  maxLineBytes,
});

const journaldSource = z
  .strictObject({
    name: sourceName,
    type: z.literal('journald'),
    format: z.enum(FORMAT_NAMES),
    ...signatureFields,
    /** systemd units (`journalctl -u`), e.g. nginx.service. */
    units: z.array(z.string().regex(/^[\w@.:-]+$/, 'a unit name like nginx.service')).default([]),
    /** syslog identifiers (`journalctl -t`), e.g. hysteria. */
    identifiers: z.array(z.string().regex(/^[\w@.:-]+$/, 'a syslog identifier like hysteria')).default([]),
    /** Where to begin when no cursor is stored yet. */
    readFrom: z.enum(['end', 'start']).default('end'),
    maxLineBytes,
  })
  .refine((s) => s.units.length + s.identifiers.length > 0, {
    message: 'name at least one of units or identifiers, or the whole journal would be read',
    path: ['units'],
  });

const stdinSource = z.strictObject({
  name: sourceName,
  type: z.literal('stdin'),
  format: z.enum(FORMAT_NAMES),
  ...signatureFields,
  maxLineBytes,
});

export const sourceSchema = z.discriminatedUnion('type', [fileSource, journaldSource, stdinSource]);

export const watchSchema = z.strictObject({
  /** How often sources are looked at when no file-system event came (the fallback for NFS and the like). */
  pollInterval: duration.refine((ms) => ms >= 10 && ms <= 60_000, 'pollInterval must be between 10ms and 1m').default(250),
  /** How often the daemon logs a one-line summary (0: never). */
  summaryEvery: duration.default(3_600_000),
});

export const policySchema = z.strictObject({
  maxRetry: z.number().int().min(1).default(5),
  findTime: duration.default(600_000),
  banTime: duration.refine((ms) => ms >= 1000, 'banTime must be at least 1s').default(3_600_000),
  allow: z.array(cidr).default(['127.0.0.0/8', '::1'].map((s) => parseCidr(s)!)),
  cdn: z.array(z.enum(CDN_PROVIDERS)).default(['cloudflare']),
  // Issue 5 (policy that never cuts off what must stay reachable); README "Policy rules".
  /** Load balancers, frp nodes, tunnels, sslh in front of the server: never banned, and watched for the PROXY-protocol trap. */
  trustedProxies: z.array(cidr).default([]),
  /** How many failures one failure of each cause counts as; a client refusing our certificate is not an attack. */
  causeWeights: z
    .partialRecord(z.enum(CAUSES), z.number().int('use a whole number (a weight-2 failure counts twice)').min(0).max(10))
    .default({})
    .transform((w): Readonly<Record<string, number>> => ({ 'cert-rejected': 0, ...w })),
  escalation: z
    .strictObject({
      factor: z.number().min(1).max(100).default(2),
      maxBanTime: duration.refine((ms) => ms >= 1000, 'maxBanTime must be at least 1s').default(7 * 86_400_000),
      rememberFor: duration.default(30 * 86_400_000),
    })
    .prefault({}),
  ipv6: z
    .strictObject({
      prefixLength: z.number().int().min(32).max(128).default(64),
      maxRetry: z.number().int().min(1).default(10),
      maxAddresses: z.number().int().min(2).default(5),
    })
    .prefault({}),
  breaker: z
    .strictObject({
      enabled: z.boolean().default(true),
      window: duration.refine((ms) => ms >= 1000, 'window must be at least 1s').default(60_000),
      maxAddresses: z.number().int().min(2).default(300),
      certRejectedShare: z.number().gt(0).max(1).default(0.25),
      minFailures: z.number().int().min(1).default(20),
      cooldown: duration.default(300_000),
    })
    .prefault({}),
  /** Where `blocker cdn update` fetches each provider's list (default: the provider's official URLs). */
  cdnUrls: z.partialRecord(z.enum(CDN_PROVIDERS), z.array(z.url({ protocol: /^https?$/ })).min(1)).default({}),
});

// Issue 6 (firewall backends): README "Firewall".
export const firewallSchema = z.strictObject({
  /** auto: nftables where `nft` is installed, else ipset + iptables. */
  backend: z.enum(['auto', 'nftables', 'ipset', 'dry-run']).default('auto'),
  /** Whose scripts `dry-run` prints. */
  dryRunOf: z.enum(['auto', 'nftables', 'ipset']).default('auto'),
  // Becomes an nft identifier and ipset name prefix in scripts, so only a safe alphabet is allowed.
  table: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'use a letter then letters, digits or "_" (at most 32)')
    .default('blocker'),
  /** nftables: priority of our input (and forward) chain; lower runs earlier, `filter` is 0. */
  priority: z.number().int().min(-400).max(400).default(-10),
  action: z.enum(['drop', 'reject']).default('drop'),
  /** Also block banned sources in the forward hook (traffic routed to containers or VMs). */
  forwardHook: z.boolean().default(false),
  /** How often the daemon compares the kernel with the database and fixes what differs. */
  reconcileEvery: duration.refine((ms) => ms >= 1000, 'reconcileEvery must be at least 1s').default(60_000),
  /** ipset: the least maxelem of our sets (grown to twice the members when they need more). */
  maxElem: z.number().int().min(1024).max(1 << 28).default(1 << 20),
  /** ipset: which iptables to put our rules in: the system's `iptables`, iptables-nft or iptables-legacy. */
  iptables: z.enum(['auto', 'nft', 'legacy']).default('auto'),
});

// Issue 7 (operator experience): README "Metrics" and "Hooks".
export const metricsSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** A bare port means loopback; another host must be written out. */
  listen: z
    .string()
    .superRefine((v, ctx) => {
      const l = parseListen(v);
      if (typeof l === 'string') ctx.addIssue({ code: 'custom', message: l });
    })
    .default('127.0.0.1:9477'),
});

/** A program and its arguments, never a shell line; `{ip}`-style placeholders are filled in per argument. */
const hookCommand = z
  .array(z.string().min(1))
  .min(1, 'give the program and its arguments as a list, e.g. ["/usr/local/bin/notify", "{ip}"]')
  .superRefine((args, ctx) => {
    args.forEach((a, i) => {
      const problem = templateProblem(a);
      if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem });
    });
  });

export const actionsSchema = z.strictObject({
  onBan: hookCommand.optional(),
  onUnban: hookCommand.optional(),
  /** A hook still running after this is killed (and logged); banning never waits for hooks. */
  timeout: duration.refine((ms) => ms >= 100 && ms <= 600_000, 'timeout must be between 100ms and 10m').default(10_000),
});

export const configSchema = z
  .strictObject({
    database: z.string().min(1).default('/var/lib/blocker/blocker.db'),
    sources: z.array(sourceSchema).default([]),
    policy: policySchema.default(policySchema.parse({})),
    firewall: firewallSchema.default(firewallSchema.parse({})),
    watch: watchSchema.default(watchSchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
    actions: actionsSchema.default(actionsSchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      }
      seen.add(s.name);
      const problem = specProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', path: ['sources', i, problem.key], message: problem.message });
    });
    const stdin = cfg.sources.filter((s) => s.type === 'stdin');
    if (stdin.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['sources'], message: 'at most one source can read stdin' });
    }
  });

export type Config = z.output<typeof configSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type FirewallConfig = z.output<typeof firewallSchema>;
export type WatchConfig = z.output<typeof watchSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
export type ActionsConfig = z.output<typeof actionsSchema>;
