import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { FilePosition } from '../store/offsets.js';
import { FINGERPRINT_BYTES, fingerprintLength, fingerprintMatches, fingerprintOf } from './fingerprint.js';
import type { LineBatch, SourceLogger } from './types.js';

export interface FileSourceOptions {
  readonly name: string;
  readonly path: string;
  readonly readFrom: 'start' | 'end';
  /** A line longer than this is cut here and the rest skipped, so one huge line cannot stall or exhaust memory. */
  readonly maxLineBytes?: number;
  /** Most bytes one poll reads, to keep each transaction short. */
  readonly chunkBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * Follows one log file by polling: each poll reads the complete lines appended
 * since the last one and returns them with the position after them. It keeps
 * no partial line in memory: the position stops at the last newline, and the
 * rest is read again next time. Rotation by rename+create and truncation are
 * noticed by inode and size.
 */
export class FileSource {
  private fd: number | null = null;
  private ino = 0;
  private dev = 0;
  private offset = 0;
  private fingerprint = '';
  private missingReported = false;
  /** The last poll cut a line that has not ended yet: skip up to its newline. */
  private inOverlongLine = false;
  private readonly maxLineBytes: number;
  private readonly buf: Buffer;

  constructor(
    readonly options: FileSourceOptions,
    private stored: FilePosition | null,
    private readonly log: SourceLogger,
  ) {
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.buf = Buffer.alloc(Math.max(options.chunkBytes ?? 1 << 20, this.maxLineBytes + 1));
  }

  get name(): string {
    return this.options.name;
  }

  /** Reads what is new; null when there is nothing (or the file is not there yet). */
  poll(): LineBatch | null {
    if (this.fd === null && !this.open()) return null;
    const onDisk = this.statPath();
    const current = fstatSync(this.fd!);
    if (current.size < this.offset) {
      this.log.warn('file shrank, reading it again from the start (copytruncate?)', {
        source: this.name,
        path: this.options.path,
      });
      this.offset = 0;
    }
    const batch = this.readLines(current.size);
    if (batch) return batch;
    // The old file is drained: if the path now names another file, move to it.
    if (onDisk && (onDisk.ino !== this.ino || onDisk.dev !== this.dev)) {
      this.log.info('file was rotated, following the new one', { source: this.name, path: this.options.path });
      this.closeFd();
      this.stored = null;
      if (this.open(true)) return this.readLines(fstatSync(this.fd!).size);
    }
    return null;
  }

  close(): void {
    this.closeFd();
  }

  private statPath(): Stats | null {
    try {
      return statSync(this.options.path);
    } catch {
      return null;
    }
  }

  private open(rotated = false): boolean {
    let fd: number;
    try {
      fd = openSync(this.options.path, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!this.missingReported) {
        this.log.warn(
          e.code === 'ENOENT' ? 'log file does not exist yet, waiting for it' : `cannot open log file: ${e.message}`,
          { source: this.name, path: this.options.path },
        );
        this.missingReported = true;
      }
      return false;
    }
    this.missingReported = false;
    const st = fstatSync(fd);
    this.fd = fd;
    this.ino = st.ino;
    this.dev = st.dev;
    this.fingerprint = fingerprintOf(fd, st.size);
    const s = this.stored;
    if (s && s.ino === st.ino && s.dev === st.dev && s.offset <= st.size && fingerprintMatches(fd, st.size, s.fingerprint)) {
      this.offset = s.offset;
    } else if (s || rotated) {
      // A stored position for another file (rotated while we were stopped), or a
      // file that appeared while running: all of it is new.
      this.offset = 0;
    } else {
      this.offset = this.options.readFrom === 'end' ? st.size : 0;
    }
    return true;
  }

  private readLines(size: number): LineBatch | null {
    if (this.offset >= size) return null;
    const want = Math.min(this.buf.length, size - this.offset);
    const n = readSync(this.fd!, this.buf, 0, want, this.offset);
    if (n <= 0) return null;
    const last = this.buf.lastIndexOf(NEWLINE, n - 1);
    const lines: string[] = [];
    if (last < 0) {
      if (!this.inOverlongLine) {
        // No newline yet: wait for the writer, unless the line is already too long.
        if (n <= this.maxLineBytes) return null;
        this.log.warn('line longer than the limit was cut', { source: this.name, limit: this.maxLineBytes });
        lines.push(this.buf.toString('utf8', 0, this.maxLineBytes));
        this.inOverlongLine = true;
      }
      this.offset += n;
    } else {
      let begin = 0;
      if (this.inOverlongLine) {
        begin = this.buf.indexOf(NEWLINE) + 1;
        this.inOverlongLine = false;
      }
      if (begin <= last) splitLines(this.buf.toString('utf8', begin, last), lines, this.maxLineBytes);
      this.offset += last + 1;
    }
    if (fingerprintLength(this.fingerprint) < FINGERPRINT_BYTES) this.fingerprint = fingerprintOf(this.fd!, size);
    return {
      lines,
      position: { path: this.options.path, dev: this.dev, ino: this.ino, offset: this.offset, fingerprint: this.fingerprint },
    };
  }

  private closeFd(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed: nothing to release.
      }
      this.fd = null;
    }
  }
}

function splitLines(text: string, out: string[], maxLen: number): void {
  let i = 0;
  for (;;) {
    const nl = text.indexOf('\n', i);
    const stop = nl < 0 ? text.length : nl;
    out.push(stop - i > maxLen ? text.slice(i, i + maxLen) : text.slice(i, stop));
    if (nl < 0) return;
    i = nl + 1;
  }
}
