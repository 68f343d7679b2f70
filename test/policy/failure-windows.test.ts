import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, type Ip } from '../../src/net/address.js';
import { FailureWindows } from '../../src/policy/failure-windows.js';
import { countInWindow, insertSorted, keepRecent } from '../../src/policy/times.js';

const ip = (s: string): Ip => parseIp(s)!;

describe('FailureWindows', () => {
  it('counts like sorted arrays per address, whatever the order, weight and cap', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 48271) + 1) & 0x7fffffff) / 0x7fffffff);
    const addrs = [...Array.from({ length: 40 }, (_, i) => ip(`198.51.100.${i}`)), ...Array.from({ length: 40 }, (_, i) => ip(`2001:db8::${i.toString(16)}`))];
    const w = new FailureWindows();
    const ref = new Map<string, number[]>();
    for (let step = 0; step < 20_000; step++) {
      const a = addrs[Math.floor(rand() * addrs.length)]!;
      // Mostly forwards, sometimes a late line from the past.
      const time = step * 10 - Math.floor(rand() * rand() * 400);
      const weight = rand() < 0.8 ? 1 : 1 + Math.floor(rand() * 3);
      const from = time - 300;
      const times = ref.get(a.text) ?? [];
      for (let i = 0; i < weight; i++) insertSorted(times, time);
      keepRecent(times, from, 5);
      ref.set(a.text, times);
      expect(w.add(a, time, weight, from, 5)).toBe(countInWindow(times, from, time));
      if (step % 1000 === 999) {
        w.prune(time - 300);
        for (const [k, t] of ref) if (t[t.length - 1]! < time - 300) ref.delete(k);
      }
    }
    expect(w.size).toBe(ref.size);
    for (const [k, t] of ref) expect(w.get(k)).toEqual(t);
    expect(w.keys().sort()).toEqual([...ref.keys()].sort());
  });

  it('forgets one address, or every address of a network, by text or Ip', () => {
    const w = new FailureWindows();
    for (const a of ['198.51.100.1', '198.51.100.2', '203.0.113.1', '2001:db8:1::1', '2001:db8:2::1']) w.add(ip(a), 1, 1, 0, 5);
    expect(w.delete('198.51.100.1')).toBe(true);
    expect(w.delete('198.51.100.1')).toBe(false);
    expect(w.delete('not an address')).toBe(false);
    w.deleteWithin(parseCidr('2001:db8:1::/48')!);
    w.deleteWithin(parseCidr('198.51.100.0/24')!);
    expect(w.keys().sort()).toEqual(['2001:db8:2::1', '203.0.113.1']);
    expect(w.has(ip('203.0.113.1'))).toBe(true);
  });
});

describe('FailureWindows with a time that is not a number', () => {
  it('ignores it rather than corrupting the address’s window', () => {
    const w = new FailureWindows();
    const a = ip('198.51.100.1');
    w.add(a, 10, 1, 0, 5);
    expect(w.add(a, Number.NaN, 1, Number.NaN, 5)).toBe(0);
    expect(w.add(a, 20, 1, 0, 5)).toBe(2);
    expect(w.get(a)).toEqual([10, 20]);
  });
});
