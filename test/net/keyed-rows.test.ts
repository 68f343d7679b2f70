import { describe, expect, it } from 'vitest';
import { regrow } from '../../src/net/columns.js';
import { KeyedRows } from '../../src/net/keyed-rows.js';

/** A table of one Float64 column, checked against a Map. */
class Values {
  readonly rows: KeyedRows;
  value: Float64Array;
  constructor(width: 1 | 5) {
    this.rows = new KeyedRows(width, this, 4);
    this.value = new Float64Array(this.rows.capacity);
  }
  get size(): number {
    return this.rows.size;
  }
  get capacity(): number {
    return this.rows.capacity;
  }
  put(k: number[], v: number): void {
    let r = this.rows.find(k[0]!, k[1], k[2], k[3], k[4]);
    if (r < 0) r = this.rows.insert(k[0]!, k[1], k[2], k[3], k[4]);
    this.value[r] = v;
  }
  get(k: number[]): number | undefined {
    const r = this.rows.find(k[0]!, k[1], k[2], k[3], k[4]);
    return r < 0 ? undefined : this.value[r];
  }
  drop(k: number[]): boolean {
    const r = this.rows.find(k[0]!, k[1], k[2], k[3], k[4]);
    if (r >= 0) this.rows.remove(r);
    return r >= 0;
  }
  retain(keep: (r: number) => boolean): void {
    this.rows.retain(keep);
  }
  clear(): void {
    this.rows.clear();
  }
  valueAt(r: number): number {
    return this.value[r]!;
  }
  resize(capacity: number): void {
    this.value = regrow(this.value, capacity, this.rows.size);
  }
  move(from: number, to: number): void {
    this.value[to] = this.value[from]!;
  }
}

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return (s >>> 8) / 16777216;
  };
}

describe('KeyedRows', () => {
  for (const width of [1, 5] as const) {
    it(`agrees with a Map through random adds, removes, growth and pruning (width ${width})`, () => {
      const rand = rng(width);
      const t = new Values(width);
      const ref = new Map<string, number>();
      // Few distinct keys, many operations: removals hit long probe runs and moved rows.
      const keyOf = () => Array.from({ length: 5 }, (_, i) => (i < width ? (Math.floor(rand() * 3000) - 1500) | 0 : 0));
      for (let step = 0; step < 40_000; step++) {
        const k = keyOf();
        const text = k.join(',');
        const op = rand();
        if (op < 0.5) {
          t.put(k, step);
          ref.set(text, step);
        } else if (op < 0.9) {
          expect(t.drop(k)).toBe(ref.delete(text));
        } else {
          expect(t.get(k)).toBe(ref.get(text));
        }
        if (step % 5000 === 4999) {
          // Keep one row in ten at once: what is left must all still be found.
          t.retain((r) => t.valueAt(r) % 10 === 0);
          for (const [key, v] of ref) if (v % 10 !== 0) ref.delete(key);
        }
        expect(t.size).toBe(ref.size);
      }
      for (const [key, v] of ref) expect(t.get(key.split(',').map(Number))).toBe(v);
      t.clear();
      expect(t.size).toBe(0);
      expect(t.get([1, 0, 0, 0, 0])).toBeUndefined();
    });
  }

  it('finds every key of a table past a million bytes a column, through growth and pruning', () => {
    // Big enough for its columns to move into growable memory (columns.ts) and grow there.
    const t = new Values(5);
    const n = 300_000;
    const key = (i: number) => [i ^ 0x5bd1e995, i * 7, -i, i >> 3, 1];
    for (let i = 0; i < n; i++) t.put(key(i), i);
    expect(t.size).toBe(n);
    const before = t.capacity;
    t.retain((r) => t.valueAt(r) % 3 === 0);
    expect(t.capacity).toBe(before / 2);
    for (let i = 0; i < n; i += 997) expect(t.get(key(i))).toBe(i % 3 === 0 ? i : undefined);
    for (let i = n; i < n + 100_000; i++) t.put(key(i), i);
    for (let i = 1; i < n + 100_000; i += 991) expect(t.get(key(i))).toBe(i % 3 === 0 || i >= n ? i : undefined);
  });

  it('gives memory back when pruned, but keeps room for 16,384 rows (a table pruned often would grow back)', () => {
    const t = new Values(1);
    for (let i = 0; i < 100_000; i++) t.put([i, 0, 0, 0, 0], i);
    const full = t.capacity;
    expect(full).toBeGreaterThanOrEqual(100_000);
    t.retain((r) => t.valueAt(r) < 1_000);
    expect(t.capacity).toBe(16_384);
    for (let i = 0; i < 1_000; i++) expect(t.get([i, 0, 0, 0, 0])).toBe(i);
    // Grown to a few thousand rows and pruned back to a few hundred, again and again: no shrinking.
    for (let i = 1_000; i < 5_000; i++) t.put([i, 0, 0, 0, 0], i);
    t.retain((r) => t.valueAt(r) >= 4_800);
    expect(t.capacity).toBe(16_384);
    expect(t.size).toBe(200);
    expect(t.get([4_900, 0, 0, 0, 0])).toBe(4_900);
  });

  it('reserves room for many rows at once, and still finds what it held', () => {
    const t = new Values(5);
    for (let i = 0; i < 100; i++) t.put([i, 1, 2, 3, 4], i);
    t.rows.reserve(50_000);
    const cap = t.capacity;
    expect(cap).toBeGreaterThanOrEqual(50_000);
    for (let i = 0; i < 100; i++) expect(t.get([i, 1, 2, 3, 4])).toBe(i);
    for (let i = 100; i < 50_000; i++) t.put([i, 1, 2, 3, 4], i);
    expect(t.capacity).toBe(cap);
    t.rows.reserve(10);
    expect(t.capacity).toBe(cap);
    expect(t.get([49_999, 1, 2, 3, 4])).toBe(49_999);
  });

  it('keeps keys that differ only in a late word apart', () => {
    const t = new Values(5);
    t.put([6, 1, 2, 3, 4], 1);
    t.put([6, 1, 2, 3, 5], 2);
    t.put([4, 1, 2, 3, 4], 3);
    expect([t.get([6, 1, 2, 3, 4]), t.get([6, 1, 2, 3, 5]), t.get([4, 1, 2, 3, 4]), t.get([6, 1, 2, 3, 6])]).toEqual([1, 2, 3, undefined]);
  });
});
