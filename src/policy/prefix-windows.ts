import { parseCidr, type Cidr, type Ip } from '../net/address.js';
import { maskWord, wordsWithin } from '../net/words.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';
import { countInWindow, insertSorted, keepRecent } from './times.js';

/** A prefix's window once it holds more than one failure or address. */
interface Spread {
  times: number[];
  /** The failing addresses, four words each … */
  addrs: number[];
  /** … and each one's latest failure. */
  last: number[];
}

/**
 * IPv6 prefixes and their recent failures: the times (at most the prefix's
 * maxRetry) and which addresses failed, each with its latest failure. Keyed by
 * prefix length and masked words, so a flood from a /64 each (the usual IPv6
 * scan) costs no strings. A prefix seen once keeps its one time and address in
 * typed columns; one with more has NaN as its time and its window in `extra`.
 */
export class PrefixWindows implements RowColumns {
  private readonly rows: KeyedRows<Spread>;
  private t0: Float64Array;
  private a: Int32Array;
  private readonly scratch: Spread = { times: [], addrs: [], last: [] };
  /** Distinct addresses counted by the last `add`. */
  distinct = 0;

  constructor() {
    this.rows = new KeyedRows<Spread>(5, this, 256);
    this.t0 = new Float64Array(this.rows.capacity);
    this.a = new Int32Array(this.rows.capacity * 4);
  }

  get size(): number {
    return this.rows.size;
  }

  /**
   * Counts `weight` failures of `ip` at `time` for its prefix of `len` bits and
   * returns the failures within [from, time]; `distinct` is then the number
   * of its addresses that failed within the window. Forgets what left the
   * window, and all but the newest `cap` times.
   */
  add(ip: Ip, len: number, time: number, weight: number, from: number, cap: number): number {
    // NaN marks a row whose window is in `extra`: never a time of its own.
    if (time !== time) {
      this.distinct = 0;
      return 0;
    }
    let r = this.findPrefix(ip, len);
    if (r < 0) {
      r = this.rows.insert(len, maskWord(ip.w0, 0, len), maskWord(ip.w1, 1, len), maskWord(ip.w2, 2, len), maskWord(ip.w3, 3, len));
      if (weight === 1) {
        this.t0[r] = time;
        this.setAddress(r, ip);
        this.distinct = 1;
        return 1;
      }
      this.scratch.times.length = this.scratch.addrs.length = this.scratch.last.length = 0;
    } else if (weight === 1 && this.t0[r]! < from) {
      // Its one earlier failure has left the window, and with it that address.
      this.t0[r] = time;
      this.setAddress(r, ip);
      this.distinct = 1;
      return 1;
    } else this.load(r);
    const w = this.scratch;
    for (let i = 0; i < weight; i++) insertSorted(w.times, time);
    keepRecent(w.times, from, cap);
    see(w, ip, time, from);
    const total = countInWindow(w.times, from, time);
    let distinct = 0;
    for (const t of w.last) if (t <= time) distinct++;
    this.distinct = distinct;
    this.store(r);
    return total;
  }

  /** The row of `ip`'s prefix of `len` bits, or -1. */
  findPrefix(ip: Ip, len: number): number {
    return this.rows.find(len, maskWord(ip.w0, 0, len), maskWord(ip.w1, 1, len), maskWord(ip.w2, 2, len), maskWord(ip.w3, 3, len));
  }

  /** Forgets the prefix with this text ("2001:db8:1::/64"). */
  delete(key: string | Cidr): boolean {
    const net = typeof key === 'string' ? parseCidr(key) : key;
    if (!net || net.family !== 6) return false;
    const n = net.network;
    const r = this.rows.find(net.prefix, n.w0, n.w1, n.w2, n.w3);
    if (r < 0) return false;
    this.rows.remove(r);
    return true;
  }

  clear(): void {
    this.rows.clear();
  }

  /** Forgets `ip`'s prefix of `len` bits. */
  deletePrefix(ip: Ip, len: number): void {
    const r = this.findPrefix(ip, len);
    if (r >= 0) this.rows.remove(r);
  }

  /** Forgets every prefix whose newest failure is before `from`. */
  prune(from: number): void {
    this.rows.retain((r) => {
      const t0 = this.t0[r]!;
      if (t0 === t0) return t0 >= from;
      for (const t of this.rows.extra.get(r)!.last) if (t >= from) return true;
      return false;
    });
  }

  /** Forgets every prefix inside `net`. */
  deleteWithin(net: Cidr): void {
    if (net.family !== 6) return;
    this.rows.retain((r) => !wordsWithin(6, this.rows.key(r, 0), this.rows.key(r, 1), this.rows.key(r, 2), this.rows.key(r, 3), this.rows.key(r, 4), net));
  }

  /** Adds failures read back at a restart: counted like `add`, with nothing yet out of the window. */
  restore(ip: Ip, len: number, time: number, weight: number, cap: number): void {
    this.add(ip, len, time, weight, Number.NEGATIVE_INFINITY, cap);
  }

  resize(capacity: number): void {
    this.t0 = regrow(this.t0, capacity, this.rows.size);
    this.a = regrow(this.a, capacity, this.rows.size, 4);
  }

  move(from: number, to: number): void {
    this.t0[to] = this.t0[from]!;
    this.a.copyWithin(to * 4, from * 4, from * 4 + 4);
  }

  private setAddress(r: number, ip: Ip): void {
    const a = this.a;
    a[r * 4] = ip.w0;
    a[r * 4 + 1] = ip.w1;
    a[r * 4 + 2] = ip.w2;
    a[r * 4 + 3] = ip.w3;
  }

  /** Row r into the scratch window (which stays the scratch's: rows get copies). */
  private load(r: number): void {
    const w = this.scratch;
    const m = this.t0[r] === this.t0[r] ? undefined : this.rows.extra.get(r);
    if (m) {
      copy(m.times, w.times);
      copy(m.addrs, w.addrs);
      copy(m.last, w.last);
      return;
    }
    w.times.length = w.addrs.length = w.last.length = 0;
    w.times.push(this.t0[r]!);
    w.addrs.push(this.a[r * 4]!, this.a[r * 4 + 1]!, this.a[r * 4 + 2]!, this.a[r * 4 + 3]!);
    w.last.push(this.t0[r]!);
  }

  /** The scratch window back into row r: inline when it is one failure of one address. */
  private store(r: number): void {
    const w = this.scratch;
    if (w.times.length === 1 && w.last.length === 1 && w.last[0] === w.times[0]) {
      this.t0[r] = w.times[0]!;
      for (let i = 0; i < 4; i++) this.a[r * 4 + i] = w.addrs[i]!;
      this.rows.extra.delete(r);
      return;
    }
    this.t0[r] = Number.NaN;
    let m = this.rows.extra.get(r);
    if (!m) this.rows.extra.set(r, (m = { times: [], addrs: [], last: [] }));
    copy(w.times, m.times);
    copy(w.addrs, m.addrs);
    copy(w.last, m.last);
  }
}

function copy(from: readonly number[], to: number[]): void {
  to.length = from.length;
  for (let i = 0; i < from.length; i++) to[i] = from[i]!;
}

/** Notes that `ip` failed at `time`, dropping addresses whose last failure left the window. */
function see(w: Spread, ip: Ip, time: number, from: number): void {
  let i = -1;
  for (let j = 0; j < w.last.length; j++) {
    const k = j * 4;
    if (w.addrs[k] === ip.w0 && w.addrs[k + 1] === ip.w1 && w.addrs[k + 2] === ip.w2 && w.addrs[k + 3] === ip.w3) {
      i = j;
      break;
    }
  }
  if (i < 0) {
    w.addrs.push(ip.w0, ip.w1, ip.w2, ip.w3);
    w.last.push(time);
  } else if (w.last[i]! < time) w.last[i] = time;
  for (let j = w.last.length - 1; j >= 0; j--) {
    if (w.last[j]! < from) {
      w.last.splice(j, 1);
      w.addrs.splice(j * 4, 4);
    }
  }
}
