import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { AutoSignature } from '../signatures/auto.js';
import { createSignature, type FormatName, type SignatureSpec } from '../signatures/index.js';
import type { Ip } from '../net/address.js';
import { causeIndex, CAUSES, type Cause } from '../signatures/causes.js';
import type { Signature } from '../signatures/types.js';
import { forEachLine } from '../sources/read-lines.js';
import { AddressTally, CAUSE_COUNTERS, RowsView, type TallyView } from './address-tally.js';
import { addressesById, CountsById, forEachRecord, type AddressOf, type RecordVisitor } from './match-records.js';
import { defaultWorkerCount, PARALLEL_FROM, readInPieces, ReplayWorkers } from './parallel-read.js';

/**
 * Where the reading half of a replay sends what it finds. A result comes as
 * its parts, not as an object: a big log has a million of them.
 */
export interface MatchSink {
  /** `n` more lines read, matched or not; counted before any result of theirs. */
  lines(n: number): void;
  /** A failure a signature recognised (`time` null: the line had none). */
  failure(format: string, time: number | null, ip: Ip, reason: string, cause: Cause): void;
  /** A line a signature recognised whose address is invalid, or that is not trusted to be the server's own. */
  unparsable(format: string, untrusted: boolean): void;
  /** Bytes read so far, over all files. */
  bytes?(total: number): void;
}

/** How files are read; the defaults suit `blocker check`, tests force each way. */
export interface ReadTuning {
  /** Every file line by line as a stream, in this thread: what stdin, .gz, small files, auto and stateful formats always get. */
  lineByLine: boolean;
  /**
   * Plain files from this size on are matched by workers; smaller ones line by line. Each worker
   * costs 0.1–0.2 CPU-seconds to start and warm up: at 16 MB two of them measured slower than one thread.
   */
  parallelFrom: number;
  workers: number;
  /** About how much of a file one worker matches at a time. */
  pieceBytes: number;
  /** Pieces asked of each worker before their results are used: room to run ahead of a busy reader. */
  ahead: number;
  /** The worker's compiled script (tests give one that fails). */
  workerScript?: URL;
}

export const DEFAULT_TUNING: ReadTuning = {
  lineByLine: false,
  parallelFrom: PARALLEL_FROM,
  // Measured on 2 cores, one worker beside the reading thread was as fast as two and held ~35 MB less.
  workers: defaultWorkerCount(),
  pieceBytes: 4 << 20,
  // Records take about 1 MB a piece; 2 left the worker idle whenever the policy had a slow stretch,
  // and 8 let it match the first 32 MB while check reads its config.
  ahead: 8,
};

/**
 * The reading half of `blocker check`: every file in order through a fresh
 * signature each (some remember earlier lines of their stream), each line
 * matched knowing the line after it, as the daemon does within a batch.
 *
 * A big plain file read with a stateless format is cut into pieces of whole
 * lines instead, matched by worker threads, and their results handed on
 * strictly in file order, so the sink sees exactly what reading it line by
 * line gives.
 *
 * Returns the bytes read and every failing address's failures per cause
 * (CAUSE_COUNTERS). The workers number the addresses of their pieces, and
 * their failures are counted here by those numbers (CountsById).
 */
export async function readMatches(
  files: readonly string[],
  spec: FormatName | SignatureSpec,
  now: number,
  sinkOrPromise: MatchSink | Promise<MatchSink>,
  opts: {
    stdin?: Readable | undefined;
    tuning?: Partial<ReadTuning>;
    /** Workers from startWorkers, for the same spec and `now` (closed here when done, like those made here). */
    workers?: ReplayWorkers | null;
  } = {},
): Promise<{ bytes: number; tally: TallyView }> {
  const tuning = { ...DEFAULT_TUNING, ...opts.tuning };
  const tally = new AddressTally(CAUSE_COUNTERS);
  // The workers' failures, counted here by the ids their records carry, and their addresses
  // found by them: a worker numbers addresses once for all the files it is given.
  const counts = new CountsById(tally);
  const ipOf = addressesById();
  let workers = opts.workers ?? null;
  // A sink still being made (check reads its config meanwhile): the first pieces are matched while it is.
  const sinkReady = Promise.resolve(sinkOrPromise);
  // Awaited below; until then its failure must not count as unhandled.
  sinkReady.catch(() => {});
  let sink: MatchSink | null = null;
  const sinkNow = async (): Promise<MatchSink> => (sink ??= await sinkReady);
  let bytesBefore = 0;
  try {
    for (const file of files) {
      const sig = createSignature(spec, { now });
      if (!byWorkers(file, sig, tuning)) bytesBefore += await lineByLine(file, sig, await sinkNow(), tally, bytesBefore, opts.stdin);
      else {
        workers ??= new ReplayWorkers(spec, now, tuning.workers, tuning.workerScript);
        bytesBefore += await inWorkers(workers, file, sinkNow, counts, ipOf, bytesBefore, tuning.pieceBytes, tuning.ahead * tuning.workers);
      }
    }
    if (workers) {
      const all = (await workers.addresses()).map((rows, writer) => counts.rows(writer, rows));
      // One worker matched every failure: its rows are the tally as they are.
      if (tally.size === 0 && all.length === 1) return { bytes: bytesBefore, tally: new RowsView(all[0]!, CAUSE_COUNTERS) };
      for (const rows of all) tally.merge(rows);
    }
  } finally {
    // Stopping a worker takes a few milliseconds: they pass while the caller makes its report.
    void workers?.close();
  }
  return { bytes: bytesBefore, tally };
}

/**
 * The workers readMatches will want for these files, started now (null when
 * every file will be read line by line), already matching the first pieces of
 * the first file they will read: a worker takes a tenth of a second to load,
 * and its first pieces (run before V8 has optimised anything) as much again,
 * which the caller can spend on other work meanwhile. Matching needs only the
 * spec and `now`; pass the workers to readMatches with the same ones.
 */
export function startWorkers(files: readonly string[], spec: FormatName | SignatureSpec, now: number, tune?: Partial<ReadTuning>): ReplayWorkers | null {
  const tuning = { ...DEFAULT_TUNING, ...tune };
  for (const file of files) {
    let workers: ReplayWorkers;
    try {
      if (!byWorkers(file, createSignature(spec, { now }), tuning)) continue;
      workers = new ReplayWorkers(spec, now, tuning.workers, tuning.workerScript);
    } catch {
      // readMatches says what is wrong with the file.
      continue;
    }
    try {
      workers.begin(file, tuning.pieceBytes, tuning.ahead * tuning.workers);
    } catch {
      // Nor is it begun: readMatches reads it afresh and says what is wrong with it.
    }
    return workers;
  }
  return null;
}

/**
 * Whether workers match the file in pieces: a plain file from `parallelFrom`
 * bytes on, which can be read at any offset, with a signature that needs no
 * line but the next. Throws when the file cannot be looked at.
 */
function byWorkers(file: string, sig: Signature, tuning: ReadTuning): boolean {
  if (tuning.lineByLine || file === '-' || file.endsWith('.gz') || sig.name === 'auto' || sig.stateful) return false;
  return plainFileSize(file) >= tuning.parallelFrom;
}

/** The size of a regular file, or -1 (a pipe or device is read as a stream, line by line). */
function plainFileSize(file: string): number {
  const st = statSync(file);
  return st.isFile() ? st.size : -1;
}

async function lineByLine(
  file: string,
  sig: Signature,
  sink: MatchSink,
  tally: AddressTally,
  bytesBefore: number,
  stdin: Readable | undefined,
): Promise<number> {
  const auto = sig.name === 'auto' ? (sig as AutoSignature) : null;
  let held: string | null = null;
  const take = (line: string, next: string | undefined): void => {
    const r = sig.match(line, next);
    if (r === null) return;
    const format = auto ? (auto.lastMatchedBy ?? 'auto') : sig.name;
    if ('unparsable' in r) sink.unparsable(format, r.untrusted === true);
    else {
      const ip = r.ip;
      tally.bump(ip.family, ip.w0, ip.w1, ip.w2, ip.w3, causeIndex(r.cause), CAUSES.length);
      sink.failure(format, r.time, ip, r.reason, r.cause);
    }
  };
  const onBytes = sink.bytes;
  const bytes = await forEachLine(
    file,
    (line) => {
      sink.lines(1);
      if (held !== null) take(held, line);
      held = line;
    },
    {
      ...(stdin ? { stdin } : {}),
      ...(onBytes ? { onBytes: (b: number) => onBytes(bytesBefore + b) } : {}),
    },
  );
  if (held !== null) take(held, undefined);
  return bytes;
}

async function inWorkers(
  workers: ReplayWorkers,
  file: string,
  sinkNow: () => Promise<MatchSink>,
  counts: CountsById,
  ipOf: AddressOf,
  bytesBefore: number,
  pieceBytes: number,
  ahead: number,
): Promise<number> {
  let sink!: MatchSink;
  const ready = sinkNow().then((s) => void (sink = s));
  let format = '';
  const visit: RecordVisitor = {
    failure: (_, time, ip, reason, cause) => sink.failure(format, time, ip, reason, cause),
    unparsable: (_, untrusted) => sink.unparsable(format, untrusted),
  };
  return readInPieces(workers, file, pieceBytes, ahead, (records, endOffset) => {
    format = records.format;
    sink.lines(records.lines);
    counts.add(records);
    forEachRecord(records, ipOf, visit);
    sink.bytes?.(bytesBefore + endOffset);
  }, ready);
}
