import type { Cidr } from '../net/address.js';
import { memberKey, type KernelMember, type Placed } from './members.js';

/**
 * How long after its end a member may still be in the kernel: timeouts are
 * whole seconds, and a reconcile leaves a timeout alone within max(5 s, 1 %)
 * of the wanted one (see timeoutDrifted), so the kernel's may be that much longer.
 */
function slackMs(ttlMs: number): number {
  return 2000 + Math.max(5000, ttlMs / 100);
}

/**
 * What this process last made the kernel hold, with each member's end time.
 * It lets a commit add a member the kernel surely lacks with a plain add
 * (fast), and keep the slower add→delete→add (which also resets a timeout) for
 * the rest. Until a reconcile or sync has filled it, nothing is sure.
 */
export class Mirror {
  private members = new Map<string, { set: string; net: Cidr; until: number | null; goneAfter: number | null }>();
  private known = false;

  constructor(private readonly clock: () => number) {}

  /** The kernel now holds exactly `placed`. */
  reset(placed: readonly Placed[]): void {
    const now = this.clock();
    this.members.clear();
    for (const p of placed) this.put(p, now);
    this.known = true;
  }

  /** A transaction with these changes went through. */
  applied(adds: readonly Placed[], removes: readonly { set: string; net: Cidr }[]): void {
    const now = this.clock();
    for (const r of removes) this.members.delete(memberKey(r.set, r.net));
    for (const p of adds) this.put(p, now);
  }

  /** A transaction failed or the kernel was changed behind our back: trust nothing until the next reconcile. */
  forget(): void {
    this.members.clear();
    this.known = false;
  }

  /** True only when the kernel surely lacks this member. */
  surelyAbsent(set: string, net: Cidr): boolean {
    if (!this.known) return false;
    const m = this.members.get(memberKey(set, net));
    return m === undefined || (m.goneAfter !== null && m.goneAfter < this.clock());
  }

  /** The members as the kernel would list them now; null before anything was applied. */
  view(): KernelMember[] | null {
    if (!this.known) return null;
    const now = this.clock();
    const out: KernelMember[] = [];
    for (const m of this.members.values()) {
      if (m.until !== null && m.until <= now) continue;
      out.push({ set: m.set, family: m.net.family, text: m.net.text, remainingMs: m.until === null ? null : m.until - now });
    }
    return out;
  }

  private put(p: Placed, now: number): void {
    const ttl = p.entry.ttlMs;
    this.members.set(memberKey(p.set, p.entry.net), {
      set: p.set,
      net: p.entry.net,
      until: ttl === null ? null : now + ttl,
      goneAfter: ttl === null ? null : now + ttl + slackMs(ttl),
    });
  }
}
