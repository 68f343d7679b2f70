import type { Cidr } from '../net/address.js';
import type { KernelMember, Placed } from './members.js';

/**
 * How long after its end a member may still be in the kernel: timeouts are
 * whole seconds, and a reconcile leaves a timeout alone within max(5 s, 1 %)
 * of the wanted one (see timeoutDrifted), so the kernel's may be that much longer.
 */
function slackMs(ttlMs: number): number {
  return 2000 + Math.max(5000, ttlMs / 100);
}

interface MirrorMember {
  readonly set: string;
  net: Cidr;
  /** When the kernel drops it (null: never). */
  until: number | null;
  /** Past this, the kernel surely no longer holds it (see slackMs). */
  goneAfter: number | null;
  generation: number;
}

/**
 * What this process last made the kernel hold, with each member's end time.
 * It lets a commit add a member the kernel surely lacks with a plain add
 * (fast), and keep the slower add→delete→add (which also resets a timeout) for
 * the rest. Until a reconcile or sync has filled it, nothing is sure.
 */
export class Mirror {
  /**
   * By the member's text alone: which set a member goes in follows from
   * what it is, and a key of set and text would be one more string per
   * member, made again at every lookup.
   */
  private members = new Map<string, MirrorMember>();
  private known = false;
  /** Bumped by each reset; a member not touched by the latest one is gone. */
  private generation = 0;

  constructor(private readonly clock: () => number) {}

  /** The kernel now holds exactly `placed`. */
  reset(placed: readonly Placed[]): void {
    const now = this.clock();
    const generation = ++this.generation;
    // In place: a reconcile every minute that changed nothing then leaves no
    // garbage here (a new map of 100k members would, every time).
    for (const p of placed) this.put(p, now);
    for (const [key, m] of this.members) if (m.generation !== generation) this.members.delete(key);
    this.known = true;
  }

  /** A transaction with these changes went through. */
  applied(adds: readonly Placed[], removes: readonly { set: string; net: Cidr }[]): void {
    const now = this.clock();
    for (const r of removes) if (this.members.get(r.net.text)?.set === r.set) this.members.delete(r.net.text);
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
    const m = this.members.get(net.text);
    return m === undefined || m.set !== set || (m.goneAfter !== null && m.goneAfter < this.clock());
  }

  /** The members as the kernel would list them now; null before anything was applied. */
  view(): KernelMember[] | null {
    const listing = this.listing();
    return listing && [...listing];
  }

  /**
   * Like view(), made one member at a time as it is iterated (each time
   * anew): a dry run's reconcile every minute then holds no second copy of
   * every member while it compares.
   */
  listing(): Iterable<KernelMember> | null {
    if (!this.known) return null;
    const members = this.members;
    const clock = this.clock;
    return {
      *[Symbol.iterator]() {
        const now = clock();
        for (const m of members.values()) {
          if (m.until !== null && m.until <= now) continue;
          yield { set: m.set, family: m.net.family, text: m.net.text, remainingMs: m.until === null ? null : m.until - now };
        }
      },
    };
  }

  private put(p: Placed, now: number): void {
    const ttl = p.entry.ttlMs;
    const until = ttl === null ? null : now + ttl;
    const goneAfter = ttl === null ? null : now + ttl + slackMs(ttl);
    const key = p.entry.net.text;
    const m = this.members.get(key);
    if (m && m.set === p.set) {
      m.net = p.entry.net;
      m.until = until;
      m.goneAfter = goneAfter;
      m.generation = this.generation;
    } else this.members.set(key, { set: p.set, net: p.entry.net, until, goneAfter, generation: this.generation });
  }
}
