import { ipFromWords, type Ip } from '../net/address.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';
import { CAUSES } from '../signatures/causes.js';

/** Per address in `blocker check`: its failures of each cause (CAUSES order), then of all causes. */
export const CAUSE_COUNTERS = CAUSES.length + 1;

/** A tally's rows as plain arrays, to send to another thread (see AddressTally.rows and merge). */
export interface TallyRows {
  readonly size: number;
  /** Per row: family, w0, w1, w2, w3. */
  readonly keys: Int32Array;
  /** Per row: the counters. */
  readonly counts: Int32Array;
}

/** A tally as the report reads it: rows of an address and its counters. */
export interface TallyView {
  readonly size: number;
  /** Counter `i` of row `r`. */
  count(r: number, i: number): number;
  /** How many rows have counter `i` above zero. */
  nonZero(i: number): number;
  /** The address of row `r`. */
  ip(r: number): Ip;
}

/**
 * How many of `rows` rows of `counters` counters each have counter `i` above
 * zero. Straight over the column: run once per cause at the end of check,
 * where a call per row and cause, in code not yet optimised, took several
 * milliseconds of a run's last ones.
 */
function nonZeroIn(counts: Int32Array, rows: number, counters: number, i: number): number {
  const end = rows * counters;
  let n = 0;
  for (let k = i; k < end; k += counters) if (counts[k]! > 0) n++;
  return n;
}

/**
 * TallyRows read as a tally, without the index a lookup by address needs:
 * when one worker matched every failure, its rows are already the whole
 * tally, and entering 50,000 addresses into a new one cost 20–30 ms at the
 * end of `check`.
 */
export class RowsView implements TallyView {
  constructor(
    private readonly rows: TallyRows,
    private readonly counters: number,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  count(r: number, i: number): number {
    return this.rows.counts[r * this.counters + i]!;
  }

  nonZero(i: number): number {
    return nonZeroIn(this.rows.counts, this.rows.size, this.counters, i);
  }

  ip(r: number): Ip {
    const k = this.rows.keys;
    return ipFromWords(k[r * 5] as 4 | 6, k[r * 5 + 1]!, k[r * 5 + 2]!, k[r * 5 + 3]!, k[r * 5 + 4]!);
  }
}

/**
 * Per address, a fixed number of counters (failures per cause, and so on):
 * `blocker check` keeps one row for every address of a log, and a Map keyed
 * by address text cost more time per line than matching the line did.
 * Rows are never removed, so a row's number names its address for as long as
 * the tally lives.
 */
export class AddressTally implements RowColumns, TallyView {
  private readonly rows: KeyedRows;
  private counts: Int32Array;

  constructor(private readonly counters: number) {
    this.rows = new KeyedRows(5, this, 1024);
    this.counts = new Int32Array(this.rows.capacity * counters);
  }

  get size(): number {
    return this.rows.size;
  }

  /** The address's row, made (with its counters at 0) when it has none. */
  row(family: 4 | 6, w0: number, w1: number, w2: number, w3: number): number {
    const r = this.rows.find(family, w0, w1, w2, w3);
    return r >= 0 ? r : this.rows.insert(family, w0, w1, w2, w3);
  }

  /** Adds one to counter `i` of the address (and to counter `also`, when given); returns its row. */
  bump(family: 4 | 6, w0: number, w1: number, w2: number, w3: number, i: number, also = -1): number {
    const r = this.row(family, w0, w1, w2, w3);
    const base = r * this.counters;
    this.counts[base + i]!++;
    if (also >= 0) this.counts[base + also]!++;
    return r;
  }

  /** Counter `i` of row `r`. */
  count(r: number, i: number): number {
    return this.counts[r * this.counters + i]!;
  }

  nonZero(i: number): number {
    return nonZeroIn(this.counts, this.rows.size, this.counters, i);
  }

  /** The address of row `r`. */
  ip(r: number): Ip {
    const rows = this.rows;
    return ipFromWords(rows.key(r, 0) as 4 | 6, rows.key(r, 1), rows.key(r, 2), rows.key(r, 3), rows.key(r, 4));
  }

  /** The rows as plain arrays (copies). */
  rowsOut(): TallyRows {
    const size = this.rows.size;
    const keys = new Int32Array(size * 5);
    for (let r = 0; r < size; r++) for (let k = 0; k < 5; k++) keys[r * 5 + k] = this.rows.key(r, k);
    return { size, keys, counts: this.counts.slice(0, size * this.counters) };
  }

  /** Adds another tally's rows (with the same counters) to this one. */
  merge(other: TallyRows): void {
    const { keys, counts } = other;
    // Grown once: by doubling, the 50,000 addresses of a big log were six reallocations of every column.
    this.rows.reserve(this.size + other.size);
    for (let r = 0; r < other.size; r++) {
      const k = r * 5;
      const row = this.row(keys[k] as 4 | 6, keys[k + 1]!, keys[k + 2]!, keys[k + 3]!, keys[k + 4]!);
      for (let i = 0; i < this.counters; i++) this.counts[row * this.counters + i]! += counts[r * this.counters + i]!;
    }
  }

  resize(capacity: number): void {
    this.counts = regrow(this.counts, capacity, this.rows.size, this.counters);
  }

  move(from: number, to: number): void {
    this.counts.copyWithin(to * this.counters, from * this.counters, (from + 1) * this.counters);
  }
}
