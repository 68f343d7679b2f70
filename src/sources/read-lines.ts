import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** A longer line is cut here (its first part is given, the rest skipped), so memory stays bounded. */
export const MAX_LINE_BYTES = 1 << 20;

export interface ForEachLineOptions {
  /** Read instead of process.stdin when the path is '-'. */
  stdin?: Readable;
  /** Called after each chunk with the bytes read so far (compressed bytes for .gz). */
  onBytes?: (bytes: number) => void;
}

/**
 * Calls `onLine` for every line of a file ('-' is stdin; '.gz' is decompressed),
 * reading a megabyte at a time. Resolves to the number of bytes read.
 */
export async function forEachLine(path: string, onLine: (line: string) => void, opts: ForEachLineOptions = {}): Promise<number> {
  const raw: Readable = path === '-' ? (opts.stdin ?? process.stdin) : createReadStream(path, { highWaterMark: 1 << 20 });
  const gz = path.endsWith('.gz');
  let bytes = 0;
  // pipe() reads with 'data' events anyway, so one more listener sees the compressed bytes.
  if (gz) raw.on('data', (chunk: Buffer) => void (bytes += chunk.length));
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  // Lines are cut from the bytes and each decoded on its own: a flat string per line makes
  // the matching after it several times faster than slices of one big decoded chunk.
  // Bytes that are not UTF-8 become U+FFFD, never an error; a line is never split
  // inside a character, as only whole lines are decoded.
  let carry: Buffer | null = null;
  // After a line longer than MAX_LINE_BYTES: its first part was given, the rest is skipped.
  let skipping = false;
  for await (const data of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (!gz) bytes += chunk.length;
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
    let i = 0;
    if (skipping) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        opts.onBytes?.(bytes);
        continue;
      }
      skipping = false;
      i = nl + 1;
    }
    for (;;) {
      const nl = buf.indexOf(10, i);
      if (nl < 0) break;
      // Cut here too, not only in the carry: whether a line arrives whole in one read must not matter.
      onLine(buf.toString('utf8', i, Math.min(nl, i + MAX_LINE_BYTES)));
      i = nl + 1;
    }
    carry = i < buf.length ? Buffer.from(buf.subarray(i)) : null;
    if (carry && carry.length > MAX_LINE_BYTES) {
      onLine(carry.toString('utf8', 0, MAX_LINE_BYTES));
      carry = null;
      skipping = true;
    }
    opts.onBytes?.(bytes);
  }
  if (carry) onLine(carry.toString('utf8'));
  return bytes;
}
