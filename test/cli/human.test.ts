import { describe, expect, it } from 'vitest';
import { libraryTable, table, thousands } from '../../src/cli/human.js';

describe('thousands', () => {
  it('groups digits as toLocaleString("en-US") does', () => {
    for (const v of [0, 7, 999, 1000, 12_345, 599_768, 1_000_000, 123_456_789, -1, -1234, -1_000_000, 2 ** 53 - 1, 1.5, 1234.5678, NaN, Infinity]) {
      expect(thousands(v), String(v)).toBe(v.toLocaleString('en-US'));
    }
  });
});

describe('table', () => {
  it('lays full rows of plain ASCII out exactly as cli-table3 does, whatever the widths and blanks', () => {
    let seed = 7;
    // The high bits of an LCG: its low bits repeat with a short period.
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const text = () => {
      const len = rand(4) === 0 ? 0 : rand(25);
      let s = '';
      for (let i = 0; i < len; i++) s += String.fromCharCode(rand(8) === 0 ? 32 : 33 + rand(94));
      return s;
    };
    for (let t = 0; t < 300; t++) {
      const cols = 1 + rand(6);
      const head = Array.from({ length: cols }, text);
      const rows = Array.from({ length: rand(12) }, () => Array.from({ length: cols }, () => (rand(3) === 0 ? rand(100000) : text())));
      expect(table(head, rows)).toBe(libraryTable(head, rows.map((r) => r.map(String))));
    }
  });

  it('leaves anything else to cli-table3', () => {
    const rows = [['198.51.100.7', 'via CDN — not banned'], ['2001:db8::1', 'two\nlines'], ['x', '\u001b[31mred\u001b[0m']];
    expect(table(['IP', 'NOTE'], rows)).toBe(libraryTable(['IP', 'NOTE'], rows));
    // Rows shorter than the head: cli-table3 has its own idea of those.
    const short = [['a'], [], ['b', 'c']];
    expect(table(['IP', 'NOTE'], short)).toBe(libraryTable(['IP', 'NOTE'], short));
  });
});
