import { describe, expect, it } from 'vitest';
import { collectGarbage, favourMemoryOverSpeed } from '../../src/cli/memory-first.js';

describe('memory first (blocker watch)', () => {
  it('collects the garbage at once when asked, after watch has set V8 up for it', () => {
    favourMemoryOverSpeed();
    let junk: { i: number; s: string }[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `address ${i}` }));
    const before = process.memoryUsage().heapUsed;
    expect(junk.length).toBe(200_000);
    junk = null;
    collectGarbage();
    // 200k objects and strings are well over 10 MB; nothing allocates in between, so no other collection runs.
    expect(process.memoryUsage().heapUsed).toBeLessThan(before - 10 * 1024 * 1024);
  });
});
