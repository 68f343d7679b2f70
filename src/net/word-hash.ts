/** A random 32-bit seed: each table's layout is then unknown to whoever picks its keys. */
export function hashSeed(): number {
  return (Math.random() * 0x100000000) | 0;
}

/**
 * Mixes up to five 32-bit words under a seed. Tables keyed by client addresses
 * use it: the low 64 bits of an IPv6 address are the client's to choose, so with
 * a fixed hash (or one that only XORs a seed in) a client could make all of its
 * addresses land in one probe run, and every lookup would walk it.
 */
export function mixWords(seed: number, a: number, b = 0, c = 0, d = 0, e = 0): number {
  let h = seed;
  h = Math.imul(h ^ a, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ e, 0x165667b1);
  return h ^ (h >>> 16);
}
