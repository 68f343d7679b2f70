import type { Cidr, Ip } from './address.js';

/**
 * Word `i` (0–3) of an IPv6 address kept to its first `len` bits; IPv4 lives
 * in word 3 alone, so for IPv4 pass `len + 96`. Pure bit work: the policy
 * keys every IPv6 failure by its prefix this way, without making its text.
 */
export function maskWord(w: number, i: number, len: number): number {
  const keep = len - 32 * i;
  if (keep >= 32) return w | 0;
  if (keep <= 0) return 0;
  return w & (-1 << (32 - keep));
}

/** True when the address or network with these words and length lies inside `net`. */
export function wordsWithin(family: 4 | 6, len: number, w0: number, w1: number, w2: number, w3: number, net: Cidr): boolean {
  if (family !== net.family || len < net.prefix) return false;
  const n = net.network;
  if (family === 4) return maskWord(w3, 3, net.prefix + 96) === n.w3;
  return (
    maskWord(w0, 0, net.prefix) === n.w0 &&
    maskWord(w1, 1, net.prefix) === n.w1 &&
    maskWord(w2, 2, net.prefix) === n.w2 &&
    maskWord(w3, 3, net.prefix) === n.w3
  );
}

/** True when `ip` lies inside `net`, without parsing either again. */
export function ipWithin(ip: Ip, net: Cidr): boolean {
  return wordsWithin(ip.family, ip.family === 4 ? 32 : 128, ip.w0, ip.w1, ip.w2, ip.w3, net);
}
