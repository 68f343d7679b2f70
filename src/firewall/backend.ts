import type { Cidr } from '../net/address.js';

/** One member of our drop sets: an address or network and how long it stays (null: until removed). */
export interface FirewallEntry {
  readonly net: Cidr;
  readonly ttlMs: number | null;
}

/** What a reconcile found wrong in the kernel and put right. */
export interface ReconcileReport {
  /** Members the database holds that the kernel lacked, added with their remaining time. */
  readonly added: number;
  /** Members of our sets that the database does not know, removed. */
  readonly removed: number;
  /** Members whose kernel timeout was off from the ban's remaining time (or permanence), set again. */
  readonly refreshed: number;
  /** Our table, set, chain or rule was missing or altered, and was created again. */
  readonly recreated: boolean;
  /** What was wrong with our objects, in words (e.g. "table inet blocker is missing"). */
  readonly repairs: readonly string[];
}

/**
 * The members the kernel should hold. A function is called after the kernel
 * was read, so that a ban recorded by another process in between is seen
 * (reading the database first would take its fresh kernel member for a stranger).
 */
export type Wanted = readonly FirewallEntry[] | (() => readonly FirewallEntry[]);

export function wantedNow(w: Wanted): readonly FirewallEntry[] {
  return typeof w === 'function' ? w() : w;
}

/** What `flush` removed (or, for dry-run, would remove). */
export interface FlushReport {
  readonly removed: readonly string[];
}

/**
 * What every firewall backend offers, after CrowdSec's bouncer: changes are
 * buffered by add/remove and applied together by commit, as one kernel
 * transaction; sync and reconcile make the kernel hold exactly `active`.
 */
export interface FirewallBackend {
  readonly name: string;
  /**
   * Fails with a {@link FirewallUnavailable} error when the backend cannot work
   * here at all (command missing, no CAP_NET_ADMIN); touches nothing.
   */
  check(): Promise<void>;
  add(entry: FirewallEntry): void;
  remove(net: Cidr): void;
  /** Applies the buffered changes as one transaction; a no-op when nothing is buffered. */
  commit(): Promise<void>;
  /** Creates our objects if missing and replaces the members of our sets with `active`, without reading the kernel. */
  sync(active: readonly FirewallEntry[]): Promise<void>;
  /**
   * Reads our objects back from the kernel, compares them with `active` (the
   * database's bans in force, best given as a function: see {@link Wanted}), fixes what differs (missing or foreign members,
   * timeouts, a deleted table, chain or rule) and says what it fixed. Buffered
   * changes are dropped: `active` supersedes them.
   */
  reconcile(active: Wanted): Promise<ReconcileReport>;
  /** Removes every object of ours from the kernel (and nothing else). */
  flush(): Promise<FlushReport>;
  /** Leaves the kernel as it is (bans stay in force with their timeouts) and releases resources. */
  shutdown(): Promise<void>;
}

/** True when a reconcile changed anything. */
export function reconcileChanged(r: ReconcileReport): boolean {
  return r.added > 0 || r.removed > 0 || r.refreshed > 0 || r.recreated;
}
