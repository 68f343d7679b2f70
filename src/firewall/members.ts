import { parseCidr, type Cidr } from '../net/address.js';
import type { FirewallEntry } from './backend.js';

/**
 * Comparing what a set holds with what it should hold, shared by every
 * backend. Pure: the kernel's answer and the wanted entries come in, the
 * changes to make go out.
 */

/**
 * One element as read back from the kernel, as the kernel wrote it. It is
 * parsed only when it matches no wanted member (parsing 100k of them would
 * cost a fifth of a second per reconcile for nothing).
 */
export interface KernelMember {
  /** Our name for the set it is in. */
  readonly set: string;
  /** The set's address family: an element of another family is not a member. */
  readonly family: 4 | 6;
  readonly text: string;
  /** Time left before the kernel drops it; null: it never times out. */
  readonly remainingMs: number | null;
}

/** A wanted entry and the set it belongs in. */
export interface Placed {
  readonly set: string;
  readonly entry: FirewallEntry;
}

export interface MemberDiff {
  /** Wanted, not in the kernel. */
  readonly add: Placed[];
  /** In the kernel with a timeout that is off from the wanted one. */
  readonly refresh: Placed[];
  /** In our sets, not wanted. */
  readonly remove: { readonly set: string; readonly net: Cidr }[];
  /** Sets holding elements that are not one address or network of the set's family, with how many. */
  readonly unreadable: Map<string, number>;
}

/**
 * True when a kernel timeout is far enough from the wanted one to be set
 * again. Timeouts are whole seconds and read back rounded down, so a few
 * seconds of difference is noise; beyond max(5 s, 1 %) the ban would end
 * noticeably early or late. `maxTtlMs` is the longest timeout the kernel
 * takes (ipset's is about 24.8 days): a longer ban is stored capped and set
 * again before the cap runs out.
 */
export function timeoutDrifted(kernelMs: number | null, wantedMs: number | null, maxTtlMs = Number.POSITIVE_INFINITY): boolean {
  if (wantedMs === null || kernelMs === null) return wantedMs !== kernelMs;
  const want = Math.min(wantedMs, maxTtlMs);
  return Math.abs(kernelMs - want) > Math.max(5000, want / 100);
}

/** The changes that make the kernel's members equal the wanted ones. */
export function diffMembers(
  kernel: Iterable<KernelMember>,
  wanted: readonly Placed[],
  opts: { maxTtlMs?: number } = {},
): MemberDiff {
  // Keyed by the member's text alone (no second string per member); the set is checked on a match.
  const want = new Map<string, Placed>();
  for (const p of wanted) want.set(p.entry.net.text, p);
  const refresh: Placed[] = [];
  const remove: { set: string; net: Cidr }[] = [];
  const unreadable = new Map<string, number>();
  /** True when `k`, written as `text`, is a wanted member (which is then no longer to add). */
  const seen = (text: string, k: KernelMember): boolean => {
    const p = want.get(text);
    if (p === undefined || p.set !== k.set) return false;
    want.delete(text);
    if (timeoutDrifted(k.remainingMs, p.entry.ttlMs, opts.maxTtlMs)) refresh.push(p);
    return true;
  };
  const strangers: KernelMember[] = [];
  for (const k of kernel) if (!seen(k.text, k)) strangers.push(k);
  // Only what matched nothing as written is parsed: a member the kernel writes in another form, or a stranger.
  for (const k of strangers) {
    const net = parseCidr(k.text);
    if (!net || net.family !== k.family) {
      unreadable.set(k.set, (unreadable.get(k.set) ?? 0) + 1);
      continue;
    }
    if (!seen(net.text, k)) remove.push({ set: k.set, net });
  }
  return { add: [...want.values()], refresh, remove, unreadable };
}

// What a single normalised address looks like: dotted quad without leading zeros, or lower-case hex and colons.
const V4_TEXT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const V6_TEXT = /^[0-9a-f:]{2,39}$/;

/**
 * The text a script may carry for `net`, after making sure it is one address
 * or network and nothing more: a forged Cidr cannot smuggle a command in.
 * Single addresses pass a strict pattern (there are 100k of them in a big
 * batch); networks and anything unusual are parsed again and must come out the same.
 */
export function elementText(net: Cidr): string {
  const t = net.text;
  if (net.family === 4 ? net.prefix === 32 && V4_TEXT.test(t) : net.prefix === 128 && V6_TEXT.test(t) && t.includes(':')) return t;
  const again = parseCidr(t);
  if (!again || again.text !== t || again.family !== net.family || again.prefix !== net.prefix) {
    throw new Error(`refusing to put ${JSON.stringify(t)} in a firewall script: not a normalised address or network`);
  }
  return t;
}
