import type { Readable } from 'node:stream';
import { LineQueue } from './line-queue.js';
import { LineSplitter } from './line-splitter.js';
import type { Source, SourceBatch, SourceLogger } from './types.js';

export interface StdinSourceOptions {
  readonly name: string;
  readonly maxLineBytes?: number;
  /** Most lines one poll returns. */
  readonly maxBatch?: number;
}

/**
 * Lines piped in (`docker logs -f`, `kubectl logs -f`, `tail -F`). A pipe
 * cannot be rewound, so there is no position to save: a restarted daemon reads
 * whatever the pipe gives it next.
 */
export class StdinSource implements Source {
  private readonly queue: LineQueue<string>;
  private readonly splitter: LineSplitter;
  private readonly maxBatch: number;
  private inputEnded = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly options: StdinSourceOptions,
    private readonly input: Readable,
    private readonly log: SourceLogger,
  ) {
    this.maxBatch = options.maxBatch ?? 10_000;
    this.queue = new LineQueue<string>({ pause: () => input.pause(), resume: () => input.resume() });
    this.splitter = new LineSplitter(options.maxLineBytes ?? 64 * 1024, (line) => this.queue.push(line));
    input.on('data', (chunk: Buffer | string) => {
      this.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.wake?.();
    });
    input.on('end', () => {
      this.splitter.end();
      this.inputEnded = true;
      this.log.info('stdin reached its end', { source: this.name });
      this.wake?.();
    });
    input.on('error', (err: Error) => {
      this.failure = err;
      this.inputEnded = true;
      this.wake?.();
    });
  }

  get name(): string {
    return this.options.name;
  }
  get behind(): boolean {
    return this.queue.size > 0;
  }
  get ended(): boolean {
    return this.inputEnded && this.queue.size === 0;
  }
  get cutLines(): number {
    return this.splitter.cut;
  }

  onActivity(wake: () => void): void {
    this.wake = wake;
  }

  poll(): SourceBatch | null {
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      throw new Error(`cannot read stdin: ${err.message}`);
    }
    if (this.queue.size === 0) return null;
    return { lines: this.queue.take(this.maxBatch), checkpoints: [] };
  }

  close(): void {
    this.input.pause();
  }
}
