import { describe, expect, it } from 'vitest';
import { parseIp, type Ip } from '../../src/net/address.js';
import { AddressTally, CAUSE_COUNTERS, RowsView } from '../../src/pipeline/address-tally.js';
import { addressesById, CountsById, forEachRecord, RecordWriter, type MatchRecords } from '../../src/pipeline/match-records.js';
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
  it('a writer numbers addresses in the order first seen, and the reader counts each failure per cause by those numbers', () => {
    const addresses = new AddressTally(0);
    const out = new RecordWriter(3, addresses);
    const f = (ip: string, cause: (typeof CAUSES)[number]): Exclude<MatchResult, null> => ({ time: 1, ip: parseIp(ip)!, reason: 'r', cause });
    out.add(0, f('198.51.100.1', 'eof'));
    out.add(1, f('2001:db8::1', 'sni'));
    out.add(2, f('198.51.100.1', 'sni'));
    const records = out.finish('nginx', 3);
    expect(records.writer).toBe(3);
    const seen: Ip[] = [];
    forEachRecord(records, addressesById(), { failure: (_, __, ip) => void seen.push(ip), unparsable: () => {} });
    expect(seen.map((ip) => ip.text)).toEqual(['198.51.100.1', '2001:db8::1', '198.51.100.1']);
    // The same address, the same Ip object: found again by its id.
    expect(seen[2]).toBe(seen[0]);
    expect([addresses.size, addresses.ip(0).text, addresses.ip(1).text]).toEqual([2, '198.51.100.1', '2001:db8::1']);
    // Counted by id, the writer's rows, then merged into a tally by the addresses' words.
    const tally = new AddressTally(CAUSE_COUNTERS);
    const byId = new CountsById(tally);
    byId.add(records);
    // A writer that numbers nothing (id -1): its failures are counted by their words.
    const plain = new RecordWriter(0);
    plain.add(0, f('2001:db8::1', 'eof'));
    byId.add(plain.finish('nginx', 1));
    const rows = byId.rows(3, addresses.rowsOut());
    // Read as they are (one worker matched everything): the same counts, the same addresses per cause.
    const view = new RowsView(rows, CAUSE_COUNTERS);
    expect(CAUSES.map((_, i) => view.nonZero(i))).toEqual(CAUSES.map((c) => (c === 'eof' ? 1 : c === 'sni' ? 2 : 0)));
    expect(view.count(0, CAUSES.length)).toBe(2);
    tally.merge(rows);
    const counts = Object.fromEntries(rowsOf(tally));
    const row = (eof: number, sni: number) => CAUSES.map((c) => (c === 'eof' ? eof : c === 'sni' ? sni : 0)).concat(eof + sni);
    expect(counts).toEqual({ '198.51.100.1': row(1, 1), '2001:db8::1': row(1, 1) });
  });

  it('CountsById grows with the ids it is given', () => {
    const addresses = new AddressTally(0);
    const out = new RecordWriter(0, addresses);
    for (let i = 0; i < 5000; i++) out.add(i, { time: 1, ip: parseIp(`198.51.${100 + (i >> 8)}.${i & 255}`)!, reason: 'r', cause: 'eof' });
    out.add(5000, { time: 1, ip: parseIp('198.51.100.0')!, reason: 'r', cause: 'other' });
    const tally = new AddressTally(CAUSE_COUNTERS);
    const byId = new CountsById(tally);
    byId.add(out.finish('nginx', 5001));
    tally.merge(byId.rows(0, addresses.rowsOut()));
    expect(tally.size).toBe(5000);
    const total = CAUSES.length;
    let sum = 0;
    for (let r = 0; r < tally.size; r++) sum += tally.count(r, total);
    expect(sum).toBe(5001);
    const first = rowsOf(tally).find(([ip]) => ip === '198.51.100.0')![1];
    expect([first[CAUSES.indexOf('eof')], first[CAUSES.indexOf('other')], first[total]]).toEqual([1, 1, 2]);
  });

  it('addressesById stays right past the ids it keeps, for old ids and for each writer apart', () => {
    const ipOf = addressesById();
    const words = (n: number) => [4, 0, 0, 0, (0xc6336400 + n) | 0] as const;
    for (let id = 0; id < 70_000; id++) expect(ipOf(0, id, ...words(id)).w3).toBe(words(id)[4]);
    // Long forgotten by the array: found by its words all the same.
    expect(ipOf(0, 5, ...words(5)).text).toBe('198.51.100.5');
    // Writer 1's id 5 is another address.
    expect(ipOf(1, 5, ...words(9)).text).toBe('198.51.100.9');
    expect(ipOf(0, 69_999, ...words(69_999))).toBe(ipOf(0, 69_999, ...words(69_999)));
  });
});
