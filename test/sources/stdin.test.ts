import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/sources/line-splitter.js';
import { StdinSource } from '../../src/sources/stdin.js';
import type { SourceLogger } from '../../src/sources/types.js';

const quiet: SourceLogger = { warn: () => {}, info: () => {}, debug: () => {} };
const tick = () => new Promise((r) => setImmediate(r));

describe('LineSplitter', () => {
  it('joins lines split across chunks, multi-byte characters included, and cuts overlong ones', () => {
    const lines: string[] = [];
    const s = new LineSplitter(8, (l) => lines.push(l));
    const euro = Buffer.from('€'); // 3 bytes
    s.push(Buffer.concat([Buffer.from('ab'), euro.subarray(0, 1)]));
    s.push(Buffer.concat([euro.subarray(1), Buffer.from('\nshort\n0123456789ab')]));
    s.push(Buffer.from('cdef\nok\ntail'));
    s.end();
    expect(lines).toEqual(['ab€', 'short', '01234567', 'ok', 'tail']);
    expect(s.cut).toBe(1);
  });
});

describe('stdin source', () => {
  it('passes piped lines on in order and ends when the pipe does', async () => {
    const input = new PassThrough();
    const src = new StdinSource({ name: 'pipe', maxBatch: 2 }, input, quiet);
    let woken = 0;
    src.onActivity(() => woken++);
    expect(src.poll()).toBeNull();
    input.write('one\ntwo\nthr');
    input.end('ee\n');
    await tick();
    expect(woken).toBeGreaterThan(0);
    expect(src.poll()).toEqual({ lines: ['one', 'two'], checkpoints: [] });
    expect(src.behind).toBe(true);
    expect(src.ended).toBe(false);
    expect(src.poll()).toEqual({ lines: ['three'], checkpoints: [] });
    await tick();
    expect(src.ended).toBe(true);
    expect(src.poll()).toBeNull();
  });

  it('pauses the pipe while too many lines wait, so a flood waits in the pipe and not in memory', async () => {
    const input = new PassThrough();
    const src = new StdinSource({ name: 'pipe', maxBatch: 50_000 }, input, quiet);
    input.write('x\n'.repeat(30_000));
    await tick();
    expect(input.isPaused()).toBe(true);
    expect(src.poll()?.lines).toHaveLength(30_000);
    expect(input.isPaused()).toBe(false);
  });
});
