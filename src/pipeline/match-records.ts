import { ipFromWords, type Ip } from '../net/address.js';
import { wordsInterner } from '../signatures/memo.js';
import type { AddressTally } from './address-tally.js';
import { causeIndex, CAUSES, type Cause } from '../signatures/causes.js';
import type { ByteFailure, MatchResult } from '../signatures/types.js';

/**
 * What a worker found in one piece of a file, in one transferable buffer:
 * per recognised line 40 bytes, as Float64 [time (NaN: none)] then Int32
 * [line index, kind | (IPv6 ? 4 : 0) | cause << 3, w0, w1, w2, w3, reason id,
 * address id], then room for more. Reasons go once each in a table of
 * their own: a log repeats a few. The address id is -1 as the worker writes
 * it; the reading thread's RecordTally fills in the address's row in its
 * tally, by which forEachRecord finds the address's Ip without hashing its
 * words again.
 */
export interface MatchRecords {
  readonly format: string;
  /** Which writer wrote them (ReplayWorkers: the worker's number). */
  readonly writer: number;
  readonly lines: number;
  readonly count: number;
  /** The records, then unused room (the writer's whole buffer). */
  readonly buffer: ArrayBuffer;
  readonly reasons: string[];
}

const STRIDE = 10;
const FAILURE = 0;
const KIND_UNPARSABLE = 1;
const KIND_UNTRUSTED = 2;

/**
 * Collects one piece's results (in a worker) into MatchRecords. One writer
 * serves piece after piece (`reset`), so its buffer grows once, not per piece.
 */
export class RecordWriter {
  constructor(private readonly writer = 0) {}

  private i32 = new Int32Array(STRIDE * 1024);
  private f64 = new Float64Array(this.i32.buffer);
  private count = 0;
  // One array for the writer's life, emptied per piece (a new one per piece changed the field's type in V8's eyes, and its code was thrown away).
  private readonly reasons: string[] = [];
  private readonly reasonIds = new Map<string, number>();

  add(index: number, r: Exclude<MatchResult, null>): void {
    if ('unparsable' in r) {
      const o = this.row(index);
      this.f64[o >> 1] = NaN;
      this.i32[o + 3] = r.untrusted ? KIND_UNTRUSTED : KIND_UNPARSABLE;
      return;
    }
    const ip = r.ip;
    this.failure(index, r.time, ip.family, ip.w0, ip.w1, ip.w2, ip.w3, r.reason, r.cause);
  }

  /** A failure as a signature's byte path gave it (Signature.matchBytes). */
  addBytes(index: number, f: ByteFailure): void {
    this.failure(index, f.time, f.family, f.w0, f.w1, f.w2, f.w3, f.reason, f.cause);
  }

  private failure(index: number, time: number | null, family: 4 | 6, w0: number, w1: number, w2: number, w3: number, reason: string, cause: Cause): void {
    const o = this.row(index);
    const ci = causeIndex(cause);
    this.f64[o >> 1] = time ?? NaN;
    this.i32[o + 3] = FAILURE | (family === 6 ? 4 : 0) | (ci << 3);
    this.i32[o + 4] = w0;
    this.i32[o + 5] = w1;
    this.i32[o + 6] = w2;
    this.i32[o + 7] = w3;
    let id = this.reasonIds.get(reason);
    if (id === undefined) {
      id = this.reasons.length;
      this.reasons.push(reason);
      this.reasonIds.set(reason, id);
    }
    this.i32[o + 8] = id;
    this.i32[o + 9] = -1;
  }

  /** A new record for line `index`: where its numbers start in i32. */
  private row(index: number): number {
    if (this.count * STRIDE === this.i32.length) {
      const grown = new Int32Array(this.i32.length * 2);
      grown.set(this.i32);
      this.i32 = grown;
      this.f64 = new Float64Array(grown.buffer);
    }
    const o = this.count++ * STRIDE;
    this.i32[o + 2] = index;
    return o;
  }

  /**
   * The piece's records, in the buffer they were written into, which goes
   * with them; the writer goes on in `into` (a buffer the reader is done
   * with, handed back to be filled again) or else in a new one. Copying a
   * piece's megabyte of records into `into` instead was 1% of a worker's time.
   */
  finish(format: string, lines: number, into?: ArrayBuffer): MatchRecords {
    const records = { format, writer: this.writer, lines, count: this.count, buffer: this.i32.buffer as ArrayBuffer, reasons: this.reasons.slice() };
    this.i32 = into && into.byteLength >= 4 * STRIDE * 1024 ? new Int32Array(into) : new Int32Array(this.i32.length);
    this.f64 = new Float64Array(this.i32.buffer);
    this.reset();
    return records;
  }

  /** Forgets the records collected so far. */
  reset(): void {
    this.count = 0;
    this.reasons.length = 0;
    this.reasonIds.clear();
  }
}

/**
 * Every failure of MatchRecords counted per address and cause
 * (CAUSE_COUNTERS) into `tally`, by the address's words, and the address's
 * row in the tally written into the record as its address id: forEachRecord
 * then finds the Ip by that id (addressesById), an array index, where a
 * second lookup by the words would cost another hash and its cache misses.
 * (The workers numbered the addresses themselves before; they are the
 * busier thread, and that lookup was a seventh of their time.)
 */
export class RecordTally {
  constructor(readonly tally: AddressTally) {}

  add(records: MatchRecords): void {
    countRecords(new Int32Array(records.buffer, 0, records.count * STRIDE), this.tally);
  }
}

/**
 * RecordTally.add's loop, a function of its own: V8 compiled add() on the
 * stack in the middle of its first loop, before the lines after the loop had
 * ever run, and that code then gave up at its end on every later call.
 */
function countRecords(i32: Int32Array, tally: AddressTally): void {
  for (let o = 0; o < i32.length; o += STRIDE) {
    const flags = i32[o + 3]!;
    if ((flags & 3) !== FAILURE) continue;
    i32[o + 9] = tally.bump(flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!, flags >> 3, CAUSES.length);
  }
}

/** What forEachRecord hands on: a result as its parts, so that no object is made per line. */
export interface RecordVisitor {
  /** A failure; `time` null when the line had none of its own. */
  failure(index: number, time: number | null, ip: Ip, reason: string, cause: Cause): void;
  /** A line recognised but not used: its address is invalid, or it is not trusted to be the server's own. */
  unparsable(index: number, untrusted: boolean): void;
}

/** The Ip of an address of a record: by its id (RecordTally), or by its words when it has none (-1). */
export type AddressOf = (id: number, family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip;

// As many as the interners keep (memo.ts): a busy log's working set.
const IPS_KEPT = 1 << 16;

/**
 * An AddressOf that makes each address's Ip once, from its words, and finds
 * it again by its id (an array index, where a lookup by the words costs a
 * hash and several cache misses). Ids are rows of a tally that never removes
 * one, so they come in about the order addresses were first seen: the array
 * covers the IPS_KEPT ids from a base, and starts again from the newest id
 * past that, bounded whatever the log. Older ids, and records without ids, go to a
 * wordsInterner; a new id is a new address, so its Ip is made without asking
 * one (a busy log's first tens of thousands of addresses all come that way).
 */
export function addressesById(): AddressOf {
  let byWords: ReturnType<typeof wordsInterner> | undefined;
  let base = 0;
  let ips: Ip[] = [];
  return (id, family, w0, w1, w2, w3) => {
    if (id < base) return (byWords ??= wordsInterner())(family, w0, w1, w2, w3);
    let at = id - base;
    const known = ips[at];
    if (known !== undefined) return known;
    if (at >= IPS_KEPT) {
      base = id;
      ips = [];
      at = 0;
    }
    return (ips[at] = ipFromWords(family, w0, w1, w2, w3));
  };
}

/** The results of MatchRecords in order, as the signature gave them, each address as an Ip from `ipOf`. */
export function forEachRecord(records: MatchRecords, ipOf: AddressOf, visit: RecordVisitor): void {
  const i32 = new Int32Array(records.buffer);
  const f64 = new Float64Array(records.buffer);
  const reasons = records.reasons;
  for (let k = 0; k < records.count; k++) {
    const o = k * STRIDE;
    const flags = i32[o + 3]!;
    const kind = flags & 3;
    if (kind !== FAILURE) {
      visit.unparsable(i32[o + 2]!, kind === KIND_UNTRUSTED);
      continue;
    }
    const time = f64[o >> 1]!;
    const ip = ipOf(i32[o + 9]!, flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!);
    visit.failure(i32[o + 2]!, Number.isNaN(time) ? null : time, ip, reasons[i32[o + 8]!]!, CAUSES[flags >> 3]!);
  }
}
