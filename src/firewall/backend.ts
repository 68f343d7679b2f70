import type { Cidr } from '../net/address.js';

/** One member of our drop sets: an address or network and how long it stays (null: until removed). */
export interface FirewallEntry {
  readonly net: Cidr;
  readonly ttlMs: number | null;
}

/**
 * What every firewall backend offers, after CrowdSec's bouncer: changes are
 * buffered by add/remove and applied together by commit, as one kernel
 * transaction; sync makes the kernel hold exactly `active`.
 */
export interface FirewallBackend {
  readonly name: string;
  add(entry: FirewallEntry): void;
  remove(net: Cidr): void;
  /** Applies the buffered changes as one transaction; a no-op when nothing is buffered. */
  commit(): Promise<void>;
  /** Creates our table if missing and replaces the members of our sets with `active`, atomically. */
  sync(active: readonly FirewallEntry[]): Promise<void>;
  /** Leaves the kernel as it is (bans stay in force with their timeouts) and releases resources. */
  shutdown(): Promise<void>;
}
