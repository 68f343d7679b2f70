import { regrow } from './columns.js';
import { hashSeed, mixWords } from './word-hash.js';

/** The columns a table's owner keeps beside the keys, one entry per row. */
export interface RowColumns {
  /** Reallocates the columns to hold `capacity` rows, keeping rows 0 … size-1. */
  resize(capacity: number): void;
  /** Copies row `from` over row `to` (then `from` is dropped). */
  move(from: number, to: number): void;
}

/**
 * Rows double. Growing by half left fewer empty rows (52 MB of typed arrays instead
 * of 64 for the live bench's million addresses) but more freed arrays behind each
 * growth, and the allocator kept them: the settled RSS measured 178 MB against 161–165.
 */
const GROWTH = 2;

/**
 * Pruning never shrinks a table below this many rows (a few hundred KB at most). The
 * policy's windows are pruned every few findTimes, and a small table cut in half at each
 * prune grew back before the next: in `blocker check` on the bench's nginx log, 1,450
 * reallocations of 512 to 4,096 rows, 5–10% of the policy's time. Past this size a table
 * still gives memory back (the daemon after a flood of a million addresses).
 */
const KEPT_CAPACITY = 16_384;

/** Index slots for `capacity` rows: a power of two, at most ~60% full. */
function indexSize(capacity: number): number {
  let n = 8;
  while (n < capacity * 1.6) n *= 2;
  return n;
}

/**
 * Dense rows of numbers keyed by up to five 32-bit words (an address, or a
 * network and its length), found through an open-addressing index.
 *
 * Why not a Map keyed by the address text: the policy remembers something
 * about each of up to millions of addresses during a flood, and a Map entry
 * with its string key and boxed value costs well over a hundred bytes and a
 * string hash per lookup. Here an entry costs its key words, one or two index slots
 * and the owner's columns.
 *
 * Rows stay dense (0 … size-1): removing one moves the last row into its
 * place, so owners keep their columns in typed arrays and copy a row in
 * `move`. The hash is seeded per table, so addresses an attacker picks (the
 * low 64 bits of IPv6 are theirs to choose) cannot be made to collide on purpose.
 *
 * One concrete class that owners hold rather than extend: every table then
 * has the same shape, and the lookups on the hot path stay monomorphic
 * (subclasses made them megamorphic, several times slower).
 */
export class KeyedRows<Extra = never> {
  /** Row + 1 per slot, 0 when empty; see indexSize. */
  private index: Int32Array;
  private mask: number;
  private words: Int32Array;
  private readonly seed = hashSeed();
  private _size = 0;
  private _capacity: number;
  /**
   * A side object for the few rows that need more than their columns hold
   * (an address with several failures): a Map, so the million rows that do
   * not pay nothing for it. Moves with its row.
   */
  readonly extra = new Map<number, Extra>();

  constructor(
    readonly width: 1 | 2 | 3 | 4 | 5,
    private readonly columns: RowColumns,
    private readonly minCapacity = 64,
  ) {
    this._capacity = minCapacity;
    this.words = new Int32Array(minCapacity * width);
    this.index = new Int32Array(indexSize(minCapacity));
    this.mask = this.index.length - 1;
  }

  get size(): number {
    return this._size;
  }

  get capacity(): number {
    return this._capacity;
  }

  /** The row with this key, or -1. Unused trailing words are 0. */
  find(a: number, b = 0, c = 0, d = 0, e = 0): number {
    const keys = this.words;
    const w = this.width;
    for (let i = this.hash(a, b, c, d, e) & this.mask; ; i = (i + 1) & this.mask) {
      const r = this.index[i]! - 1;
      if (r < 0) return -1;
      const k = r * w;
      if (keys[k] !== a) continue;
      if (w > 1 && keys[k + 1] !== b) continue;
      if (w > 2 && keys[k + 2] !== c) continue;
      if (w > 3 && keys[k + 3] !== d) continue;
      if (w > 4 && keys[k + 4] !== e) continue;
      return r;
    }
  }

  /** Adds a row for a key that has none (call find first) and returns it; its columns are the owner's to fill. */
  insert(a: number, b = 0, c = 0, d = 0, e = 0): number {
    if (this._size === this._capacity) this.rebuild(Math.ceil(this._capacity * GROWTH));
    const r = this._size++;
    const k = r * this.width;
    const keys = this.words;
    keys[k] = a;
    if (this.width > 1) keys[k + 1] = b;
    if (this.width > 2) keys[k + 2] = c;
    if (this.width > 3) keys[k + 3] = d;
    if (this.width > 4) keys[k + 4] = e;
    let i = this.hash(a, b, c, d, e) & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = r + 1;
    return r;
  }

  /** Word `i` of row `r`'s key. */
  key(r: number, i: number): number {
    return this.words[r * this.width + i]!;
  }

  /** Removes row `r`; the last row takes its number. */
  remove(r: number): void {
    this.unlink(r);
    this.extra.delete(r);
    const last = --this._size;
    if (r !== last) {
      this.index[this.slotOf(last)] = r + 1;
      this.words.copyWithin(r * this.width, last * this.width, (last + 1) * this.width);
      this.moveExtra(last, r);
      this.columns.move(last, r);
    }
  }

  /**
   * Keeps only the rows for which `keep` is true, in one pass: pruning a
   * table of a million rows row by row would rehash a probe run per removal.
   * Rows keep their order; the index is built again, and memory given back
   * (down to KEPT_CAPACITY rows).
   */
  retain(keep: (r: number) => boolean): void {
    const w = this.width;
    const words = this.words;
    // Where each row went (-1: dropped), for the side objects: far fewer than the rows,
    // so they are moved afterwards, each once, rather than looked up for every row.
    const to = this.extra.size > 0 ? new Int32Array(this._size) : null;
    let n = 0;
    for (let r = 0; r < this._size; r++) {
      if (!keep(r)) {
        if (to) to[r] = -1;
        continue;
      }
      if (to) to[r] = n;
      if (n !== r) {
        for (let j = 0; j < w; j++) words[n * w + j] = words[r * w + j]!;
        this.columns.move(r, n);
      }
      n++;
    }
    if (to) {
      const moved = [...this.extra];
      this.extra.clear();
      for (const [r, x] of moved) if (to[r]! >= 0) this.extra.set(to[r]!, x);
    }
    if (n === this._size) return;
    this._size = n;
    let cap = this._capacity;
    const floor = Math.max(this.minCapacity, KEPT_CAPACITY);
    while (cap > floor && n * 4 < cap) cap = Math.max(floor, Math.ceil(cap / 2));
    // Same size: only the index is built again, in place (pruning runs often; reallocating
    // every array each time was most of its cost).
    if (cap === this._capacity) {
      this.index.fill(0);
      this.reindex();
    } else this.rebuild(cap);
  }

  /** Makes room for `rows` rows at once, rather than by doubling as they come. */
  reserve(rows: number): void {
    let cap = this._capacity;
    while (cap < rows) cap = Math.ceil(cap * GROWTH);
    if (cap !== this._capacity) this.rebuild(cap);
  }

  /** Removes every row (and gives back the memory of a large table). */
  clear(): void {
    this._size = 0;
    this.extra.clear();
    this.rebuild(this.minCapacity);
  }

  private moveExtra(from: number, to: number): void {
    const x = this.extra.get(from);
    if (x === undefined) return;
    this.extra.set(to, x);
    this.extra.delete(from);
  }

  private hash(a: number, b: number, c: number, d: number, e: number): number {
    return mixWords(this.seed, a, b, c, d, e);
  }

  private hashOfRow(r: number): number {
    const k = r * this.width;
    const keys = this.words;
    const w = this.width;
    return this.hash(keys[k]!, w > 1 ? keys[k + 1]! : 0, w > 2 ? keys[k + 2]! : 0, w > 3 ? keys[k + 3]! : 0, w > 4 ? keys[k + 4]! : 0);
  }

  private slotOf(r: number): number {
    let i = this.hashOfRow(r) & this.mask;
    while (this.index[i] !== r + 1) i = (i + 1) & this.mask;
    return i;
  }

  /** Empties row r's slot, shifting later entries of its probe run back (no tombstones). */
  private unlink(r: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = this.slotOf(r);
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashOfRow(index[j]! - 1) & mask;
      // The entry at j may fill the hole unless its home lies cyclically within (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        index[hole] = index[j]!;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  private rebuild(capacity: number): void {
    this.words = regrow(this.words, capacity, this._size, this.width);
    this._capacity = capacity;
    this.columns.resize(capacity);
    // All zeros: no row is kept.
    this.index = regrow(this.index, indexSize(capacity), 0);
    this.mask = this.index.length - 1;
    this.reindex();
  }

  /** Enters every row in an index of zeros. */
  private reindex(): void {
    for (let r = 0; r < this._size; r++) {
      let i = this.hashOfRow(r) & this.mask;
      while (this.index[i] !== 0) i = (i + 1) & this.mask;
      this.index[i] = r + 1;
    }
  }
}
