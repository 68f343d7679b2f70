import { readSync } from 'node:fs';
import { MAX_LINE_BYTES } from './read-lines.js';

const WINDOW = 64 << 10;

/**
 * Splits the first `size` bytes of an open file into pieces of about
 * `chunkBytes` that start at line starts: each cut goes just after the first
 * '\n' at or after its nominal place. Returns the starts, then `size`; a line
 * longer than a piece makes its piece longer.
 */
export function lineChunks(fd: number, size: number, chunkBytes: number): number[] {
  const starts = [0];
  const window = Buffer.allocUnsafe(WINDOW);
  for (let p = chunkBytes; p < size; ) {
    // From p - 1, so that a piece whose last byte is '\n' is cut exactly at p.
    const nl = findNewline(fd, window, p - 1, size);
    if (nl < 0 || nl + 1 >= size) break;
    starts.push(nl + 1);
    p = nl + 1 + chunkBytes;
  }
  starts.push(size);
  return starts;
}

/** The position of the first '\n' at or after `from`, before `size`, or -1. */
function findNewline(fd: number, window: Buffer, from: number, size: number): number {
  for (let pos = from; pos < size; pos += WINDOW) {
    const n = readSync(fd, window, 0, Math.min(WINDOW, size - pos), pos);
    if (n <= 0) return -1;
    const i = window.indexOf(10);
    if (i >= 0 && i < n) return pos + i;
  }
  return -1;
}

/**
 * Reads the whole lines at [start, end) of an open file (`end` is a piece
 * start from lineChunks), then the line that starts at `end`, cut at
 * MAX_LINE_BYTES as every reader cuts it, so that the last line of the
 * piece is matched knowing the real next line. `size` is where the file ends
 * for this read. Reads into `scratch` when it is big enough; the result is
 * then a view of it, valid until the next read into it.
 */
export function readRegion(fd: number, start: number, end: number, size: number, scratch?: Buffer): { buf: Buffer; end: number; hasNext: boolean } {
  const len = end - start;
  // Pieces of megabytes one after another: reusing the caller's buffer keeps them from piling up until a GC.
  // A new one has room to spare, because pieces differ in length by up to a line: made to fit one
  // exactly, a fresh buffer (and its pages, faulted in as they are read into) was needed for every
  // longer piece, 5 of the bench log's 49, and that took twice as long as reading the whole file.
  let buf = scratch && scratch.length >= len + WINDOW ? scratch : Buffer.allocUnsafe(len + (len >> 3) + WINDOW);
  if (readFully(fd, buf, 0, len, start) < len) throw new Error('the file shrank while it was read');
  if (end >= size) return { buf: buf.subarray(0, len), end: len, hasNext: false };
  let have = len;
  for (;;) {
    const want = Math.min(WINDOW, size - (start + have), len + MAX_LINE_BYTES - have);
    if (want <= 0) break;
    if (have + want > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(len + MAX_LINE_BYTES, 2 * buf.length));
      buf.copy(grown, 0, 0, have);
      buf = grown;
    }
    const n = readFully(fd, buf, have, want, start + have);
    const nl = buf.indexOf(10, have);
    have += n;
    if ((nl >= 0 && nl < have) || n < want) {
      if (nl >= 0 && nl < have) have = nl;
      break;
    }
  }
  return { buf: buf.subarray(0, have), end: len, hasNext: true };
}

/** Reads `length` bytes at `position`, unless the file ends first; returns the bytes read. */
function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
