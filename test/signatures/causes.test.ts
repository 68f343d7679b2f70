import { describe, expect, it } from 'vitest';
import { causeIndex, CAUSES } from '../../src/signatures/causes.js';

describe('causeIndex', () => {
  it("gives each cause its place in CAUSES, so counters per cause line up with the list", () => {
    expect(CAUSES.map((c) => causeIndex(c))).toEqual(CAUSES.map((_, i) => i));
  });
});
