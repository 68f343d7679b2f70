import { describe, expect, it } from 'vitest';
import { inOwnMemory, regrow } from '../../src/net/columns.js';

/** Element i of the first `rows` rows holds i + 1. */
function filled(column: Float64Array | Int32Array, rows: number, width = 1): void {
  for (let i = 0; i < rows * width; i++) column[i] = i + 1;
}

/** The first `rows` rows as `filled` left them, every other element zero. */
function expectRows(column: Float64Array | Int32Array, rows: number, width = 1): void {
  for (let i = 0; i < column.length; i++) {
    if (column[i] !== (i < rows * width ? i + 1 : 0)) throw new Error(`element ${i}: ${column[i]} (rows ${rows}, width ${width})`);
  }
}

describe('regrow', () => {
  it('keeps the first rows of a small column and zeroes the rest, as a plain array', () => {
    const c = new Int32Array(40);
    filled(c, 10, 4);
    const out = regrow(c, 20, 6, 4);
    expect(out).toBeInstanceOf(Int32Array);
    expect(out.length).toBe(80);
    expect(inOwnMemory(out)).toBe(false);
    expectRows(out, 6, 4);
  });

  it('gives a column of a megabyte or more a Memory of its own, with the kept rows and zeros', () => {
    const small = new Float64Array(1024);
    filled(small, 1000);
    const big = regrow(small, 200_000, 1000);
    expect(big).toBeInstanceOf(Float64Array);
    expect(inOwnMemory(big)).toBe(true);
    expect(big.length).toBe(200_000);
    expectRows(big, 1000);
    filled(big, 150_000);
    const bigger = regrow(big, 400_000, 120_000);
    expect(inOwnMemory(bigger)).toBe(true);
    expectRows(bigger, 120_000);
    // Copied, never grown in place: growing would detach the old buffer (see columns.ts).
    expect(big.length).toBe(200_000);
    expect(big[149_999]).toBe(150_000);
  });

  it('goes back to a plain array when a column shrinks below a megabyte', () => {
    const big = regrow(new Int32Array(8), 1 << 19, 0, 2);
    expect(inOwnMemory(big)).toBe(true);
    filled(big, 3000, 2);
    const small = regrow(big, 4096, 3000, 2);
    expect(inOwnMemory(small)).toBe(false);
    expectRows(small, 3000, 2);
  });
});
