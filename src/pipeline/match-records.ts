import type { Ip } from '../net/address.js';
import { CAUSES, type Cause } from '../signatures/causes.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult } from '../signatures/types.js';

/**
 * What a worker found in one piece of a file, in one transferable buffer:
 * per recognised line 40 bytes, as Float64 [time (NaN: none)] then Int32
 * [line index, kind | (IPv6 ? 4 : 0) | cause << 3, w0, w1, w2, w3, reason id, 0].
 * Reasons go once each in a table of their own: a log repeats a few.
 */
export interface MatchRecords {
  readonly format: string;
  readonly lines: number;
  readonly count: number;
  readonly buffer: ArrayBuffer;
  readonly reasons: string[];
}

const STRIDE = 10;
const FAILURE = 0;
const KIND_UNPARSABLE = 1;
const KIND_UNTRUSTED = 2;
const CAUSE_INDEX = new Map<Cause, number>(CAUSES.map((c, i) => [c, i]));

/** Collects one piece's results (in a worker) into MatchRecords. */
export class RecordWriter {
  private i32 = new Int32Array(STRIDE * 1024);
  private f64 = new Float64Array(this.i32.buffer);
  private count = 0;
  private readonly reasons: string[] = [];
  private readonly reasonIds = new Map<string, number>();

  add(index: number, r: Exclude<MatchResult, null>): void {
    if (this.count * STRIDE === this.i32.length) {
      const grown = new Int32Array(this.i32.length * 2);
      grown.set(this.i32);
      this.i32 = grown;
      this.f64 = new Float64Array(grown.buffer);
    }
    const o = this.count++ * STRIDE;
    this.i32[o + 2] = index;
    if ('unparsable' in r) {
      this.f64[o >> 1] = NaN;
      this.i32[o + 3] = r.untrusted ? KIND_UNTRUSTED : KIND_UNPARSABLE;
      return;
    }
    this.f64[o >> 1] = r.time ?? NaN;
    this.i32[o + 3] = FAILURE | (r.ip.family === 6 ? 4 : 0) | (CAUSE_INDEX.get(r.cause)! << 3);
    this.i32[o + 4] = r.ip.w0;
    this.i32[o + 5] = r.ip.w1;
    this.i32[o + 6] = r.ip.w2;
    this.i32[o + 7] = r.ip.w3;
    let id = this.reasonIds.get(r.reason);
    if (id === undefined) {
      id = this.reasons.length;
      this.reasons.push(r.reason);
      this.reasonIds.set(r.reason, id);
    }
    this.i32[o + 8] = id;
  }

  finish(format: string, lines: number): MatchRecords {
    return { format, lines, count: this.count, buffer: this.i32.buffer.slice(0, this.count * STRIDE * 4), reasons: this.reasons };
  }
}

/**
 * The results of MatchRecords in order, as the signature gave them: the same
 * UNPARSABLE/UNTRUSTED values, and each address as an Ip from `ipOf`.
 */
export function forEachRecord(
  records: MatchRecords,
  ipOf: (family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip,
  onResult: (index: number, r: Exclude<MatchResult, null>) => void,
): void {
  const i32 = new Int32Array(records.buffer);
  const f64 = new Float64Array(records.buffer);
  for (let k = 0; k < records.count; k++) {
    const o = k * STRIDE;
    const flags = i32[o + 3]!;
    const kind = flags & 3;
    if (kind !== FAILURE) {
      onResult(i32[o + 2]!, kind === KIND_UNTRUSTED ? UNTRUSTED : UNPARSABLE);
      continue;
    }
    const time = f64[o >> 1]!;
    onResult(i32[o + 2]!, {
      time: Number.isNaN(time) ? null : time,
      ip: ipOf(flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!),
      reason: records.reasons[i32[o + 8]!]!,
      cause: CAUSES[flags >> 3]!,
    });
  }
}
