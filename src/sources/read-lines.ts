import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface ForEachLineOptions {
  /** Read instead of process.stdin when the path is '-'. */
  stdin?: Readable;
  /** Called after each chunk with the bytes read so far (compressed bytes for .gz). */
  onBytes?: (bytes: number) => void;
}

/**
 * Calls `onLine` for every line of a file ('-' is stdin; '.gz' is decompressed),
 * decoding a chunk at a time rather than a line at a time, which is what makes
 * offline replay fast. Resolves to the number of bytes read.
 */
export async function forEachLine(path: string, onLine: (line: string) => void, opts: ForEachLineOptions = {}): Promise<number> {
  const raw: Readable = path === '-' ? (opts.stdin ?? process.stdin) : createReadStream(path, { highWaterMark: 1 << 20 });
  const gz = path.endsWith('.gz');
  let bytes = 0;
  // pipe() reads with 'data' events anyway, so one more listener sees the compressed bytes.
  if (gz) raw.on('data', (chunk: Buffer) => void (bytes += chunk.length));
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  // A decoder keeps a multi-byte character split across two chunks whole; bytes that are
  // not UTF-8 become U+FFFD, never an error.
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (!gz) bytes += chunk.length;
    const text = carry + decoder.write(chunk);
    let i = 0;
    for (;;) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      onLine(text.slice(i, nl));
      i = nl + 1;
    }
    carry = text.slice(i);
    opts.onBytes?.(bytes);
  }
  carry += decoder.end();
  if (carry.length) onLine(carry);
  return bytes;
}
