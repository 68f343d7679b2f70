import { execa, type ResultPromise } from 'execa';
import { LineQueue } from './line-queue.js';
import { LineSplitter } from './line-splitter.js';
import type { Source, SourceBatch, SourceLogger } from './types.js';

export interface JournaldSourceOptions {
  readonly name: string;
  /** systemd units (`journalctl --unit`). */
  readonly units: readonly string[];
  /** syslog identifiers (`journalctl --identifier`). */
  readonly identifiers: readonly string[];
  /** Without a stored cursor: only new entries (`end`) or everything the journal holds (`start`). */
  readonly readFrom: 'start' | 'end';
  readonly maxLineBytes?: number;
  /** The program to run; tests put a recorded one in its place. */
  readonly command?: string;
  readonly maxBatch?: number;
  /** False for `watch --once`: read what the journal holds now, then end. */
  readonly follow?: boolean;
}

export interface JournalEntry {
  readonly message: string;
  readonly cursor: string;
}

/** The journalctl arguments: follow as JSON, filtered, resumed after `cursor` when there is one. */
export function journalctlArgs(
  o: Pick<JournaldSourceOptions, 'units' | 'identifiers' | 'readFrom' | 'follow'>,
  cursor: string | null,
): string[] {
  const args = [...(o.follow === false ? [] : ['--follow']), '--output=json', '--all', '--no-pager', '--quiet'];
  for (const u of o.units) args.push(`--unit=${u}`);
  for (const t of o.identifiers) args.push(`--identifier=${t}`);
  if (cursor !== null) args.push(`--after-cursor=${cursor}`, '--no-tail');
  else if (o.readFrom === 'start') args.push('--no-tail');
  else args.push('--lines=0');
  return args;
}

/**
 * One line of `journalctl -o json`: the message and the entry's cursor. The
 * journal gives MESSAGE as a string, or as an array of bytes when it is not
 * valid UTF-8, or null when it is too large; anything unreadable yields null.
 */
export function parseJournalLine(line: string): JournalEntry | null {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null) return null;
  const { MESSAGE: m, __CURSOR: cursor } = doc as Record<string, unknown>;
  if (typeof cursor !== 'string' || cursor === '') return null;
  let message = '';
  if (typeof m === 'string') message = m;
  else if (Array.isArray(m) && m.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    message = Buffer.from(m as number[]).toString('utf8');
  }
  return { message, cursor };
}

/**
 * Follows journald through `journalctl --follow --output=json`. Every entry
 * carries its cursor; the daemon saves the cursor of the last entry it read
 * in the same transaction as the failures, and a restart resumes right after
 * it. When journalctl is missing or exits, the error surfaces at the next poll
 * (the daemon retries with backoff) and journalctl is started again after the
 * last entry received, so nothing is read twice or skipped.
 */
export class JournaldSource implements Source {
  private readonly queue: LineQueue<JournalEntry>;
  private readonly maxLineBytes: number;
  private readonly maxBatch: number;
  private proc: ResultPromise | null = null;
  private failure: Error | null = null;
  private cursor: string | null;
  private stderrTail = '';
  private wake: (() => void) | null = null;
  private closing = false;
  /** Without --follow: journalctl has printed everything and exited. */
  private finished = false;
  private unparsable = 0;
  private cut = 0;

  constructor(
    readonly options: JournaldSourceOptions,
    storedCursor: string | null,
    private readonly log: SourceLogger,
  ) {
    this.cursor = storedCursor;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.maxBatch = options.maxBatch ?? 10_000;
    this.queue = new LineQueue<JournalEntry>({
      pause: () => this.proc?.stdout?.pause(),
      resume: () => this.proc?.stdout?.resume(),
    });
  }

  get name(): string {
    return this.options.name;
  }
  get behind(): boolean {
    return this.queue.size > 0;
  }
  get ended(): boolean {
    return this.finished && this.queue.size === 0;
  }
  get cutLines(): number {
    return this.cut;
  }

  onActivity(wake: () => void): void {
    this.wake = wake;
  }

  poll(): SourceBatch | null {
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      throw err;
    }
    if (!this.proc && !this.finished) this.start();
    if (this.queue.size === 0) return null;
    const entries = this.queue.take(this.maxBatch);
    const lines = entries.map((e) => {
      if (Buffer.byteLength(e.message) <= this.maxLineBytes) return e.message;
      this.cut++;
      return Buffer.from(e.message).subarray(0, this.maxLineBytes).toString('utf8');
    });
    return { lines, checkpoints: [{ kind: 'cursor', cursor: entries[entries.length - 1]!.cursor }] };
  }

  close(): void {
    this.closing = true;
    this.proc?.kill('SIGTERM');
    this.proc = null;
  }

  private start(): void {
    // Resume after the last entry received, even if the daemon has not taken it yet.
    const after = this.queue.last()?.cursor ?? this.cursor;
    const args = journalctlArgs(this.options, after);
    this.stderrTail = '';
    const proc = execa(this.options.command ?? 'journalctl', args, {
      buffer: false,
      stdin: 'ignore',
      reject: false,
      // Kept from being a zombie or an orphan if the daemon dies.
      cleanup: true,
    });
    this.proc = proc;
    // Entries are JSON and may be large; the message itself is capped later.
    const splitter = new LineSplitter(Math.max(this.maxLineBytes * 4, 1 << 20), (line) => {
      const entry = parseJournalLine(line);
      if (!entry) {
        if (this.unparsable++ === 0) this.log.warn('journalctl printed a line that is not an entry; skipped', { source: this.name });
        return;
      }
      this.cursor = entry.cursor;
      this.queue.push(entry);
    });
    proc.stdout?.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      this.wake?.();
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    void proc.then((r) => {
      if (this.proc !== proc) return;
      this.proc = null;
      if (this.closing) return;
      if (this.options.follow === false && r.exitCode === 0) {
        this.finished = true;
        this.wake?.();
        return;
      }
      if (/seek to cursor/i.test(this.stderrTail) && this.queue.size === 0) {
        // A cursor journalctl cannot use (not one it wrote): starting over beats failing forever.
        this.log.warn('stored journal cursor is not usable, reading from the end of the journal', {
          source: this.name,
          cursor: this.cursor ?? '',
        });
        this.cursor = null;
      }
      const code = (r as { code?: string }).code;
      const message =
        code === 'ENOENT'
          ? `${this.options.command ?? 'journalctl'} not found: install systemd's journalctl, or read the service's log file with a file source`
          : `journalctl stopped (${r.exitCode !== undefined ? `exit ${r.exitCode}` : (r.signal ?? 'failed')})${
              this.stderrTail.trim() ? `: ${this.stderrTail.trim().split('\n').slice(-2).join(' / ')}` : ''
            }`;
      this.failure = new Error(message);
      this.wake?.();
    });
  }
}
