import type { Cidr } from '../net/address.js';
import type { FirewallEntry } from './backend.js';

/**
 * The changes a backend has been asked for since its last commit. A later
 * add or remove of the same member overrides an earlier one, so a batch never
 * both adds and removes one member.
 */
export class PendingChanges {
  private adds = new Map<string, FirewallEntry>();
  private removes = new Map<string, Cidr>();

  add(entry: FirewallEntry): void {
    this.removes.delete(entry.net.text);
    this.adds.set(entry.net.text, entry);
  }

  remove(net: Cidr): void {
    this.adds.delete(net.text);
    this.removes.set(net.text, net);
  }

  /**
   * Hands over what is buffered and clears it, null when nothing is. Cleared
   * before the apply: a failed batch is not retried forever; the database stays
   * the truth and the next reconcile re-applies what is active.
   */
  take(): { adds: FirewallEntry[]; removes: Cidr[] } | null {
    if (this.adds.size === 0 && this.removes.size === 0) return null;
    const batch = { adds: [...this.adds.values()], removes: [...this.removes.values()] };
    this.clear();
    return batch;
  }

  /** Drops what is buffered (a sync or reconcile supersedes it). */
  clear(): void {
    this.adds = new Map();
    this.removes = new Map();
  }
}
