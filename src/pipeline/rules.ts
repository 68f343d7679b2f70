import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { parseCidr, type Cidr } from '../net/address.js';
import { ownAddresses } from '../net/interfaces.js';
import { CDN_PROVIDERS, loadBundledRanges, newestList, type CdnProvider, type CdnRangeList } from '../policy/cdn-ranges.js';
import type { ProtectedRanges } from '../policy/protected.js';
import type { PolicyRules } from '../policy/thresholds.js';
import { openDatabase, type Db } from '../store/db.js';
import type { Store } from '../store/store.js';

/** What the policy needs from the database: the persistent allow list and fetched CDN lists. */
export interface PolicyData {
  readonly allowList: readonly Cidr[];
  readonly cdn: ReadonlyMap<string, { asOf: string; ranges: Cidr[] }>;
}

export const NO_POLICY_DATA: PolicyData = { allowList: [], cdn: new Map() };

const LOOPBACK: readonly Cidr[] = ['127.0.0.0/8', '::1'].map((s) => parseCidr(s)!);
const DIAGNOSIS_PERIOD = 3_600_000;

export function policyData(store: Store): PolicyData {
  return {
    allowList: store.allowList.list().map((e) => e.net),
    cdn: new Map(store.cdnLists.all().map((l) => [l.provider, { asOf: l.asOf, ranges: l.ranges }])),
  };
}

/**
 * The same, for `blocker check`: read-only, and nothing when the database
 * does not exist yet (check must never create or change it).
 */
export function storedPolicyData(database: string, onError: (message: string) => void = () => {}): PolicyData {
  if (database === ':memory:' || !existsSync(database)) return NO_POLICY_DATA;
  let db: Db | null = null;
  try {
    db = openDatabase(database, { readonly: true });
    const has = (t: string) => db!.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(t) !== undefined;
    // A database from before these tables existed: the daemon adds them at its next start.
    if (!has('allow_list') || !has('cdn_lists')) return NO_POLICY_DATA;
    const allowList = (db.prepare('SELECT net FROM allow_list').all() as { net: string }[])
      .map((r) => parseCidr(r.net))
      .filter((c): c is Cidr => c !== null);
    const cdn = new Map<string, { asOf: string; ranges: Cidr[] }>();
    for (const r of db.prepare('SELECT provider, as_of, ranges FROM cdn_lists').all() as { provider: string; as_of: string; ranges: string }[]) {
      const ranges = (JSON.parse(r.ranges) as string[]).map(parseCidr).filter((c): c is Cidr => c !== null);
      cdn.set(r.provider, { asOf: r.as_of, ranges });
    }
    return { allowList, cdn };
  } catch (err) {
    // check must work without the daemon's database (e.g. as a user who cannot read it).
    onError(`cannot read ${database} (${(err as Error).message.split('\n')[0]}); going on without its allow list and fetched CDN lists`);
    return NO_POLICY_DATA;
  } finally {
    db?.close();
  }
}

/** The CDN list in force for `provider`: the fetched one when at least as recent as the bundled one. */
export function cdnList(provider: CdnProvider, data: PolicyData): CdnRangeList & { origin: 'bundled' | 'fetched' } {
  return newestList(loadBundledRanges(provider), data.cdn.get(provider) ?? null);
}

/**
 * Never-ban groups, in the order their labels are reported: loopback and this
 * host's own addresses (whatever the config says), the config's allow list,
 * the persistent allow list, trusted proxies, then each selected CDN.
 */
export function protectedGroups(cfg: Config, data: PolicyData = NO_POLICY_DATA, own: readonly Cidr[] = ownAddresses()): ProtectedRanges[] {
  return [
    { label: 'loopback', ranges: LOOPBACK, hard: true },
    { label: 'own-address', ranges: own, hard: true },
    { label: 'allow', ranges: cfg.policy.allow },
    { label: 'allow-list', ranges: data.allowList },
    { label: 'trusted-proxy', ranges: cfg.policy.trustedProxies },
    ...cfg.policy.cdn.map((p) => ({ label: `cdn:${p}`, ranges: cdnList(p, data).ranges })),
  ];
}

export function policyRules(cfg: Config, data: PolicyData = NO_POLICY_DATA, own?: readonly Cidr[]): PolicyRules {
  const p = cfg.policy;
  return {
    maxRetry: p.maxRetry,
    findTime: p.findTime,
    banTime: p.banTime,
    protect: protectedGroups(cfg, data, own),
    causeWeights: p.causeWeights,
    escalation: p.escalation,
    ...(p.ipv6.prefixLength < 128 ? { ipv6: p.ipv6 } : {}),
    ...(p.breaker.enabled ? { breaker: p.breaker } : {}),
    diagnosis: { trustedProxies: p.trustedProxies, period: DIAGNOSIS_PERIOD, window: p.findTime },
  };
}

/**
 * The same rules with the database's part replaced: a running daemon calls it
 * when `blocker unban --allow`, `allow remove` or `cdn update` changed it.
 */
export function withPolicyData(rules: PolicyRules, data: PolicyData): PolicyRules {
  return {
    ...rules,
    protect: rules.protect.map((g) => {
      if (g.label === 'allow-list') return { ...g, ranges: data.allowList };
      const provider = g.label.startsWith('cdn:') ? g.label.slice(4) : null;
      if (provider && (CDN_PROVIDERS as readonly string[]).includes(provider)) {
        return { ...g, ranges: cdnList(provider as CdnProvider, data).ranges };
      }
      return g;
    }),
  };
}
