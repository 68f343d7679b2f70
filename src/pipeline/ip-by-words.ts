import { ipFromWords, type Ip } from '../net/address.js';
import { hashSeed, mixWords } from '../net/word-hash.js';

// Per family, as many as the signatures' own interners hold (memo.ts): a busy log's working set.
const MAX_ENTRIES = 1 << 16;

/**
 * One Ip per distinct address for results that arrive as words (from the
 * workers): the stages after the signatures key tables by an Ip, and a known
 * address then costs neither a string nor an object. This runs on the thread
 * that also runs the policy, once per failure, so IPv4 (most addresses) has a
 * table of its own keyed by one word: small enough to stay in cache. Bounded
 * like the signatures' own interners: past MAX_ENTRIES a table starts again.
 */
export function ipByWords(): (family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip {
  const v4 = new WordTable(1);
  const v6 = new WordTable(4);
  return (family, w0, w1, w2, w3) => {
    if (family === 4) {
      const i = v4.find(0, 0, 0, w3);
      return v4.values[i] ?? v4.put(i, ipFromWords(4, 0, 0, 0, w3));
    }
    const i = v6.find(w0, w1, w2, w3);
    return v6.values[i] ?? v6.put(i, ipFromWords(6, w0, w1, w2, w3));
  };
}

/** Open addressing over the last `width` of an address's four words. */
class WordTable {
  private bits = 12;
  private keys: Int32Array;
  private used: Uint8Array;
  values: (Ip | undefined)[];
  private size = 0;
  // Seeded: the addresses come from the log, and their low bits from the clients (see mixWords).
  private readonly seed = hashSeed();

  constructor(private readonly width: 1 | 4) {
    this.keys = new Int32Array(width << this.bits);
    this.used = new Uint8Array(1 << this.bits);
    this.values = new Array<Ip | undefined>(1 << this.bits).fill(undefined);
  }

  /** The slot of the address, or the free slot where it goes. */
  find(w0: number, w1: number, w2: number, w3: number): number {
    const mask = (1 << this.bits) - 1;
    const h = this.width === 1 ? mixWords(this.seed, w3) : mixWords(this.seed, w0, w1, w2, w3);
    const { keys, used } = this;
    for (let i = h >>> (32 - this.bits); ; i = (i + 1) & mask) {
      if (!used[i]) return i;
      if (this.width === 1) {
        if (keys[i] === w3) return i;
      } else {
        const k = i << 2;
        if (keys[k + 3] === w3 && keys[k + 2] === w2 && keys[k + 1] === w1 && keys[k] === w0) return i;
      }
    }
  }

  /** Stores `ip` in the free slot `i` found for it (which a growth may move); returns it. */
  put(i: number, ip: Ip): Ip {
    if (this.size * 2 >= 1 << this.bits) {
      this.rebuild(this.size >= MAX_ENTRIES);
      i = this.find(ip.w0, ip.w1, ip.w2, ip.w3);
    }
    this.place(i, ip);
    return ip;
  }

  private place(i: number, ip: Ip): void {
    if (this.width === 1) this.keys[i] = ip.w3;
    else this.keys.set([ip.w0, ip.w1, ip.w2, ip.w3], i << 2);
    this.used[i] = 1;
    this.values[i] = ip;
    this.size++;
  }

  private rebuild(restart: boolean): void {
    const old = this.values;
    if (!restart) this.bits++;
    this.keys = new Int32Array(this.width << this.bits);
    this.used = new Uint8Array(1 << this.bits);
    this.values = new Array<Ip | undefined>(1 << this.bits).fill(undefined);
    this.size = 0;
    if (restart) return;
    for (const ip of old) if (ip) this.place(this.find(ip.w0, ip.w1, ip.w2, ip.w3), ip);
  }
}
