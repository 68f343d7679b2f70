import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/net/address.js';
import { AddressList, type IpSummary } from '../../src/pipeline/address-list.js';
import { AddressTally, CAUSE_COUNTERS } from '../../src/pipeline/address-tally.js';
import { CAUSES, type Cause } from '../../src/signatures/causes.js';

/** A tally of random failures over `addresses` addresses (v4 and v6), with many equal totals. */
function randomTally(seed: number, addresses: number, failures: number): AddressTally {
  let s = seed;
  const rand = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) % n + n) % n;
  };
  const ips = Array.from({ length: addresses }, (_, i) => parseIp(i % 5 === 0 ? `2001:db8::${i.toString(16)}` : `198.51.${100 + (i >> 8)}.${i & 255}`)!);
  const tally = new AddressTally(CAUSE_COUNTERS);
  for (let k = 0; k < failures; k++) {
    const ip = ips[rand(addresses)]!;
    tally.bump(ip.family, ip.w0, ip.w1, ip.w2, ip.w3, rand(CAUSES.length), CAUSES.length);
  }
  return tally;
}

/** What the report listed before AddressList: every address, most failures first, then by text. */
function reference(tally: AddressTally): IpSummary[] {
  const out: IpSummary[] = [];
  for (let r = 0; r < tally.size; r++) {
    const causes: Partial<Record<Cause, number>> = {};
    CAUSES.forEach((c, i) => {
      if (tally.count(r, i)) causes[c] = tally.count(r, i);
    });
    out.push({ ip: tally.ip(r).text, failures: tally.count(r, CAUSES.length), causes });
  }
  return out.sort((a, b) => b.failures - a.failures || (a.ip < b.ip ? -1 : 1));
}

describe('AddressList', () => {
  for (const seed of [1, 2, 3]) {
    it(`answers what the full sorted list would (seed ${seed})`, () => {
      const tally = randomTally(seed, 700, 4000);
      const ref = reference(tally);
      // A list per question, so that none is answered from a list all() already made.
      expect(new AddressList(tally).size).toBe(ref.length);
      for (const n of [0, 1, 2, 5, 10, 37, ref.length - 1, ref.length, ref.length + 5]) {
        expect(new AddressList(tally).top(n)).toEqual(ref.slice(0, Math.max(n, 0)));
      }
      const perCause = new AddressList(tally).perCause();
      for (const c of CAUSES) {
        expect(perCause[c]).toBe(ref.filter((x) => (x.causes[c] ?? 0) > 0).length);
        // The first in the list among those with the most failures of the cause.
        const withIt = ref.filter((x) => (x.causes[c] ?? 0) > 0);
        const most = withIt.reduce<IpSummary | undefined>((a, b) => (!a || (b.causes[c] ?? 0) > (a.causes[c] ?? 0) ? b : a), undefined);
        expect(new AddressList(tally).mostOf(c)).toEqual(most ? { ip: most.ip, count: most.causes[c] } : undefined);
      }
      const list = new AddressList(tally);
      expect(list.all()).toEqual(ref);
      expect(list.top(3)).toEqual(ref.slice(0, 3));
    });
  }

  it('is empty for an empty tally', () => {
    const list = new AddressList(new AddressTally(CAUSE_COUNTERS));
    expect([list.size, list.top(10), list.all(), list.mostOf('eof')]).toEqual([0, [], [], undefined]);
    expect(Object.values(list.perCause()).every((n) => n === 0)).toBe(true);
  });
});
