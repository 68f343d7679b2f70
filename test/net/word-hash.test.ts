import { describe, expect, it } from 'vitest';
import { hashSeed, mixWords } from '../../src/net/word-hash.js';

/** The most keys that share one of 4096 buckets (the top 12 bits of their hash). */
function worstBucket(hashes: number[]): number {
  const counts = new Map<number, number>();
  for (const h of hashes) counts.set(h >>> 20, (counts.get(h >>> 20) ?? 0) + 1);
  return Math.max(...counts.values());
}

describe('mixWords', () => {
  it('depends on its seed', () => {
    const a = hashSeed();
    const b = a ^ 0x5bd1e995;
    expect(mixWords(a, 0x20010db8, 1, 2, 3)).not.toBe(mixWords(b, 0x20010db8, 1, 2, 3));
  });

  it('spreads addresses that a client crafted to collide under a fixed multiply-and-xor hash', () => {
    // One /64; the client picks w2 and sets w3 so that w3 ^ imul(w2, C) is constant, which put
    // every such address into one probe run of the address interner's former hash. Here the
    // 4096 of them spread over 4096 buckets like random keys do (a handful at most per bucket).
    const crafted = Array.from({ length: 4096 }, (_, w2) => [0x20010db8, 0x00000001, w2, (0x1234 ^ Math.imul(w2, 0xc2b2ae35)) | 0] as const);
    const seed = hashSeed();
    expect(worstBucket(crafted.map(([a, b, c, d]) => mixWords(seed, a, b, c, d)))).toBeLessThan(16);
    // The same keys under the old construction all land together, which is what this guards against.
    const old = crafted.map(([w0, w1, w2, w3]) => Math.imul(Math.imul(Math.imul(w0, 0x9e3779b1) ^ w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ w3, 0x9e3779b1));
    expect(worstBucket(old)).toBe(4096);
  });
});
