import { ipFromWords, type Ip } from '../net/address.js';
import { wordsInterner } from '../signatures/memo.js';
import { CAUSE_COUNTERS, type AddressTally, type TallyRows } from './address-tally.js';
import { causeIndex, CAUSES, type Cause } from '../signatures/causes.js';
import type { ByteFailure, MatchResult } from '../signatures/types.js';

/**
 * What a worker found in one piece of a file, in one transferable buffer:
 * per recognised line 40 bytes, as Float64 [time (NaN: none)] then Int32
 * [line index, kind | (IPv6 ? 4 : 0) | cause << 3, w0, w1, w2, w3, reason id,
 * address id], then room for more. Reasons go once each in a table of
 * their own: a log repeats a few. The address id is the address's row in the
 * tally of the writer that wrote the record (-1: it kept none), so the reader
 * can tell a known address without looking up its words.
 */
export interface MatchRecords {
  readonly format: string;
  /** Which writer wrote them (ReplayWorkers: the worker's number): the address ids are that writer's. */
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
  /**
   * `addresses`, when given, numbers the addresses: its rows are the address
   * ids of the records (it counts nothing; the reader counts by id, see
   * CountsById).
   */
  constructor(
    private readonly writer = 0,
    private readonly addresses?: AddressTally,
  ) {}

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

  /**
   * The address ids, looked up for all of the piece's failures in one loop
   * (in record order, so still numbered as first seen) rather than one per
   * line among the matching: there each lookup's cache misses cost 4–5 times
   * what they cost in a loop of lookups, where the table stays in cache and
   * the misses overlap.
   */
  private number(): void {
    const addresses = this.addresses;
    if (!addresses) return;
    const i32 = this.i32;
    for (let o = 0; o < this.count * STRIDE; o += STRIDE) {
      const flags = i32[o + 3]!;
      if ((flags & 3) !== FAILURE) continue;
      i32[o + 9] = addresses.row(flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!);
    }
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
    this.number();
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
 * (CAUSE_COUNTERS), by the address ids the records carry: an array index per
 * failure, where counting by the address's words costs a hash lookup. The
 * worker that matched the lines only numbered the addresses (its lookups
 * were a fifth of its time); the thread that reads the records has room for
 * the counting. Records without ids are counted by their words in `other`.
 */
export class CountsById {
  private readonly byWriter: Int32Array[] = [];

  constructor(private readonly other: AddressTally) {}

  add(records: MatchRecords): void {
    const counts = this.byWriter[records.writer] ?? new Int32Array(1024 * CAUSE_COUNTERS);
    this.byWriter[records.writer] = countById(new Int32Array(records.buffer, 0, records.count * STRIDE), counts, this.other);
  }

  /** A writer's addresses (rows as its AddressTally numbered them), with the counts made here. */
  rows(writer: number, addresses: TallyRows): TallyRows {
    const counts = new Int32Array(addresses.size * CAUSE_COUNTERS);
    const mine = this.byWriter[writer];
    if (mine) counts.set(mine.subarray(0, Math.min(mine.length, counts.length)));
    return { size: addresses.size, keys: addresses.keys, counts };
  }
}

/**
 * CountsById.add's loop, a function of its own: V8 compiled add() on the
 * stack in the middle of its first loop, before the lines after the loop had
 * ever run, and that code then gave up at its end on every later call.
 */
function countById(i32: Int32Array, counts: Int32Array, other: AddressTally): Int32Array {
  for (let o = 0; o < i32.length; o += STRIDE) {
    const flags = i32[o + 3]!;
    if ((flags & 3) !== FAILURE) continue;
    const cause = flags >> 3;
    const id = i32[o + 9]!;
    if (id < 0) {
      other.bump(flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!, cause, CAUSES.length);
      continue;
    }
    const base = id * CAUSE_COUNTERS;
    if (base >= counts.length) {
      const grown = new Int32Array(Math.max(counts.length * 2, base + CAUSE_COUNTERS));
      grown.set(counts);
      counts = grown;
    }
    counts[base + cause]!++;
    counts[base + CAUSES.length]!++;
  }
  return counts;
}

/** What forEachRecord hands on: a result as its parts, so that no object is made per line. */
export interface RecordVisitor {
  /** A failure; `time` null when the line had none of its own. */
  failure(index: number, time: number | null, ip: Ip, reason: string, cause: Cause): void;
  /** A line recognised but not used: its address is invalid, or it is not trusted to be the server's own. */
  unparsable(index: number, untrusted: boolean): void;
}

/** The Ip of an address of a record: by its writer's id for it, or by its words. */
export type AddressOf = (writer: number, id: number, family: 4 | 6, w0: number, w1: number, w2: number, w3: number) => Ip;

// As many as the interners keep (memo.ts): a busy log's working set.
const IPS_KEPT = 1 << 16;

/**
 * An AddressOf that makes each address's Ip once, from its words, and finds
 * it again by the writer's id (an array index, where a lookup by the words
 * costs a hash and several cache misses). Ids come in the order addresses
 * were first seen, so each writer's array covers the IPS_KEPT ids from a
 * base, and starts again from the newest id past that: bounded whatever the
 * log. Older ids, and records without ids, go to a wordsInterner; a new id
 * is a new address, so its Ip is made without asking one (a busy log's
 * first tens of thousands of addresses all come that way).
 */
export function addressesById(): AddressOf {
  let byWords: ReturnType<typeof wordsInterner> | undefined;
  const writers: { base: number; ips: Ip[] }[] = [];
  return (writer, id, family, w0, w1, w2, w3) => {
    const w = (writers[writer] ??= { base: 0, ips: [] });
    if (id < w.base) return (byWords ??= wordsInterner())(family, w0, w1, w2, w3);
    let at = id - w.base;
    const known = w.ips[at];
    if (known !== undefined) return known;
    if (at >= IPS_KEPT) {
      w.base = id;
      w.ips = [];
      at = 0;
    }
    // A writer numbers addresses as it first counts them, and its records come in that order: no holes.
    return (w.ips[at] = ipFromWords(family, w0, w1, w2, w3));
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
    const ip = ipOf(records.writer, i32[o + 9]!, flags & 4 ? 6 : 4, i32[o + 4]!, i32[o + 5]!, i32[o + 6]!, i32[o + 7]!);
    visit.failure(i32[o + 2]!, Number.isNaN(time) ? null : time, ip, reasons[i32[o + 8]!]!, CAUSES[flags >> 3]!);
  }
}
