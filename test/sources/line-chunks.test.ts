import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineChunks, readRegion } from '../../src/sources/line-chunks.js';
import { MAX_LINE_BYTES } from '../../src/sources/read-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'blocker-line-chunks-'));
function withFile<T>(content: Buffer, f: (fd: number) => T): T {
  const p = join(dir, 'f.log');
  writeFileSync(p, content);
  const fd = openSync(p, 'r');
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

describe('lineChunks', () => {
  it('cuts only at line starts, covers the whole file, and never leaves an empty piece', () => {
    let seed = 5;
    const rand = (n: number) => ((seed = (Math.imul(seed, 48271) + 7) & 0x7fffffff) % n);
    for (let round = 0; round < 40; round++) {
      const lines = Array.from({ length: rand(60) }, () => 'x'.repeat(rand(200)));
      const text = Buffer.from(lines.join('\n') + (rand(2) ? '\n' : ''));
      const piece = 1 + rand(300);
      const starts = withFile(text, (fd) => lineChunks(fd, text.length, piece));
      expect(starts[0]).toBe(0);
      expect(starts.at(-1)).toBe(text.length);
      for (let k = 1; k < starts.length - 1; k++) {
        expect(text[starts[k]! - 1]).toBe(10);
        expect(starts[k]!).toBeGreaterThan(starts[k - 1]!);
        expect(starts[k]!).toBeLessThan(text.length);
      }
    }
  });

  it('makes a piece longer rather than cut a line longer than it', () => {
    const text = Buffer.from(`a\n${'b'.repeat(200_000)}\nc\n`);
    // The first piece would end inside the long line: it runs to that line's end instead.
    expect(withFile(text, (fd) => lineChunks(fd, text.length, 10))).toEqual([0, 200_003, text.length]);
    expect(withFile(text, (fd) => lineChunks(fd, text.length, 2))).toEqual([0, 2, 200_003, text.length]);
  });
});

describe('readRegion', () => {
  it('reads the piece and the whole next line, or nothing at the end of the file', () => {
    const text = Buffer.from('one\ntwo\nthree');
    expect(withFile(text, (fd) => readRegion(fd, 0, 4, text.length))).toMatchObject({ end: 4, hasNext: true });
    expect(withFile(text, (fd) => readRegion(fd, 0, 4, text.length)).buf.toString()).toBe('one\ntwo');
    expect(withFile(text, (fd) => readRegion(fd, 4, 8, text.length)).buf.toString()).toBe('two\nthree');
    const last = withFile(text, (fd) => readRegion(fd, 8, text.length, text.length));
    expect([last.buf.toString(), last.end, last.hasNext]).toEqual(['three', 5, false]);
    // An empty next line is a line.
    const blank = Buffer.from('one\n\nthree\n');
    expect(withFile(blank, (fd) => readRegion(fd, 0, 4, blank.length))).toMatchObject({ end: 4, hasNext: true });
    expect(withFile(blank, (fd) => readRegion(fd, 0, 4, blank.length)).buf.length).toBe(4);
  });

  it('cuts the next line at MAX_LINE_BYTES', () => {
    const text = Buffer.concat([Buffer.from('a\n'), Buffer.alloc(MAX_LINE_BYTES + 100_000, 'z'), Buffer.from('\nb\n')]);
    const r = withFile(text, (fd) => readRegion(fd, 0, 2, text.length));
    expect(r.buf.length).toBe(2 + MAX_LINE_BYTES);
    expect(r.hasNext).toBe(true);
  });
});
