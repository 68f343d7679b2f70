import { describe, expect, it } from 'vitest';
import { parseIp, type Ip } from '../../src/net/address.js';
import { AddressTally, CAUSE_COUNTERS } from '../../src/pipeline/address-tally.js';
import { addressesById, forEachRecord, RecordTally, RecordWriter, type MatchRecords } from '../../src/pipeline/match-records.js';
import { CAUSES } from '../../src/signatures/causes.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult } from '../../src/signatures/types.js';

/** The records' results as objects again, with their line indexes. */
function resultsOf(records: MatchRecords): [number, Exclude<MatchResult, null>][] {
  const got: [number, Exclude<MatchResult, null>][] = [];
  forEachRecord(records, addressesById(), {
    failure: (i, time, ip, reason, cause) => got.push([i, { time, ip, reason, cause }]),
    unparsable: (i, untrusted) => got.push([i, untrusted ? UNTRUSTED : UNPARSABLE]),
  });
  return got;
}

describe('match records', () => {
  it('carry every result through a buffer as it was, in order, with its line index', () => {
    const results: [number, Exclude<MatchResult, null>][] = [];
    for (let i = 0; i < 3000; i++) {
      const r: Exclude<MatchResult, null> =
        i % 13 === 0
          ? UNTRUSTED
          : i % 7 === 0
            ? UNPARSABLE
            : {
                time: i % 5 === 0 ? null : Date.UTC(2026, 10, 22) + i * 1000.5,
                ip: parseIp(i % 2 ? `2001:db8::${i.toString(16)}` : `198.51.100.${i % 256}`)!,
                reason: `reason ${i % 40}`,
                cause: CAUSES[i % CAUSES.length]!,
              };
      results.push([i * 3 + 1, r]);
    }
    const out = new RecordWriter();
    for (const [i, r] of results) out.add(i, r);
    const records = out.finish('nginx', 9001);
    expect(records).toMatchObject({ format: 'nginx', lines: 9001, count: 3000 });
    // Each reason once.
    expect(records.reasons).toHaveLength(40);
    // Through a structured clone, as between threads.
    expect(resultsOf(structuredClone(records, { transfer: [records.buffer] }))).toEqual(results);
  });

  it('go on in a buffer handed back when it is big enough, and start each piece afresh', () => {
    const out = new RecordWriter();
    const failure = (n: number): Exclude<MatchResult, null> => ({ time: n, ip: parseIp(`198.51.100.${n}`)!, reason: `r${n}`, cause: 'eof' });
    const read = resultsOf;
    for (let n = 1; n <= 3; n++) out.add(n, failure(n));
    const first = out.finish('go', 3);
    expect(read(first)).toEqual([1, 2, 3].map((n) => [n, failure(n)]));
    // The reader is done with the first piece's buffer and hands it back with the next task.
    out.add(7, failure(9));
    const second = out.finish('go', 8, first.buffer);
    expect(second.buffer).not.toBe(first.buffer);
    expect(second.count).toBe(1);
    expect(second.reasons).toEqual(['r9']);
    expect(read(second)).toEqual([[7, failure(9)]]);
    // The piece after that is written into it, over the first piece's records.
    for (let n = 1; n <= 5; n++) out.add(n, failure(n + 10));
    const third = out.finish('go', 5, new ArrayBuffer(8));
    expect(third.buffer).toBe(first.buffer);
    expect(read(third)).toEqual([1, 2, 3, 4, 5].map((n) => [n, failure(n + 10)]));
    // A buffer too small to be worth it is not used: the writer goes on in one of its own.
    out.add(1, failure(1));
    const fourth = out.finish('go', 1);
    expect(fourth.buffer.byteLength).toBeGreaterThan(8);
    expect(read(fourth)).toEqual([[1, failure(1)]]);
  });
});

/** Every row of a tally as [address, counters]. */
function rowsOf(tally: AddressTally): [string, number[]][] {
  return Array.from({ length: tally.size }, (_, r) => [tally.ip(r).text, Array.from({ length: CAUSE_COUNTERS }, (_, i) => tally.count(r, i))]);
}

describe('address ids', () => {
  it('the reader counts each failure per cause into its tally, and the row it gets finds the Ip again', () => {
    const out = new RecordWriter(3);
    const f = (ip: string, cause: (typeof CAUSES)[number]): Exclude<MatchResult, null> => ({ time: 1, ip: parseIp(ip)!, reason: 'r', cause });
    out.add(0, f('198.51.100.1', 'eof'));
    out.add(1, f('2001:db8::1', 'sni'));
    out.add(2, f('198.51.100.1', 'sni'));
    const records = out.finish('nginx', 3);
    expect(records.writer).toBe(3);
    const tally = new AddressTally(CAUSE_COUNTERS);
    const counting = new RecordTally(tally);
    counting.add(records);
    const seen: Ip[] = [];
    forEachRecord(records, addressesById(), { failure: (_, __, ip) => void seen.push(ip), unparsable: () => {} });
    expect(seen.map((ip) => ip.text)).toEqual(['198.51.100.1', '2001:db8::1', '198.51.100.1']);
    // The same address, the same Ip object: found again by its id.
    expect(seen[2]).toBe(seen[0]);
    // Numbered as first seen.
    expect([tally.size, tally.ip(0).text, tally.ip(1).text]).toEqual([2, '198.51.100.1', '2001:db8::1']);
    // Another piece: the same tally, the same ids for the same addresses.
    const more = new RecordWriter(0);
    more.add(0, f('2001:db8::1', 'eof'));
    const second = more.finish('nginx', 1);
    counting.add(second);
    expect(new Int32Array(second.buffer)[9]).toBe(1);
    const counts = Object.fromEntries(rowsOf(tally));
    const row = (eof: number, sni: number) => CAUSES.map((c) => (c === 'eof' ? eof : c === 'sni' ? sni : 0)).concat(eof + sni);
    expect(counts).toEqual({ '198.51.100.1': row(1, 1), '2001:db8::1': row(1, 1) });
  });

  it('records without ids find their Ips by their words', () => {
    const out = new RecordWriter();
    out.add(0, { time: 1, ip: parseIp('198.51.100.7')!, reason: 'r', cause: 'eof' });
    const seen: string[] = [];
    forEachRecord(out.finish('nginx', 1), addressesById(), { failure: (_, __, ip) => void seen.push(ip.text), unparsable: () => {} });
    expect(seen).toEqual(['198.51.100.7']);
  });

  it('addressesById stays right past the ids it keeps, for old ids too', () => {
    const ipOf = addressesById();
    const words = (n: number) => [4, 0, 0, 0, (0xc6336400 + n) | 0] as const;
    for (let id = 0; id < 70_000; id++) expect(ipOf(id, ...words(id)).w3).toBe(words(id)[4]);
    // Long forgotten by the array: found by its words all the same.
    expect(ipOf(5, ...words(5)).text).toBe('198.51.100.5');
    expect(ipOf(69_999, ...words(69_999))).toBe(ipOf(69_999, ...words(69_999)));
    // An id that comes out of order (a row first counted by a line-by-line read): its own address still.
    expect(ipOf(70_500, ...words(12)).text).toBe('198.51.100.12');
    expect(ipOf(70_100, ...words(13)).text).toBe('198.51.100.13');
  });
});
