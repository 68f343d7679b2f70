import { closeSync, fstatSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FormatName, SignatureSpec } from '../signatures/index.js';
import { lineChunks } from '../sources/line-chunks.js';
import type { MatchRecords } from './match-records.js';
import type { TallyRows } from './address-tally.js';
import type { InitTask, PieceReply, PieceTask, TallyTask } from './replay-worker.js';
import { detachEarly } from './detach-early.js';

/**
 * The compiled worker next to this module. Under vitest this module runs from
 * its .ts source, while a worker can only run the compiled file, which
 * `npm test` builds into dist/ first.
 */
export function replayWorkerScript(): URL {
  const here = new URL('./replay-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  return new URL(here.href.replace(/\/src\/pipeline\/replay-worker\.js$/, '/dist/src/pipeline/replay-worker.js'));
}

/**
 * A worker's short-lived objects (a string per line) need no more room than
 * this: with V8's default each worker held 30 MB more at its peak, for the
 * same CPU time (measured on 1M nginx lines: 250 → 196 MB for two workers).
 */
const YOUNG_GENERATION_MB = 8;

/** Files from this size on are matched by workers (see ReadTuning.parallelFrom). */
export const PARALLEL_FROM = 32 << 20;

/** One core is the reading thread's: it runs the policy on every failure while the workers match. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Workers started before anyone asked for them (prestartReplayWorkers), for ReplayWorkers to take. */
const warm: Worker[] = [];

function newWorker(script: URL): Worker {
  // Buffers go to and from every worker: settled now, before this thread's hot code is optimised.
  detachEarly();
  return new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
}

/**
 * Starts `count` workers of the default script now, for the next
 * ReplayWorkers to take: a worker takes a tenth of a second to load its
 * modules, which then overlaps the caller's own start. Workers never taken
 * do not keep the process alive; one that fails before it is taken is
 * dropped, and a new one started in its place.
 */
export function prestartReplayWorkers(count: number): void {
  for (let i = 0; i < count; i++) {
    const worker = newWorker(replayWorkerScript());
    worker.unref();
    const drop = () => {
      const at = warm.indexOf(worker);
      if (at >= 0) warm.splice(at, 1);
    };
    worker.once('error', drop);
    worker.once('exit', drop);
    warm.push(worker);
  }
}

/** How many prestarted workers wait to be taken. */
export function prestartedWorkers(): number {
  return warm.length;
}

interface Waiting {
  resolve: (r: MatchRecords | TallyRows) => void;
  reject: (e: Error) => void;
}

/**
 * Worker threads that match pieces of files with one stateless signature.
 * A worker that throws or exits fails every piece it holds and every later
 * one, with an error saying so: nothing waits for a reply that cannot come.
 */
export class ReplayWorkers {
  private readonly workers: { worker: Worker; waiting: Map<number, Waiting> }[] = [];
  private seq = 0;
  private broken: Error | null = null;
  private closing = false;
  private closed: Promise<void> = Promise.resolve();
  /** A file whose first pieces were asked for before its reader was wanted (begin). */
  private begun: PieceReader | null = null;

  constructor(spec: FormatName | SignatureSpec, now: number, count: number, script: URL = replayWorkerScript()) {
    const prestarted = script.href === replayWorkerScript().href;
    for (let i = 0; i < count; i++) {
      const worker = (prestarted ? warm.shift() : undefined) ?? newWorker(script);
      worker.ref();
      worker.postMessage({ init: { spec, now, index: i } } satisfies InitTask);
      const slot = { worker, waiting: new Map<number, Waiting>() };
      worker.on('message', (reply: PieceReply) => {
        const w = slot.waiting.get(reply.seq);
        if (!w) return;
        slot.waiting.delete(reply.seq);
        if ('error' in reply) w.reject(new Error(`reading ${reply.error}`));
        else w.resolve('tally' in reply ? reply.tally : reply.records);
      });
      worker.on('error', (err) => this.fail(slot.waiting, new Error(`a replay worker failed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(slot.waiting, new Error(`a replay worker stopped (exit code ${code}) before it had matched its part of the file`));
      });
      this.workers.push(slot);
    }
  }

  /**
   * Starts matching a file now, before anyone reads its records: `reader`
   * with the same file, piece size and lookahead takes it up from there.
   * Throws when the file cannot be read (as reader would).
   */
  begin(path: string, pieceBytes: number, ahead: number): void {
    this.begun = new PieceReader(this, path, pieceBytes, ahead);
  }

  /** The reader of a file: the one begun for it, or else a new one. */
  reader(path: string, pieceBytes: number, ahead: number): PieceReader {
    const b = this.begun;
    if (b && b.path === path && b.pieceBytes === pieceBytes && b.ahead === ahead) {
      this.begun = null;
      return b;
    }
    return new PieceReader(this, path, pieceBytes, ahead);
  }

  /** Matches one piece on the least busy worker. */
  match(task: Omit<PieceTask, 'seq'>): Promise<MatchRecords> {
    let slot = this.workers[0]!;
    for (const s of this.workers) if (s.waiting.size < slot.waiting.size) slot = s;
    const seq = this.seq++;
    return this.ask(slot, { ...task, seq }, task.reuse ? [task.reuse] : []) as Promise<MatchRecords>;
  }

  /**
   * Each worker's addresses so far (after every piece asked of it before), in
   * the order of the ids its records carry; in worker order, which is the
   * records' `writer`.
   */
  addresses(): Promise<TallyRows[]> {
    return Promise.all(this.workers.map((slot) => this.ask(slot, { seq: this.seq++, tally: true }, []) as Promise<TallyRows>));
  }

  private ask(slot: (typeof this.workers)[number], task: PieceTask | TallyTask, transfer: ArrayBuffer[]): Promise<MatchRecords | TallyRows> {
    if (this.broken) return Promise.reject(this.broken);
    // A closed worker never answers: nothing may wait for it.
    if (this.closing) return Promise.reject(new Error('the replay workers were closed'));
    return new Promise((resolve, reject) => {
      slot.waiting.set(task.seq, { resolve, reject });
      slot.worker.postMessage(task, transfer);
    });
  }

  /** Stops the workers (once, however often it is called). */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.closed = Promise.all(this.workers.map((s) => s.worker.terminate())).then(() => {});
    }
    return this.closed;
  }

  private fail(waiting: Map<number, Waiting>, err: Error): void {
    this.broken ??= err;
    for (const w of waiting.values()) w.reject(this.broken);
    waiting.clear();
    // The other workers' pieces come after a piece that will never arrive: fail them too.
    for (const s of this.workers) {
      for (const w of s.waiting.values()) w.reject(this.broken);
      s.waiting.clear();
    }
  }
}

/**
 * A file being matched in pieces of about `pieceBytes`, cut at line starts:
 * made, it asks the workers for the first `ahead` pieces at once; `deliver`
 * then hands each piece's records on strictly in file order. The file is
 * read up to its size when the reader was made.
 */
export class PieceReader {
  readonly size: number;
  private readonly starts: number[];
  private readonly pending: (Promise<MatchRecords> | undefined)[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private sent = 0;
  private delivering = false;

  constructor(
    private readonly workers: ReplayWorkers,
    readonly path: string,
    readonly pieceBytes: number,
    readonly ahead: number,
  ) {
    const fd = openSync(path, 'r');
    try {
      this.size = fstatSync(fd).size;
      this.starts = lineChunks(fd, this.size, pieceBytes);
    } finally {
      closeSync(fd);
    }
    this.ask(0);
  }

  /** Asks for the pieces up to `ahead` past piece k. */
  private ask(k: number): void {
    const pieces = this.starts.length - 1;
    while (this.sent < pieces && this.sent < k + this.ahead) {
      const i = this.sent++;
      const reuse = this.spare.pop();
      const p = this.workers.match({ path: this.path, start: this.starts[i]!, end: this.starts[i + 1]!, size: this.size, ...(reuse ? { reuse } : {}) });
      // Awaited in order by deliver; until then a failure must not count as unhandled.
      p.catch(() => {});
      this.pending[i] = p;
    }
  }

  /**
   * Gives each piece's records to `deliver` in file order, with the byte
   * offset where the piece ends; returns the file's size. The records are the
   * deliverer's only until it returns: their buffer then goes back to a
   * worker to be filled again. (Each piece's records in a buffer of their
   * own, dropped after use, held up to 38 MB of buffers awaiting collection
   * at once, 1M Go lines.)
   *
   * With `ready`, nothing is delivered before it has settled (the caller may
   * still be making its deliverer ready); if it rejects, so does this.
   */
  async deliver(deliver: (records: MatchRecords, endOffset: number) => void, ready?: Promise<unknown>): Promise<number> {
    if (this.delivering) throw new Error(`${this.path} is already being read`);
    this.delivering = true;
    const pieces = this.starts.length - 1;
    for (let k = 0; k < pieces; k++) {
      this.ask(k);
      if (k === 0 && ready) await ready;
      const records = await this.pending[k]!;
      this.pending[k] = undefined;
      deliver(records, this.starts[k + 1]!);
      this.spare.push(records.buffer);
    }
    return this.size;
  }
}

/** A PieceReader for the file, delivering as PieceReader.deliver does. */
export function readInPieces(
  workers: ReplayWorkers,
  path: string,
  pieceBytes: number,
  ahead: number,
  deliver: (records: MatchRecords, endOffset: number) => void,
  ready?: Promise<unknown>,
): Promise<number> {
  return workers.reader(path, pieceBytes, ahead).deliver(deliver, ready);
}
