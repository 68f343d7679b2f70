import ipaddr from 'ipaddr.js';
import type { Cidr, Ip } from './address.js';

/**
 * A set of networks that answers "does it hold this address?" in a few
 * comparisons: each family's networks become sorted, merged numeric intervals,
 * searched by bisection. The policy asks this for every failure (trusted
 * proxies, private ranges), where parsing each range again would be too slow.
 */
export interface NetSet {
  has(ip: Ip | Cidr): boolean;
  readonly size: number;
}

type Interval = [bigint, bigint];

function v4Number(text: string): bigint {
  let n = 0;
  for (const part of text.split('.')) n = n * 256 + Number(part);
  return BigInt(n);
}

function v6Number(text: string): bigint {
  let n = 0n;
  for (const part of ipaddr.IPv6.parse(text).parts) n = (n << 16n) | BigInt(part);
  return n;
}

/** The first and last address of `net` as numbers. */
export function bounds(net: Cidr): Interval {
  const bits = net.family === 4 ? 32 : 128;
  const start = net.family === 4 ? v4Number(net.network.text) : v6Number(net.network.text);
  const size = 1n << BigInt(bits - net.prefix);
  return [start, start + size - 1n];
}

function merge(list: Interval[]): Interval[] {
  list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of list) {
    const last = out[out.length - 1];
    if (last && iv[0] <= last[1] + 1n) {
      if (iv[1] > last[1]) last[1] = iv[1];
    } else out.push([iv[0], iv[1]]);
  }
  return out;
}

function within(list: readonly Interval[], lo: bigint, hi: bigint): boolean {
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
  const v4 = merge(nets.filter((n) => n.family === 4).map(bounds));
  const v6 = merge(nets.filter((n) => n.family === 6).map(bounds));
  return {
    size: nets.length,
    has(x) {
      const list = x.family === 4 ? v4 : v6;
      if (list.length === 0) return false;
      if ('prefix' in x) {
        const [lo, hi] = bounds(x);
        return within(list, lo, hi);
      }
      const n = x.family === 4 ? v4Number(x.text) : v6Number(x.text);
      return within(list, n, n);
    },
  };
}
