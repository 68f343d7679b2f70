import { ipFromWords, type Ip } from '../net/address.js';

const MAX_ENTRIES = 1 << 18;

/**
 * One Ip per distinct address for results that arrive as words (from the
 * workers): the stages after the signatures key tables by an Ip, and a known
 * address then costs neither a string nor an object. Bounded like the
 * signatures' own interners: past MAX_ENTRIES it starts again.
 */
export function ipByWords(): (family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip {
  let bits = 12;
  let keys = new Int32Array(5 << bits);
  let values = new Array<Ip | undefined>(1 << bits);
  let size = 0;

  const slot = (f: number, w0: number, w1: number, w2: number, w3: number): number => {
    const mask = (1 << bits) - 1;
    let h = Math.imul(w3 ^ Math.imul(w2 ^ Math.imul(w1 ^ Math.imul(w0 ^ f, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f), 0x9e3779b1);
    h ^= h >>> 15;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      if (values[i] === undefined) return i;
      const k = i * 5;
      if (keys[k] === f && keys[k + 1] === w0 && keys[k + 2] === w1 && keys[k + 3] === w2 && keys[k + 4] === w3) return i;
    }
  };
  const put = (i: number, ip: Ip): void => {
    const k = i * 5;
    keys[k] = ip.family;
    keys[k + 1] = ip.w0;
    keys[k + 2] = ip.w1;
    keys[k + 3] = ip.w2;
    keys[k + 4] = ip.w3;
    values[i] = ip;
    size++;
  };
  const rebuild = (newBits: number, keep: boolean): void => {
    const old = values;
    bits = newBits;
    keys = new Int32Array(5 << bits);
    values = new Array<Ip | undefined>(1 << bits);
    size = 0;
    if (keep) for (const ip of old) if (ip) put(slot(ip.family, ip.w0, ip.w1, ip.w2, ip.w3), ip);
  };

  return (family, w0, w1, w2, w3) => {
    let i = slot(family, w0, w1, w2, w3);
    const known = values[i];
    if (known) return known;
    if (size * 2 >= 1 << bits) {
      if (size >= MAX_ENTRIES) rebuild(bits, false);
      else rebuild(bits + 1, true);
      i = slot(family, w0, w1, w2, w3);
    }
    const ip = ipFromWords(family, w0, w1, w2, w3);
    put(i, ip);
    return ip;
  };
}
