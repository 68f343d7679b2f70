import { describe, expect, it } from 'vitest';
import { parseIp, type Ip } from '../../src/net/address.js';
import { countFailure, emptyBreaker, evaluate, measure, pruneBreaker, type BreakerRules, type BreakerState } from '../../src/policy/breaker.js';

/** The ring added up from scratch, as the breaker once did for every failure. */
function recount(s: BreakerState, rules: BreakerRules): { addresses: number; failures: number; certRejected: number } {
  const width = Math.max(1, Math.ceil(rules.window / 10));
  const oldest = Math.floor(s.clock / width) - 9;
  const out = { addresses: 0, failures: 0, certRejected: 0 };
  for (let i = 0; i < 10; i++) {
    if (s.bucket[i]! < oldest) continue;
    out.addresses += s.lastSeenHere[i]!;
    out.failures += s.failures[i]!;
    out.certRejected += s.certRejected[i]!;
  }
  return out;
}

describe('storm breaker counts', () => {
  it('keeps running sums equal to the ring added up, through late lines, gaps and sweeps', () => {
    let seed = 5;
    const rand = () => ((seed = (Math.imul(seed, 48271) + 1) & 0x7fffffff) / 0x7fffffff);
    const rules: BreakerRules = { window: 60_000, maxAddresses: 1e9, certRejectedShare: 2, minFailures: 1e9, cooldown: 60_000 };
    const pool: Ip[] = Array.from({ length: 300 }, (_, i) => parseIp(i % 3 ? `198.51.100.${i % 250}` : `2001:db8::${i.toString(16)}`)!);
    const s = emptyBreaker();
    let t = 1_700_000_000_000;
    for (let step = 0; step < 30_000; step++) {
      // Mostly forwards in small steps, now and then a jump past the window or a late line.
      const r = rand();
      t += r < 0.001 ? 200_000 : Math.floor(rand() * 400);
      const time = rand() < 0.05 ? t - Math.floor(rand() * 90_000) : t;
      countFailure(s, rules, pool[Math.floor(rand() * pool.length)]!, rand() < 0.3, time);
      if (step % 997 === 0) pruneBreaker(s, rules, t);
      if (step % 13 === 0) evaluate(s, rules, t + Math.floor(rand() * 5000));
      const { addresses, failures, certRejected } = measure(s, rules);
      expect({ addresses, failures, certRejected }).toEqual(recount(s, rules));
    }
    // Distinct addresses within the window, from the seen table's point of view, never exceed the pool.
    expect(measure(s, rules).addresses).toBeLessThanOrEqual(pool.length);
  });
});
