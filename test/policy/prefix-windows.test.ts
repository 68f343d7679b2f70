import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, type Ip } from '../../src/net/address.js';
import { prefixText } from '../../src/net/prefix.js';
import { PrefixWindows } from '../../src/policy/prefix-windows.js';
import { countInWindow, insertSorted, keepRecent } from '../../src/policy/times.js';

const ip = (s: string): Ip => parseIp(s)!;

/** The plain version: times, and each address with its latest failure. */
interface Ref {
  times: number[];
  seen: Map<string, number>;
}

describe('PrefixWindows', () => {
  it('counts failures and distinct addresses per prefix like plain arrays and maps', () => {
    let seed = 11;
    const rand = () => ((seed = (Math.imul(seed, 48271) + 1) & 0x7fffffff) / 0x7fffffff);
    // Eight /64s of six addresses each, and a /48 key length on some steps to prove lengths are kept apart.
    const addrs = Array.from({ length: 48 }, (_, i) => ip(`2001:db8:0:${(i % 8).toString(16)}::${(i >> 3) + 1}`));
    const p = new PrefixWindows();
    const ref = new Map<string, Ref>();
    for (let step = 0; step < 20_000; step++) {
      const a = addrs[Math.floor(rand() * addrs.length)]!;
      const len = rand() < 0.8 ? 64 : 48;
      const time = step * 10 - Math.floor(rand() * rand() * 400);
      const weight = rand() < 0.8 ? 1 : 2;
      const from = time - 500;
      const key = prefixText(a, len);
      const r = ref.get(key) ?? { times: [], seen: new Map<string, number>() };
      ref.set(key, r);
      for (let i = 0; i < weight; i++) insertSorted(r.times, time);
      keepRecent(r.times, from, 6);
      r.seen.set(a.text, Math.max(r.seen.get(a.text) ?? Number.NEGATIVE_INFINITY, time));
      for (const [k, t] of r.seen) if (t < from) r.seen.delete(k);
      const total = p.add(a, len, time, weight, from, 6);
      expect(total).toBe(countInWindow(r.times, from, time));
      expect(p.distinct).toBe([...r.seen.values()].filter((t) => t <= time).length);
      // Reaching a threshold wipes the prefix, as the policy does.
      if (total >= 6 || p.distinct >= 4) {
        p.deletePrefix(a, len);
        ref.delete(key);
      }
      if (step % 1000 === 999) {
        p.prune(time - 500);
        for (const [k, v] of ref) if (Math.max(...v.seen.values()) < time - 500) ref.delete(k);
        expect(p.size).toBe(ref.size);
      }
    }
  });

  it('forgets a prefix by its text, and every prefix inside a network', () => {
    const p = new PrefixWindows();
    p.add(ip('2001:db8:1:1::5'), 64, 1, 1, 0, 5);
    p.add(ip('2001:db8:1:2::5'), 64, 1, 1, 0, 5);
    p.add(ip('2001:db8:2:1::5'), 64, 1, 1, 0, 5);
    expect(p.delete('2001:db8:1:1::/64')).toBe(true);
    expect(p.delete('2001:db8:1:1::/64')).toBe(false);
    p.deleteWithin(parseCidr('2001:db8:1::/48')!);
    expect(p.size).toBe(1);
    expect(p.findPrefix(ip('2001:db8:2:1::9'), 64)).toBeGreaterThanOrEqual(0);
  });
});
