import { ipFromWords, parseIp, type Ip } from '../net/address.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';
import { quadChar, quadEnd, quadNumber, quadStart } from '../net/dotted-quad.js';
import { isV4Mapped, plainV6Words } from '../net/v6.js';
import { hashSeed, mixWords } from '../net/word-hash.js';

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

/**
 * Like memo, for the text at `text[from…to)`, compared in place: a hit (nearly
 * every line: a server writes a handful of messages) cuts out no string. Only a
 * miss cuts the key out, as a flat copy that keeps no read buffer alive.
 */
export function memoAt<T>(fn: (key: string) => T, size = 32): (text: string, from: number, to: number) => T {
  const keys: string[] = [];
  const values: T[] = [];
  let next = 0;
  return (text, from, to) => {
    const len = to - from;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      // indexOf, not startsWith: V8 compares long strings far faster in indexOf.
      if (k.length === len && text.indexOf(k, from) === from) return values[i]!;
    }
    const key = flatCopy(text.slice(from, to));
    const v = fn(key);
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
 * first: a known address (nearly every one, in a busy log) costs no string at
 * all. IPv4 and plain IPv6 are read into their numbers in place and looked up
 * by those; only unusual forms (embedded IPv4, zone ids, anything invalid) are
 * hashed and compared as text.
 */
export function addressInterner(): (text: string, from: number, to: number) => Ip | null {
  const byWords = wordsInterner();
  const other = textInterner();
  return (text, from, to) => {
    const n = dottedQuad(text, from, to);
    if (quadOk) return byWords(4, 0, 0, 0, n);
    if (!plainV6Words(text, from, to, WORDS)) return other(text, from, to);
    const w0 = WORDS[0]!;
    const w1 = WORDS[1]!;
    const w2 = WORDS[2]!;
    const w3 = WORDS[3]!;
    // ::ffff:a.b.c.d in hex: parseIp folds it to the IPv4 address.
    if (isV4Mapped(w0, w1, w2)) return byWords(4, 0, 0, 0, w3);
    return byWords(6, w0, w1, w2, w3);
  };
}

/** The words plainV6Words read last (one buffer: it runs once per IPv6 failure). */
const WORDS = new Int32Array(4);

/** Addresses by their text, for the forms plainV6Words leaves to parseIp. */
function textInterner(): (text: string, from: number, to: number) => Ip | null {
  let bits = 8;
  let keys: string[] = [];
  let hashes = new Int32Array(1 << bits);
  let values: (Ip | null)[] = [];
  let used = new Uint8Array(1 << bits);
  let size = 0;
  const seed = hashSeed();

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

  return (text, from, to) => {
    const len = to - from;
    let h = seed ^ len;
    for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    h = mixWords(seed, h, len);
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
 * One Ip per distinct address, found by its words: no string is hashed or
 * compared. IPv4 (most of a busy log) has a table of its own keyed by one word.
 * Bounded: past MAX_INTERNED a table starts again.
 */
export function wordsInterner(): (family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip {
  const v4 = new WordTable(4);
  const v6 = new WordTable(6);
  return (family, w0, w1, w2, w3) => (family === 4 ? v4.get(0, 0, 0, w3 | 0) : v6.get(w0, w1, w2, w3));
}

/** The Ip objects of one family, keyed by their words (KeyedRows: seeded, so chosen addresses do not collide). */
class WordTable implements RowColumns {
  private readonly rows: KeyedRows;
  private values: Ip[] = [];

  constructor(private readonly family: 4 | 6) {
    this.rows = new KeyedRows(family === 4 ? 1 : 4, this, 256);
  }

  get(w0: number, w1: number, w2: number, w3: number): Ip {
    const v4 = this.family === 4;
    const r = v4 ? this.rows.find(w3) : this.rows.find(w0, w1, w2, w3);
    if (r >= 0) return this.values[r]!;
    if (this.rows.size >= MAX_INTERNED) {
      // Bounded whatever the input: start again.
      this.rows.clear();
      this.values = [];
    }
    // The canonical text parseIp also gives, made from the words.
    const ip = ipFromWords(this.family, w0, w1, w2, w3);
    this.values[v4 ? this.rows.insert(w3) : this.rows.insert(w0, w1, w2, w3)] = ip;
    return ip;
  }

  resize(): void {}

  move(from: number, to: number): void {
    this.values[to] = this.values[from]!;
  }
}

/** Whether the last dottedQuad call read a dotted quad (its number may be any 32-bit value, so no sentinel). */
let quadOk = false;

/**
 * The number of the strict dotted quad at `s[from…to)` as a signed 32-bit
 * integer (no leading zeros, each part at most 255: exactly what parseIp
 * accepts as IPv4), with quadOk telling whether it was one. In 32-bit integer
 * arithmetic throughout: a number past 2^31 would be a heap number, one
 * allocation per address.
 */
function dottedQuad(s: string, from: number, to: number): number {
  quadOk = false;
  if (!quadStart(to - from)) return 0;
  for (let i = from; i < to; i++) if (!quadChar(s.charCodeAt(i))) return 0;
  quadOk = quadEnd();
  return quadNumber();
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
