import { ipFromWords, type Ip } from '../net/address.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';

/**
 * Per address, a fixed number of counters (failures per cause, and so on):
 * `blocker check` keeps one row for every address of a log, and a Map keyed
 * by address text cost more time per line than matching the line did.
 */
export class AddressTally implements RowColumns {
  private readonly rows: KeyedRows;
  private counts: Int32Array;

  constructor(private readonly counters: number) {
    this.rows = new KeyedRows(5, this, 1024);
    this.counts = new Int32Array(this.rows.capacity * counters);
  }

  /** Adds one to counter `i` of `ip` (and to counter `also`, when given). */
  bump(ip: Ip, i: number, also = -1): void {
    let r = this.rows.find(ip.family, ip.w0, ip.w1, ip.w2, ip.w3);
    if (r < 0) r = this.rows.insert(ip.family, ip.w0, ip.w1, ip.w2, ip.w3);
    const base = r * this.counters;
    this.counts[base + i]!++;
    if (also >= 0) this.counts[base + also]!++;
  }

  /** Every address with its counters (a copy), in no particular order. */
  *entries(): Generator<[Ip, Int32Array]> {
    for (let r = 0; r < this.rows.size; r++) {
      const ip = ipFromWords(this.rows.key(r, 0) as 4 | 6, this.rows.key(r, 1), this.rows.key(r, 2), this.rows.key(r, 3), this.rows.key(r, 4));
      yield [ip, this.counts.slice(r * this.counters, (r + 1) * this.counters)];
    }
  }

  resize(capacity: number): void {
    this.counts = regrow(this.counts, capacity, this.rows.size, this.counters);
  }

  move(from: number, to: number): void {
    this.counts.copyWithin(to * this.counters, from * this.counters, (from + 1) * this.counters);
  }
}
