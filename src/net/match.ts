import type { Cidr, Ip } from './address.js';
import { v6Groups } from './v6.js';

/**
 * A set of networks that answers "does it hold this address?" in a few
 * comparisons: each family's networks become sorted, merged numeric intervals,
 * searched by bisection. The policy asks this for every failure (trusted
 * proxies, private ranges), where parsing each range again would be too slow.
 */
export interface NetSet {
  has(ip: Ip | Cidr): boolean;
  /** True when some address of `net` is in the set. */
  overlaps(net: Cidr): boolean;
  readonly size: number;
}

// IPv4 as plain numbers (exact up to 2^53), IPv6 as bigints: IPv4 is the common case.
type Interval<N> = [N, N];

function v4Number(text: string): number {
  let n = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return n * 256 + part;
}

// The never-ban groups are asked about the same address one after another: remember the last one.
let lastText = '';
let lastNumber = 0n;

function v6Number(text: string): bigint {
  if (text === lastText) return lastNumber;
  let n = 0n;
  for (const part of v6Groups(text)) n = (n << 16n) | BigInt(part);
  lastText = text;
  lastNumber = n;
  return n;
}

/** The first and last address of `net` as numbers. */
export function bounds(net: Cidr): Interval<bigint> {
  const bits = net.family === 4 ? 32 : 128;
  const start = net.family === 4 ? BigInt(v4Number(net.network.text)) : v6Number(net.network.text);
  const size = 1n << BigInt(bits - net.prefix);
  return [start, start + size - 1n];
}

function merge<N extends number | bigint>(list: Interval<N>[], one: N): Interval<N>[] {
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Interval<N>[] = [];
  for (const iv of list) {
    const last = out[out.length - 1];
    if (last && iv[0] <= (last[1] as number) + (one as number)) {
      if (iv[1] > last[1]) last[1] = iv[1];
    } else out.push([iv[0], iv[1]]);
  }
  return out;
}

/** Is any interval of the sorted, merged `list` touching [lo, hi]? */
function touches<N extends number | bigint>(list: readonly Interval<N>[], lo: N, hi: N): boolean {
  let a = 0;
  let b = list.length - 1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    const iv = list[mid]!;
    if (hi < iv[0]) b = mid - 1;
    else if (lo > iv[1]) a = mid + 1;
    else return true;
  }
  return false;
}

function within<N extends number | bigint>(list: readonly Interval<N>[], lo: N, hi: N): boolean {
  let a = 0;
  let b = list.length - 1;
  while (a <= b) {
    const mid = (a + b) >> 1;
    const iv = list[mid]!;
    if (lo < iv[0]) b = mid - 1;
    else if (lo > iv[1]) a = mid + 1;
    else return hi <= iv[1];
  }
  return false;
}

export function netSet(nets: readonly Cidr[]): NetSet {
  const v4 = merge(
    nets.filter((n) => n.family === 4).map((n): Interval<number> => bounds(n).map(Number) as Interval<number>),
    1,
  );
  const v6 = merge(nets.filter((n) => n.family === 6).map(bounds), 1n);
  return {
    size: nets.length,
    has(x) {
      // A property read, not `'prefix' in x`: the `in` test on an Ip (which lacks it) was the
      // costliest step of asking whether a failing address is private, once per failure.
      const isNet = (x as Partial<Cidr>).prefix !== undefined;
      if (x.family === 4) {
        if (v4.length === 0) return false;
        if (isNet) {
          const [lo, hi] = bounds(x as Cidr);
          return within(v4, Number(lo), Number(hi));
        }
        const n = (x as Ip).w3 >>> 0;
        return within(v4, n, n);
      }
      if (v6.length === 0) return false;
      if (isNet) {
        const [lo, hi] = bounds(x as Cidr);
        return within(v6, lo, hi);
      }
      const n = v6Number(x.text);
      return within(v6, n, n);
    },
    overlaps(net) {
      const [lo, hi] = bounds(net);
      return net.family === 4 ? touches(v4, Number(lo), Number(hi)) : touches(v6, lo, hi);
    },
  };
}
