import { z } from 'zod';
import { parseCidr, type Cidr } from '../net/address.js';
import { parseDuration } from './duration.js';
import { CDN_PROVIDERS } from '../policy/cdn-ranges.js';
import { FORMAT_NAMES } from '../signatures/index.js';

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

const fileSource = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, 'use letters, digits, ".", "_" or "-" (at most 64)'),
  type: z.literal('file'),
  path: z.string().min(1),
  format: z.enum(FORMAT_NAMES),
  /** Where to begin in a file that has no stored position yet. */
  readFrom: z.enum(['end', 'start']).default('end'),
});

export const sourceSchema = z.discriminatedUnion('type', [fileSource]);

export const policySchema = z.strictObject({
  maxRetry: z.number().int().min(1).default(5),
  findTime: duration.default(600_000),
  banTime: duration.refine((ms) => ms >= 1000, 'banTime must be at least 1s').default(3_600_000),
  allow: z.array(cidr).default(['127.0.0.0/8', '::1'].map((s) => parseCidr(s)!)),
  cdn: z.array(z.enum(CDN_PROVIDERS)).default(['cloudflare']),
});

export const firewallSchema = z.strictObject({
  backend: z.enum(['nftables', 'dry-run']).default('nftables'),
  // Becomes an nft identifier in scripts, so only a safe alphabet is allowed.
  table: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'use a letter then letters, digits or "_" (at most 32)')
    .default('blocker'),
});

export const configSchema = z
  .strictObject({
    database: z.string().min(1).default('/var/lib/blocker/blocker.db'),
    sources: z.array(sourceSchema).default([]),
    policy: policySchema.default(policySchema.parse({})),
    firewall: firewallSchema.default(firewallSchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      }
      seen.add(s.name);
    });
  });

export type Config = z.output<typeof configSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type FirewallConfig = z.output<typeof firewallSchema>;
