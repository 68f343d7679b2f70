import { quadChar, quadEnd, quadNumber, quadStart } from '../net/dotted-quad.js';
import { isV4Mapped, plainV6Words } from '../net/v6.js';
import type { ByteFailure } from './types.js';

/*
 * What the signatures' byte paths (Signature.matchBytes) share: reading an
 * ASCII line in place in its read buffer. On ASCII a byte is a character, so
 * each helper answers exactly what its text counterpart answers on the
 * decoded line.
 */

/** An ASCII constant as bytes, to compare in place with bytesAt. */
export function asciiBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/** Whether `buf` holds `want` at `at`. */
export function bytesAt(buf: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let i = 0; i < want.length; i++) if (buf[at + i] !== want[i]) return false;
  return true;
}

/** Whether `want` occurs within buf[from…to). */
export function bytesWithin(buf: Uint8Array, from: number, to: number, want: Uint8Array): boolean {
  const first = want[0]!;
  for (let i = from; i + want.length <= to; i++) if (buf[i] === first && bytesAt(buf, i, want)) return true;
  return false;
}

export function isDigitByte(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

/** startsWithSlashedStamp (options.ts) for the line buf[s…e). */
export function slashedStampAt(buf: Uint8Array, s: number, e: number): boolean {
  return (
    e - s >= 19 &&
    buf[s + 4] === 47 &&
    buf[s + 7] === 47 &&
    buf[s + 10] === 32 &&
    buf[s + 13] === 58 &&
    buf[s + 16] === 58 &&
    isDigitByte(buf[s]) &&
    isDigitByte(buf[s + 3]) &&
    isDigitByte(buf[s + 18])
  );
}

/**
 * slashedStampAt for a line the caller has not checked for ASCII (the line
 * after the one being judged): the 19 bytes of the stamp must be ASCII too.
 * Decoded, "2\u00e96/11/22 …" starts with "2é6/1", which is no stamp, while
 * its bytes have digits and separators in every place slashedStampAt looks.
 */
export function asciiStampAt(buf: Uint8Array, s: number, e: number): boolean {
  if (!slashedStampAt(buf, s, e)) return false;
  for (let i = s; i < s + 19; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * The address at buf[from…to) as its words in `out`, read as addressInterner
 * (memo.ts) reads it: a strict dotted quad, or IPv6 in hex groups alone (with
 * ::ffff:a.b.c.d in hex folded to IPv4). False for every other form, valid or
 * not: the caller then leaves the line to the text path, which knows them all.
 */
export function addressWords(buf: Buffer, from: number, to: number, out: ByteFailure): boolean {
  const n = dottedQuadBytes(buf, from, to);
  if (quadOk) {
    setV4(out, n);
    return true;
  }
  // Rarer (a fifth of a busy log's addresses): read as text by the one IPv6 reader there is.
  if (to - from > 45 || !plainV6Words(buf.toString('latin1', from, to), 0, to - from, WORDS)) return false;
  const w0 = WORDS[0]!;
  const w1 = WORDS[1]!;
  const w2 = WORDS[2]!;
  if (isV4Mapped(w0, w1, w2)) setV4(out, WORDS[3]!);
  else {
    out.family = 6;
    out.w0 = w0;
    out.w1 = w1;
    out.w2 = w2;
    out.w3 = WORDS[3]!;
  }
  return true;
}

function setV4(out: ByteFailure, n: number): void {
  out.family = 4;
  out.w0 = 0;
  out.w1 = 0;
  out.w2 = 0;
  out.w3 = n;
}

const WORDS = new Int32Array(4);
let quadOk = false;

/** dottedQuad (memo.ts) on bytes: the strict dotted quad as a signed 32-bit number, quadOk telling whether it was one. */
function dottedQuadBytes(buf: Uint8Array, from: number, to: number): number {
  quadOk = false;
  if (!quadStart(to - from)) return 0;
  for (let i = from; i < to; i++) if (!quadChar(buf[i]!)) return 0;
  quadOk = quadEnd();
  return quadNumber();
}

/**
 * memoAt (memo.ts) for bytes of an ASCII line: the last few results of a
 * pure function of a text, found by comparing the bytes in place, so a hit
 * (nearly every line) makes no string. A miss decodes the key once.
 *
 * Keys are compared four bytes at a time, through a DataView of the buffer
 * (x86 reads them unaligned at no cost) against the key's copy as 32-bit
 * words: byte by byte, a nginx message of 60-90 bytes took ~235 ns to find,
 * a third of the matching time of its line.
 */
export class ByteMemo<T> {
  /** Each key's bytes as little-endian words, the last one padded with zeros. */
  private readonly keys: Uint32Array[] = [];
  private readonly lengths: number[] = [];
  private readonly values: T[] = [];
  private next = 0;
  private viewed: Uint8Array | null = null;
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(
    private readonly fn: (key: string) => T,
    private readonly size = 32,
  ) {}

  get(buf: Buffer, from: number, to: number): T {
    const len = to - from;
    const full = len >> 2;
    if (buf !== this.viewed) {
      this.viewed = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const view = this.view;
    const keys = this.keys;
    const lengths = this.lengths;
    // The bytes past the last whole word, as the key's last (padded) word holds them.
    let tail = 0;
    for (let j = len - 1; j >= full << 2; j--) tail = (tail << 8) | buf[from + j]!;
    tail >>>= 0;
    for (let i = 0; i < keys.length; i++) {
      if (lengths[i] !== len) continue;
      const k = keys[i]!;
      // That tail, then the words, from the end: the texts a server repeats differ most in their last words.
      if (full < k.length && tail !== k[full]) continue;
      let w = full - 1;
      while (w >= 0 && view.getUint32(from + (w << 2), true) === k[w]) w--;
      if (w < 0) return this.values[i]!;
    }
    const v = this.fn(buf.toString('latin1', from, to));
    // Replaced in turn once full, so memory stays bounded whatever the input.
    // A copy: the read buffer is filled again with the next piece.
    const words = new Uint32Array((len + 3) >> 2);
    new Uint8Array(words.buffer).set(buf.subarray(from, to));
    keys[this.next] = words;
    lengths[this.next] = len;
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.size;
    return v;
  }
}
