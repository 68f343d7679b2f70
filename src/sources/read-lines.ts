import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * Calls `onLine` for every line of a file ('-' is stdin; '.gz' is decompressed),
 * decoding a chunk at a time rather than a line at a time, which is what makes
 * offline replay fast.
 */
export async function forEachLine(path: string, onLine: (line: string) => void, stdin?: Readable): Promise<void> {
  let stream: Readable = path === '-' ? (stdin ?? process.stdin) : createReadStream(path, { highWaterMark: 1 << 20 });
  if (path.endsWith('.gz')) stream = stream.pipe(createGunzip());
  // A decoder keeps a multi-byte character split across two chunks whole.
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = carry + decoder.write(chunk);
    let i = 0;
    for (;;) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      onLine(text.slice(i, nl));
      i = nl + 1;
    }
    carry = text.slice(i);
  }
  carry += decoder.end();
  if (carry.length) onLine(carry);
}
