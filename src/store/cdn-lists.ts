import { parseCidr, type Cidr } from '../net/address.js';
import type { Db } from './db.js';
import { revisionsRepo } from './revisions.js';

export interface StoredCdnList {
  provider: string;
  /** The provider's own date for the list (YYYY-MM-DD) where it gives one, else the fetch date. */
  asOf: string;
  fetchedAt: number;
  /** Where it was fetched from (URLs). */
  source: string;
  ranges: Cidr[];
}

/** The last good list per provider from `blocker cdn update`; a failed update never reaches here. */
export function cdnListsRepo(db: Db) {
  const revisions = revisionsRepo(db);
  const save = db.prepare(
    `INSERT INTO cdn_lists (provider, as_of, fetched_at, source, ranges) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (provider) DO UPDATE SET as_of = excluded.as_of, fetched_at = excluded.fetched_at,
       source = excluded.source, ranges = excluded.ranges`,
  );
  const get = db.prepare('SELECT provider, as_of, fetched_at, source, ranges FROM cdn_lists WHERE provider = ?');
  const all = db.prepare('SELECT provider, as_of, fetched_at, source, ranges FROM cdn_lists ORDER BY provider');
  type Row = { provider: string; as_of: string; fetched_at: number; source: string; ranges: string };
  const toList = (r: Row): StoredCdnList => ({
    provider: r.provider,
    asOf: r.as_of,
    fetchedAt: r.fetched_at,
    source: r.source,
    // Validated before saving; parsing again keeps a hand-edited row from ever reaching policy unchecked.
    ranges: (JSON.parse(r.ranges) as string[]).map(parseCidr).filter((c): c is Cidr => c !== null),
  });
  return {
    save(list: StoredCdnList): void {
      save.run(list.provider, list.asOf, list.fetchedAt, list.source, JSON.stringify(list.ranges.map((c) => c.text)));
      revisions.bump('cdn');
    },
    get(provider: string): StoredCdnList | null {
      const r = get.get(provider) as Row | undefined;
      return r ? toList(r) : null;
    },
    all(): StoredCdnList[] {
      return (all.all() as Row[]).map(toList);
    },
  };
}

export type CdnListsRepo = ReturnType<typeof cdnListsRepo>;
