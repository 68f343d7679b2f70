import type { MatchResult, Signature } from '../signatures/types.js';
import { MAX_LINE_BYTES } from '../sources/read-lines.js';

/** Bytes of whole lines, and the physical line after them (see readRegion). */
export interface Region {
  readonly buf: Buffer;
  /** The lines are buf[0, end): each ends with '\n', except a last one that ends the file. */
  readonly end: number;
  /** True when buf[end, buf.length) is the line after the region (already cut to MAX_LINE_BYTES); false at the end of the file. */
  readonly hasNext: boolean;
}

/**
 * Matches every line of a region, in order, with a stateless signature,
 * cutting and decoding lines as forEachLine does, each matched knowing the
 * physical line after it, which may lie just past the region. Calls
 * `onResult` with the line's index in the region; returns the number of lines.
 */
export function matchRegion(region: Region, sig: Signature, onResult: (index: number, r: Exclude<MatchResult, null>) => void): number {
  const { buf, end, hasNext } = region;
  let index = 0;
  let s = 0;
  let line: string | undefined;
  while (s < end) {
    const nl = lineEnd(buf, s, end);
    line ??= buf.toString('utf8', s, Math.min(nl, s + MAX_LINE_BYTES));
    const ns = nl + 1;
    let next: string | undefined;
    if (ns < end) next = buf.toString('utf8', ns, Math.min(lineEnd(buf, ns, end), ns + MAX_LINE_BYTES));
    else if (ns === end && hasNext) next = buf.toString('utf8', end, buf.length);
    const r = sig.match(line, next);
    if (r !== null) onResult(index, r);
    index++;
    s = ns;
    line = next;
  }
  return index;
}

/** Where the line starting at `s` ends: its '\n', or `end` for a last line without one. */
function lineEnd(buf: Buffer, s: number, end: number): number {
  const nl = buf.indexOf(10, s);
  return nl < 0 || nl >= end ? end : nl;
}
