import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forEachLine, MAX_LINE_BYTES } from '../../src/sources/read-lines.js';

async function lines(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  await forEachLine('-', (l) => out.push(l), { stdin: Readable.from(chunks) });
  return out;
}

describe('forEachLine', () => {
  it('cuts a line longer than MAX_LINE_BYTES the same whether it arrives in one read or in many', async () => {
    const text = Buffer.from(`short\n${'x'.repeat(MAX_LINE_BYTES + 10)}\nafter\n${'y'.repeat(MAX_LINE_BYTES + 1)}`);
    const whole = await lines([text]);
    expect(whole.map((l) => l.length)).toEqual([5, MAX_LINE_BYTES, 5, MAX_LINE_BYTES]);
    const split: Buffer[] = [];
    for (let i = 0; i < text.length; i += 300_001) split.push(text.subarray(i, i + 300_001));
    expect(await lines(split)).toEqual(whole);
  });

  it('decodes each line on its own: a character split by reads is whole, bytes that are not UTF-8 are U+FFFD', async () => {
    const text = Buffer.from('caf\u00e9\n\xff\n', 'latin1');
    const utf8 = Buffer.concat([Buffer.from('caf'), Buffer.from([0xc3]), Buffer.from([0xa9, 0x0a, 0xff, 0x0a])]);
    expect(await lines([utf8.subarray(0, 4), utf8.subarray(4)])).toEqual(['caf\u00e9', '\ufffd']);
    expect(await lines([text])).toEqual(['caf\ufffd', '\ufffd']);
  });
});
