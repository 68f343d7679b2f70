import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/net/address.js';
import { wordsInterner } from '../../src/signatures/memo.js';
import { forEachRecord, RecordWriter, type MatchRecords } from '../../src/pipeline/match-records.js';
import { CAUSES } from '../../src/signatures/causes.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult } from '../../src/signatures/types.js';

/** The records' results as objects again, with their line indexes. */
function resultsOf(records: MatchRecords): [number, Exclude<MatchResult, null>][] {
  const got: [number, Exclude<MatchResult, null>][] = [];
  forEachRecord(records, wordsInterner(), {
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

  it('fill a buffer handed back when it is big enough, and start each piece afresh', () => {
    const out = new RecordWriter();
    const failure = (n: number): Exclude<MatchResult, null> => ({ time: n, ip: parseIp(`198.51.100.${n}`)!, reason: `r${n}`, cause: 'eof' });
    const read = resultsOf;
    for (let n = 1; n <= 3; n++) out.add(n, failure(n));
    const first = out.finish('go', 3);
    expect(read(first)).toEqual([1, 2, 3].map((n) => [n, failure(n)]));
    // Big enough, and holding the last piece's records: overwritten, the rest of it ignored.
    out.add(7, failure(9));
    const second = out.finish('go', 8, first.buffer);
    expect(second.buffer).toBe(first.buffer);
    expect(second.count).toBe(1);
    expect(second.reasons).toEqual(['r9']);
    expect(read(second)).toEqual([[7, failure(9)]]);
    // Too small: the records get a buffer of their own.
    for (let n = 1; n <= 5; n++) out.add(n, failure(n));
    const third = out.finish('go', 5, new ArrayBuffer(8));
    expect(third.buffer.byteLength).toBeGreaterThan(8);
    expect(read(third)).toEqual([1, 2, 3, 4, 5].map((n) => [n, failure(n)]));
  });
});
