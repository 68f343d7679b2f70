import type { Readable } from 'node:stream';
import type { AutoSignature } from '../signatures/auto.js';
import { createSignature, type FormatName, type SignatureSpec } from '../signatures/index.js';
import type { MatchResult } from '../signatures/types.js';
import { forEachLine } from '../sources/read-lines.js';

/** Where the reading half of a replay sends what it finds. */
export interface MatchSink {
  /** Every line read, matched or not. */
  line(): void;
  /** A line a signature recognised: a failure, or an unparsable/untrusted one. */
  result(format: string, r: Exclude<MatchResult, null>): void;
  /** Bytes read so far, over all files. */
  bytes?(total: number): void;
}

/**
 * The reading half of `blocker check`: every file in order through a fresh
 * signature each (some remember earlier lines of their stream), each line
 * matched knowing the line after it, as the daemon does within a batch.
 */
export async function readMatches(
  files: readonly string[],
  spec: FormatName | SignatureSpec,
  now: number,
  sink: MatchSink,
  opts: { stdin?: Readable | undefined } = {},
): Promise<number> {
  let bytesBefore = 0;
  for (const file of files) {
    const sig = createSignature(spec, { now });
    const auto = sig.name === 'auto' ? (sig as AutoSignature) : null;
    let held: string | null = null;
    const take = (line: string, next: string | undefined): void => {
      const r = sig.match(line, next);
      if (r !== null) sink.result(auto ? (auto.lastMatchedBy ?? 'auto') : sig.name, r);
    };
    const onBytes = sink.bytes;
    bytesBefore += await forEachLine(
      file,
      (line) => {
        sink.line();
        if (held !== null) take(held, line);
        held = line;
      },
      {
        ...(opts.stdin ? { stdin: opts.stdin } : {}),
        ...(onBytes ? { onBytes: (b: number) => onBytes(bytesBefore + b) } : {}),
      },
    );
    if (held !== null) take(held, undefined);
  }
  return bytesBefore;
}
