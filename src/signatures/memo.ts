import { ipv4FromNumber, parseIp, type Ip } from '../net/address.js';

/**
 * Remembers the last few results of a pure function of a string (reason
 * texts: a log repeats a handful of them endlessly). A short list compared
 * with === is much cheaper here than a Map: the keys are fresh slices of a
 * line, and hashing a fresh string costs more than comparing a few.
 */
export function memo<T>(fn: (key: string) => T, size = 32): (key: string) => T {
  const keys: string[] = [];
  const values: T[] = [];
  let next = 0;
  return (key) => {
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return values[i]!;
    const v = fn(key);
    // Replaced in turn once full, so memory stays bounded whatever the input.
    keys[next] = key;
    values[next] = v;
    next = (next + 1) % size;
    return v;
  };
}

// 65k addresses: a busy log's working set; more would only hold memory (they are cheap to parse again).
const MAX_INTERNED = 1 << 16;

/**
 * parseIp, with one Ip object per distinct address text: the stages after the
 * signature key maps by `ip.text`, and the same string object every time lets
 * them reuse its hash. Keys are flat copies, never slices of a line, which
 * would keep the whole read buffer they came from alive.
 */
export function memoParseIp(): (text: string) => Ip | null {
  const seen = new Map<string, Ip | null>();
  return (text) => {
    let ip = seen.get(text);
    if (ip === undefined) {
      if (seen.size >= MAX_INTERNED) seen.clear();
      const key = flatCopy(text);
      ip = parseIp(key);
      seen.set(key, ip);
    }
    return ip;
  };
}

/**
 * Like memoParseIp, for the address at `text[from…to)`, without cutting it out
 * first: the hash and the comparison read the characters in place, so a known
 * address (nearly every one, in a busy log) costs no string at all.
 */
export function addressInterner(): (text: string, from: number, to: number) => Ip | null {
  let bits = 12;
  let keys: string[] = [];
  let hashes = new Int32Array(1 << bits);
  let values: (Ip | null)[] = [];
  let used = new Uint8Array(1 << bits);
  let size = 0;

  const place = (h: number, key: string, value: Ip | null): void => {
    const mask = (1 << bits) - 1;
    let i = h & mask;
    while (used[i]) i = (i + 1) & mask;
    used[i] = 1;
    keys[i] = key;
    hashes[i] = h;
    values[i] = value;
    size++;
  };
  const reset = (newBits: number): void => {
    bits = newBits;
    keys = new Array<string>(1 << bits);
    hashes = new Int32Array(1 << bits);
    values = new Array<Ip | null>(1 << bits);
    used = new Uint8Array(1 << bits);
    size = 0;
  };
  reset(bits);

  const v4 = v4Interner();
  return (text, from, to) => {
    const n = dottedQuad(text, from, to);
    if (n >= 0) return v4(n);
    const len = to - from;
    let h = 0x811c9dc5 ^ len;
    for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const mask = (1 << bits) - 1;
    for (let i = h & mask; used[i]; i = (i + 1) & mask) {
      if (hashes[i] !== h) continue;
      const k = keys[i]!;
      if (k.length !== len) continue;
      let j = 0;
      while (j < len && k.charCodeAt(j) === text.charCodeAt(from + j)) j++;
      if (j === len) return values[i]!;
    }
    // A flat copy, not a slice: a slice would keep the whole read buffer it came from alive.
    const key = flatCopy(text.slice(from, to));
    const ip = parseIp(key);
    if (size * 2 >= 1 << bits) {
      if (size >= MAX_INTERNED) reset(bits);
      else {
        const [ok, oh, ov, ou] = [keys, hashes, values, used];
        reset(bits + 1);
        for (let i = 0; i < ou.length; i++) if (ou[i]) place(oh[i]!, ok[i]!, ov[i]!);
      }
    }
    place(h, key, ip);
    return ip;
  };
}

/**
 * IPv4 addresses keyed by their number in a table of their own: no string is
 * hashed or compared, and a busy log's addresses are mostly IPv4.
 */
function v4Interner(): (n: number) => Ip {
  let bits = 12;
  let keys = new Int32Array(1 << bits);
  let used = new Uint8Array(1 << bits);
  let values: Ip[] = new Array<Ip>(1 << bits);
  let size = 0;
  const slot = (k: number): number => {
    const mask = (1 << bits) - 1;
    let i = Math.imul(k, 0x9e3779b1) >>> (32 - bits);
    while (used[i] && keys[i] !== k) i = (i + 1) & mask;
    return i;
  };
  const grow = (): void => {
    const [ok, ou, ov] = [keys, used, values];
    bits = size >= MAX_INTERNED ? bits : bits + 1;
    keys = new Int32Array(1 << bits);
    used = new Uint8Array(1 << bits);
    values = new Array<Ip>(1 << bits);
    const keep = size < MAX_INTERNED;
    size = 0;
    if (!keep) return; // bounded whatever the input: start again
    for (let i = 0; i < ou.length; i++) {
      if (!ou[i]) continue;
      const j = slot(ok[i]!);
      used[j] = 1;
      keys[j] = ok[i]!;
      values[j] = ov[i]!;
      size++;
    }
  };
  return (n) => {
    const k = n | 0;
    let i = slot(k);
    if (used[i]) return values[i]!;
    if (size * 2 >= 1 << bits) {
      grow();
      i = slot(k);
    }
    // Built from the number: a fresh string, and the canonical form parseIp also gives.
    const ip = ipv4FromNumber(n);
    used[i] = 1;
    keys[i] = k;
    values[i] = ip;
    size++;
    return ip;
  };
}

/**
 * The number of the strict dotted quad at `s[from…to)` (no leading zeros, each
 * part at most 255: exactly what parseIp accepts as IPv4), or -1.
 */
function dottedQuad(s: string, from: number, to: number): number {
  const len = to - from;
  if (len < 7 || len > 15) return -1;
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else return -1;
  }
  return parts === 4 ? n : -1;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * A copy of `s` that shares no memory with the string it was cut from. ASCII
 * (every address) is copied as one byte per character, which keeps later
 * lookups by it fast; anything else as UTF-16, never lossily.
 */
function flatCopy(s: string): string {
  return ASCII.test(s) ? Buffer.from(s, 'latin1').toString('latin1') : Buffer.from(s, 'utf16le').toString('utf16le');
}
