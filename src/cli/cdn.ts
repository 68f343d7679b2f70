import { UserError } from '../errors.js';
import { CDN_PROVIDERS, CDN_SOURCES, type CdnProvider } from '../policy/cdn-ranges.js';
import { updateCdnLists } from '../pipeline/cdn-update.js';
import { cdnList, policyData } from '../pipeline/rules.js';
import { configFrom, storeFor, type CommonOptions } from './context.js';
import { iso, table } from './human.js';
import type { Io } from './io.js';

function providersFrom(names: string[], selected: readonly CdnProvider[]): CdnProvider[] {
  if (names.length === 0) return [...selected];
  for (const n of names) {
    if (!(CDN_PROVIDERS as readonly string[]).includes(n)) {
      throw new UserError(`unknown CDN provider "${n}": expected ${CDN_PROVIDERS.join(', ')}`, 2);
    }
  }
  return names as CdnProvider[];
}

/**
 * `blocker cdn update [provider...]`: refreshes the selected providers' lists
 * (policy.cdn, or those named) from their published URLs. Exit code 1 when
 * any provider failed; its last good list stays in force.
 */
export async function cdnUpdateCommand(
  names: string[],
  opts: CommonOptions & { force?: boolean; json?: boolean },
  io: Io,
  now = Date.now(),
): Promise<number> {
  const cfg = configFrom(opts);
  const providers = providersFrom(names, cfg.policy.cdn);
  if (providers.length === 0) throw new UserError('policy.cdn selects no provider: name one (e.g. `blocker cdn update cloudflare`)', 2);
  const store = storeFor(cfg);
  try {
    const results = await updateCdnLists(store, cfg, providers, { now, force: opts.force ?? false });
    if (opts.json) io.out(JSON.stringify(results, null, 2) + '\n');
    else {
      for (const r of results) {
        if (r.ok) {
          io.out(`${r.provider}: ${r.ranges} ranges as of ${r.asOf} (was ${r.previous}: +${r.added} -${r.removed})\n`);
        } else {
          io.err(`${r.provider}: not updated, keeping the last good list (${r.kept} ranges): ${r.error}\n`);
        }
      }
    }
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    store.close();
  }
}

/** `blocker cdn list`: each provider's list in force, where it comes from and how old it is. */
export async function cdnListCommand(opts: CommonOptions & { json?: boolean }, io: Io): Promise<number> {
  const cfg = configFrom(opts);
  const store = storeFor(cfg);
  try {
    const data = policyData(store);
    const rows = CDN_PROVIDERS.map((p) => {
      const list = cdnList(p, data);
      const fetched = store.cdnLists.get(p);
      return {
        provider: p,
        selected: cfg.policy.cdn.includes(p),
        origin: list.origin,
        asOf: list.asOf,
        ranges: list.ranges.length,
        fetchedAt: iso(fetched?.fetchedAt ?? null),
        urls: cfg.policy.cdnUrls[p] ?? CDN_SOURCES[p].urls,
      };
    });
    if (opts.json) {
      io.out(JSON.stringify(rows, null, 2) + '\n');
      return 0;
    }
    io.out(
      table(
        ['PROVIDER', 'SELECTED', 'LIST', 'AS OF', 'RANGES', 'FETCHED'],
        rows.map((r) => [r.provider, r.selected ? 'yes' : 'no', r.origin, r.asOf, r.ranges, r.fetchedAt ?? '-']),
      ),
    );
    return 0;
  } finally {
    store.close();
  }
}
