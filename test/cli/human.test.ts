import { describe, expect, it } from 'vitest';
import { thousands } from '../../src/cli/human.js';

describe('thousands', () => {
  it('groups digits as toLocaleString("en-US") does', () => {
    for (const v of [0, 7, 999, 1000, 12_345, 599_768, 1_000_000, 123_456_789, -1, -1234, -1_000_000, 2 ** 53 - 1, 1.5, 1234.5678, NaN, Infinity]) {
      expect(thousands(v), String(v)).toBe(v.toLocaleString('en-US'));
    }
  });
});
