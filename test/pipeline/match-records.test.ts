import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/net/address.js';
import { wordsInterner } from '../../src/signatures/memo.js';
import { forEachRecord, RecordWriter } from '../../src/pipeline/match-records.js';
import { CAUSES } from '../../src/signatures/causes.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult } from '../../src/signatures/types.js';

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
    const back: [number, Exclude<MatchResult, null>][] = [];
    // Through a structured clone, as between threads.
    forEachRecord(structuredClone(records, { transfer: [records.buffer] }), wordsInterner(), (i, r) => back.push([i, r]));
    expect(back).toEqual(results);
    for (const [k, [, r]] of back.entries()) if ('unparsable' in r) expect(r).toBe(results[k]![1]);
  });
});
