import { ipFromWords, parseIp, type Cidr, type Ip } from '../net/address.js';
import { wordsWithin } from '../net/words.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';
import { countInWindow, keepRecent, insertSorted } from './times.js';

/**
 * One family's addresses and their recent failure times. Most addresses of a
 * flood fail once: that time sits in a typed column; an address with more
 * has NaN there and every time (oldest first) in `extra`.
 */
class TimesRows implements RowColumns {
  readonly rows: KeyedRows<number[]>;
  t0: Float64Array;

  constructor(readonly family: 4 | 6) {
    this.rows = new KeyedRows<number[]>(family === 4 ? 1 : 4, this, 256);
    this.t0 = new Float64Array(this.rows.capacity);
  }

  get size(): number {
    return this.rows.size;
  }

  findIp(ip: Ip): number {
    return this.family === 4 ? this.rows.find(ip.w3) : this.rows.find(ip.w0, ip.w1, ip.w2, ip.w3);
  }

  add(ip: Ip): number {
    return this.family === 4 ? this.rows.insert(ip.w3) : this.rows.insert(ip.w0, ip.w1, ip.w2, ip.w3);
  }

  ip(r: number): Ip {
    const k = (i: number) => this.rows.key(r, i);
    return this.family === 4 ? ipFromWords(4, 0, 0, 0, k(0)) : ipFromWords(6, k(0), k(1), k(2), k(3));
  }

  within(r: number, net: Cidr): boolean {
    const k = (i: number) => this.rows.key(r, i);
    return this.family === 4 ? wordsWithin(4, 32, 0, 0, 0, k(0), net) : wordsWithin(6, 128, k(0), k(1), k(2), k(3), net);
  }

  /** True when row r holds its one time in t0 (else NaN there, and the times in extra). */
  single(r: number): boolean {
    const t = this.t0[r]!;
    return t === t;
  }

  times(r: number, out: number[]): number[] {
    out.length = 0;
    if (this.single(r)) out.push(this.t0[r]!);
    else for (const t of this.rows.extra.get(r)!) out.push(t);
    return out;
  }

  newest(r: number): number {
    if (this.single(r)) return this.t0[r]!;
    const m = this.rows.extra.get(r)!;
    return m[m.length - 1]!;
  }

  store(r: number, times: readonly number[]): void {
    if (times.length === 1) {
      this.t0[r] = times[0]!;
      this.rows.extra.delete(r);
      return;
    }
    this.t0[r] = Number.NaN;
    let m = this.rows.extra.get(r);
    if (!m) this.rows.extra.set(r, (m = []));
    m.length = times.length;
    for (let i = 0; i < times.length; i++) m[i] = times[i]!;
  }

  resize(capacity: number): void {
    this.t0 = regrow(this.t0, capacity, this.rows.size);
  }

  move(from: number, to: number): void {
    this.t0[to] = this.t0[from]!;
  }
}

/**
 * Recent failure times per address: at most `cap` each, oldest first, as
 * thresholds.ts counts them. Keyed by the address's words, so a million
 * addresses cost tens of megabytes, not hundreds. The text-keyed methods
 * (has, get, delete, keys) are for the rare callers that hold a text.
 */
export class FailureWindows {
  private readonly v4 = new TimesRows(4);
  private readonly v6 = new TimesRows(6);
  private readonly scratch: number[] = [];

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  /**
   * Adds `weight` failures of `ip` at `time`, forgets those before `from` and
   * all but the newest `cap`, and returns how many lie within [from, time].
   */
  add(ip: Ip, time: number, weight: number, from: number, cap: number): number {
    // NaN marks a row whose times are in `extra`: never a time of its own.
    if (time !== time) return 0;
    const t = ip.family === 4 ? this.v4 : this.v6;
    let r = t.findIp(ip);
    if (r < 0) {
      r = t.add(ip);
      if (weight === 1) {
        t.t0[r] = time;
        return time >= from ? 1 : 0;
      }
      this.scratch.length = 0;
    } else if (weight === 1 && t.t0[r]! < from) {
      // The usual return of an address: its one earlier failure has left the window.
      t.t0[r] = time;
      return 1;
    } else t.times(r, this.scratch);
    const times = this.scratch;
    for (let i = 0; i < weight; i++) insertSorted(times, time);
    keepRecent(times, from, cap);
    if (times.length === 0) {
      t.rows.remove(r);
      return 0;
    }
    t.store(r, times);
    return countInWindow(times, from, time);
  }

  has(key: Ip | string): boolean {
    const ip = typeof key === 'string' ? parseIp(key) : key;
    return ip !== null && this.table(ip).findIp(ip) >= 0;
  }

  /** The times of one address, oldest first (a copy), or undefined. */
  get(key: Ip | string): number[] | undefined {
    const ip = typeof key === 'string' ? parseIp(key) : key;
    if (!ip) return undefined;
    const t = this.table(ip);
    const r = t.findIp(ip);
    return r < 0 ? undefined : t.times(r, []);
  }

  delete(key: Ip | string): boolean {
    const ip = typeof key === 'string' ? parseIp(key) : key;
    if (!ip) return false;
    const t = this.table(ip);
    const r = t.findIp(ip);
    if (r < 0) return false;
    t.rows.remove(r);
    return true;
  }

  /** The addresses, as text (for tests and reports; not for the hot path). */
  keys(): string[] {
    const out: string[] = [];
    for (const t of [this.v4, this.v6]) for (let r = 0; r < t.size; r++) out.push(t.ip(r).text);
    return out;
  }

  /** Forgets every address whose newest failure is before `from`. */
  prune(from: number): void {
    for (const t of [this.v4, this.v6]) t.rows.retain((r) => t.newest(r) >= from);
  }

  /** Forgets every address inside `net`. */
  deleteWithin(net: Cidr): void {
    const t = net.family === 4 ? this.v4 : this.v6;
    t.rows.retain((r) => !t.within(r, net));
  }

  clear(): void {
    this.v4.rows.clear();
    this.v6.rows.clear();
  }

  private table(ip: Ip): TimesRows {
    return ip.family === 4 ? this.v4 : this.v6;
  }
}
