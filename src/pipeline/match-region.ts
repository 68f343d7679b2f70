import { isAscii } from 'node:buffer';
import { BYTES_DEFER, BYTES_FAILURE, BYTES_NONE, BYTES_UNTRUSTED, UNPARSABLE, UNTRUSTED, type ByteFailure, type Signature } from '../signatures/types.js';
import { MAX_LINE_BYTES } from '../sources/read-lines.js';
import type { RecordWriter } from './match-records.js';

/** Bytes of whole lines, and the physical line after them (see readRegion). */
export interface Region {
  readonly buf: Buffer;
  /** The lines are buf[0, end): each ends with '\n', except a last one that ends the file. */
  readonly end: number;
  /** True when buf[end, buf.length) is the line after the region (already cut to MAX_LINE_BYTES); false at the end of the file. */
  readonly hasNext: boolean;
}

/** Where matchBytes writes a failure (one: a worker matches one line at a time). */
const FOUND: ByteFailure = { time: null, family: 4, w0: 0, w1: 0, w2: 0, w3: 0, reason: '', cause: 'other' };

/**
 * Matches every line of a region, in order, with a stateless signature,
 * cutting and decoding lines as forEachLine does, each matched knowing the
 * physical line after it, which may lie just past the region. Writes what it
 * finds to `out` with the line's index in the region; returns the number of lines.
 *
 * A signature with a byte path reads whole ASCII lines in place (nearly every
 * line of a server's log), and only the lines it leaves are decoded.
 */
export function matchRegion(region: Region, sig: Signature, out: RecordWriter): number {
  const { buf, end, hasNext } = region;
  const bytes = sig.matchBytes;
  // On ASCII a byte is a character, so the byte path sees what the decoded line shows. One check for the region, usually.
  const allAscii = bytes !== undefined && isAscii(buf.subarray(0, end));
  let index = 0;
  let s = 0;
  let nl = end > 0 ? lineEnd(buf, 0, end) : end;
  let line: string | undefined;
  while (s < end) {
    const ns = nl + 1;
    const nextNl = ns < end ? lineEnd(buf, ns, end) : end;
    let nextStart = -1;
    let nextEnd = -1;
    if (ns < end) {
      nextStart = ns;
      nextEnd = Math.min(nextNl, ns + MAX_LINE_BYTES);
    } else if (ns === end && hasNext) {
      nextStart = end;
      nextEnd = buf.length;
    }
    const e = Math.min(nl, s + MAX_LINE_BYTES);
    // A line cut at MAX_LINE_BYTES goes the text way: the byte path may look at the byte after a line.
    let code = BYTES_DEFER;
    if (bytes !== undefined && e === nl && (allAscii || isAscii(buf.subarray(s, e)))) code = bytes(buf, s, e, nextStart, nextEnd, FOUND);
    if (code === BYTES_DEFER) {
      line ??= buf.toString('utf8', s, e);
      const next = nextStart >= 0 ? buf.toString('utf8', nextStart, nextEnd) : undefined;
      const r = sig.match(line, next);
      if (r !== null) out.add(index, r);
      line = next;
    } else {
      line = undefined;
      if (code === BYTES_FAILURE) out.addBytes(index, FOUND);
      else if (code !== BYTES_NONE) out.add(index, code === BYTES_UNTRUSTED ? UNTRUSTED : UNPARSABLE);
    }
    index++;
    s = ns;
    nl = nextNl;
  }
  return index;
}

/** Where the line starting at `s` ends: its '\n', or `end` for a last line without one. */
function lineEnd(buf: Buffer, s: number, end: number): number {
  const nl = buf.indexOf(10, s);
  return nl < 0 || nl >= end ? end : nl;
}
