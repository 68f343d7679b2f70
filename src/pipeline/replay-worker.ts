import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { createSignature, type FormatName, type SignatureSpec } from '../signatures/index.js';
import type { Signature } from '../signatures/types.js';
import { readRegion } from '../sources/line-chunks.js';
import { matchRegion } from './match-region.js';
import { AddressTally, type TallyRows } from './address-tally.js';
import { RecordWriter, type MatchRecords } from './match-records.js';
import { detachEarly } from './detach-early.js';

/** A piece of a file for a worker of parallel-read.ts; `end` and `size` as lineChunks and readRegion take them. */
export interface PieceTask {
  readonly seq: number;
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly size: number;
  /** A records buffer the reader is done with, to fill again (see RecordWriter.finish). */
  readonly reuse?: ArrayBuffer;
}

/** The first message to every worker: what it matches with, and its number among the workers. */
export interface InitTask {
  readonly init: { readonly spec: FormatName | SignatureSpec; readonly now: number; readonly index: number };
}

/** Asks for the addresses the worker has numbered, in the order of their ids (TallyRows without counters). */
export interface TallyTask {
  readonly seq: number;
  readonly tally: true;
}

export type PieceReply = { seq: number; records: MatchRecords } | { seq: number; tally: TallyRows } | { seq: number; error: string };

// Its records buffers are transferred: settled before the matching code is optimised.
detachEarly();
const port = parentPort!;
let scratch: Buffer | undefined;
// Numbers the addresses for the records (see CountsById): the reading thread finds each by its number.
const addresses = new AddressTally(0);
// Set by the first message: a worker may be started before anyone knows what it will match.
let sig: Signature;
let out: RecordWriter;

port.on('message', (task: InitTask | PieceTask | TallyTask) => {
  if ('init' in task) {
    // Stateless formats only (parallel-read.ts checks), so one signature serves every piece of every file.
    sig = createSignature(task.init.spec, { now: task.init.now });
    out = new RecordWriter(task.init.index, addresses);
    return;
  }
  if ('tally' in task) {
    const rows = addresses.rowsOut();
    port.postMessage({ seq: task.seq, tally: rows } satisfies PieceReply, [rows.keys.buffer as ArrayBuffer, rows.counts.buffer as ArrayBuffer]);
    return;
  }
  let reply: PieceReply;
  try {
    const fd = openSync(task.path, 'r');
    try {
      const region = readRegion(fd, task.start, task.end, task.size, scratch);
      // Kept for the next piece (the lines are decoded into strings of their own, so nothing points into it).
      if (region.buf.buffer !== scratch?.buffer) scratch = Buffer.from(region.buf.buffer, region.buf.byteOffset);
      const lines = matchRegion(region, sig, out);
      reply = { seq: task.seq, records: out.finish(sig.name, lines, task.reuse) };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    out.reset();
    reply = { seq: task.seq, error: `${task.path}: ${(err as Error).message}` };
  }
  port.postMessage(reply, 'records' in reply ? [reply.records.buffer] : []);
});
