import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FilePosition } from '../store/offsets.js';
import { FINGERPRINT_BYTES, fingerprintLength, fingerprintMatches, fingerprintOfBytes, readHead } from './fingerprint.js';
import { matchingPaths, pathPattern, type PathPattern } from './glob.js';
import type { Checkpoint, Source, SourceBatch, SourceLogger } from './types.js';

export interface FileSourceOptions {
  readonly name: string;
  /** A file, or a pattern in the file name (`/var/log/nginx/*error.log`). */
  readonly path: string;
  /** For a file found at start-up without a stored position: begin at its `end` or its `start`. */
  readonly readFrom: 'start' | 'end';
  /** A line longer than this is cut here and the rest skipped, so one huge line cannot stall or exhaust memory. */
  readonly maxLineBytes?: number;
  /** About the most bytes one poll reads (all files together), to keep each transaction short. */
  readonly chunkBytes?: number;
  /** A rotated file is read until it has not grown for this long (a writer may still hold it open). */
  readonly rotateGraceMs?: number;
  /** Longest time between two looks at the folder for new or renamed files, when no event says so. */
  readonly scanMs?: number;
  /** File-system events to wake the daemon (default true); polling alone still works without them. */
  readonly fsEvents?: boolean;
  readonly clock?: () => number;
}

const NEWLINE = 0x0a;

/** One file being read, known by its identity (device + inode), whatever its name is now. */
interface Tracked {
  path: string;
  readonly dev: number;
  readonly ino: number;
  fd: number;
  offset: number;
  /** The file's first bytes as last read: a change means it was truncated and rewritten. */
  head: Buffer;
  /** The fingerprint of `head`, kept with it: a hash per checkpoint, many a second, would cost more than the rest of the poll. */
  fingerprint: string;
  /** The last read cut a line that has not ended yet: skip up to its newline. */
  inOverlongLine: boolean;
  /** The path no longer names this file: read it to its end, then let it go. */
  rotated: boolean;
  lastSize: number;
  /** When the file last grew (or was rotated): a rotated file quiet for the grace time is done. */
  lastChange: number;
  /** Its position changed since the last checkpoint. */
  dirty: boolean;
}

const key = (dev: number, ino: number) => `${dev}:${ino}`;

/**
 * Follows the files one `file` source names: appends with low latency
 * (file-system events wake the daemon, polling is the fallback), rotation by
 * rename+create (the old file is finished first, also after a restart) and by
 * copytruncate (the copy is finished from where reading stopped, then the
 * truncated file is read again from the start), files that appear later, and
 * partial last lines (held until their newline).
 *
 * It is pulled: each poll returns complete lines and, per file, the position
 * after them, which the daemon saves in the same transaction as the failures.
 */
export class FileSource implements Source {
  private readonly files = new Map<string, Tracked>();
  private readonly pattern: PathPattern;
  private readonly maxLineBytes: number;
  private readonly chunkBytes: number;
  private readonly grace: number;
  private readonly scanMs: number;
  private readonly clock: () => number;
  private readonly buf: Buffer;
  /** Positions stored by an earlier run, by file identity; used at the first scan only. */
  private stored: Map<string, FilePosition> | null;
  private started = false;
  /** No position stored for this source at all: only then does `readFrom` apply. */
  private readonly firstRun: boolean;
  private lastScan = Number.NEGATIVE_INFINITY;
  private rescan = true;
  private waitingReported = false;
  private pendingDone: Checkpoint[] = [];
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;
  private _behind = false;
  private _cut = 0;

  constructor(
    readonly options: FileSourceOptions,
    stored: readonly FilePosition[],
    private readonly log: SourceLogger,
  ) {
    this.pattern = pathPattern(options.path);
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024;
    this.chunkBytes = options.chunkBytes ?? 1 << 20;
    this.grace = options.rotateGraceMs ?? 10_000;
    this.scanMs = options.scanMs ?? 1000;
    this.clock = options.clock ?? Date.now;
    this.buf = Buffer.alloc(Math.max(this.chunkBytes, this.maxLineBytes + 1));
    this.stored = new Map(stored.map((p) => [key(p.dev, p.ino), p]));
    this.firstRun = stored.length === 0;
  }

  get name(): string {
    return this.options.name;
  }
  get behind(): boolean {
    return this._behind;
  }
  get ended(): boolean {
    return false;
  }
  get cutLines(): number {
    return this._cut;
  }

  onActivity(wake: () => void): void {
    this.wake = wake;
    this.ensureWatcher();
  }

  poll(): SourceBatch | null {
    const now = this.clock();
    if (this.rescan || now - this.lastScan >= this.scanMs) this.scan(now);
    const lines: string[] = [];
    const checkpoints: Checkpoint[] = this.pendingDone;
    this.pendingDone = [];
    this._behind = false;
    let budget = this.chunkBytes;
    // Older lines first: rotated files before the live ones.
    const order = [...this.files.values()].sort((a, b) => Number(b.rotated) - Number(a.rotated));
    for (const f of order) {
      if (budget <= 0) {
        this._behind = true;
        break;
      }
      budget -= this.readFile(f, lines, now);
      if (f.rotated && f.offset >= f.lastSize && now - f.lastChange >= this.grace) {
        this.log.debug('finished rotated file', { source: this.name, path: f.path });
        this.forget(f);
        checkpoints.push({ kind: 'file-done', dev: f.dev, ino: f.ino });
      }
    }
    for (const f of this.files.values()) {
      if (!f.dirty) continue;
      checkpoints.push({ kind: 'file', position: this.positionOf(f) });
      f.dirty = false;
    }
    return lines.length || checkpoints.length ? { lines, checkpoints } : null;
  }

  close(): void {
    for (const f of this.files.values()) closeQuietly(f.fd);
    this.files.clear();
    this.watcher?.close();
    this.watcher = null;
  }

  /** The files being read, for tests and status. */
  tracked(): { path: string; offset: number; rotated: boolean }[] {
    return [...this.files.values()].map((f) => ({ path: f.path, offset: f.offset, rotated: f.rotated }));
  }

  private positionOf(f: Tracked): FilePosition {
    return { path: f.path, dev: f.dev, ino: f.ino, offset: f.offset, fingerprint: f.fingerprint };
  }

  private ensureWatcher(): void {
    if (this.options.fsEvents === false || !this.wake || this.watcher) return;
    const dir = this.pattern.dir;
    try {
      // One watch on the folder sees appends, renames and new files alike.
      this.watcher = watch(dir, { persistent: false }, (event) => {
        if (event === 'rename') this.rescan = true;
        this.wake?.();
      });
      this.watcher.on('error', () => {
        // The folder went away or the watch broke: polling carries on, the next scan tries again.
        this.watcher?.close();
        this.watcher = null;
        this.rescan = true;
      });
    } catch {
      this.watcher = null;
    }
  }

  /** Looks at which files the path names now: new ones are opened, ones renamed away are marked rotated. */
  private scan(now: number): void {
    this.lastScan = now;
    this.rescan = false;
    if (!this.watcher) this.ensureWatcher();
    const seen = new Set<string>();
    for (const path of matchingPaths(this.pattern)) {
      let st: Stats;
      try {
        st = statSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (!st.isFile()) continue;
      const k = key(st.dev, st.ino);
      seen.add(k);
      const known = this.files.get(k);
      if (known) {
        if (known.path !== path) {
          known.path = path;
          known.dirty = true;
        }
        known.rotated = false;
      } else {
        this.open(path, now);
      }
    }
    for (const [k, f] of this.files) {
      if (seen.has(k) || f.rotated) continue;
      f.rotated = true;
      f.lastChange = now;
      const moved = findByIdentity(dirname(f.path), f.dev, f.ino);
      this.log.debug('file was rotated, finishing the old one', {
        source: this.name,
        path: f.path,
        now: moved ?? '(deleted)',
      });
      if (moved && moved !== f.path) {
        f.path = moved;
        f.dirty = true;
      }
    }
    if (!this.started) this.resumeRotatedWhileStopped(now);
    this.started = true;
    if (this.files.size === 0 && !this.waitingReported) {
      this.log.warn(
        this.pattern.name ? 'no file matches yet, waiting for one' : 'log file does not exist yet, waiting for it',
        { source: this.name, path: this.pattern.text },
      );
      this.waitingReported = true;
    } else if (this.files.size > 0) {
      this.waitingReported = false;
    }
  }

  /**
   * Stored positions of files no longer at any matching path: files rotated
   * while the daemon was stopped. Finish each one still present beside its old
   * name; for one that is gone, say which lines could not be read.
   */
  private resumeRotatedWhileStopped(now: number): void {
    const stored = this.stored;
    this.stored = null;
    if (!stored) return;
    for (const [k, p] of stored) {
      if (this.files.has(k)) continue;
      const path = findByIdentity(dirname(p.path), p.dev, p.ino) ?? findByIdentity(this.pattern.dir, p.dev, p.ino);
      const f = path ? this.open(path, now, p, true) : null;
      if (f) {
        f.rotated = true;
        f.lastChange = now;
        this.log.debug('finishing a file rotated while stopped', { source: this.name, path, from: p.offset });
      } else {
        this.log.warn('a file rotated while stopped is gone: its unread end was not counted', {
          source: this.name,
          path: p.path,
          readUpTo: p.offset,
        });
        this.pendingDone.push({ kind: 'file-done', dev: p.dev, ino: p.ino });
      }
    }
  }

  /**
   * Opens a file to follow. Where to begin: its stored position when that is
   * still this file; otherwise `readFrom`, but only at the very first start of
   * the source (nothing stored for it at all). A file that appears while
   * running, or while stopped after an earlier run, is new: from its start.
   */
  private open(path: string, now: number, resume?: FilePosition, mustMatch = false): Tracked | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return null;
      throw new Error(`cannot open ${path}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`);
    }
    const st = fstatSync(fd);
    const k = key(st.dev, st.ino);
    const stored = resume ?? this.stored?.get(k);
    let offset: number;
    const matches = !!stored && stored.offset <= st.size && fingerprintMatches(fd, st.size, stored.fingerprint);
    if (mustMatch && !matches) {
      closeQuietly(fd);
      return null;
    }
    if (matches) {
      offset = stored!.offset;
    } else if (stored) {
      // Truncated (copytruncate) or replaced while stopped: all of it is new, and the
      // copy of what it held, if logrotate left one beside it, is finished first.
      offset = 0;
      if (!resume && this.finishCopy(stored, now)) {
        this.log.warn('file was truncated while stopped (copytruncate?): finishing its copy first', {
          source: this.name,
          path,
        });
      }
    } else if (!this.started && this.firstRun) {
      offset = this.options.readFrom === 'end' ? st.size : 0;
    } else {
      offset = 0;
    }
    const head = readHead(fd, FINGERPRINT_BYTES);
    const f: Tracked = {
      path,
      dev: st.dev,
      ino: st.ino,
      fd,
      offset,
      head,
      fingerprint: fingerprintOfBytes(head),
      inOverlongLine: false,
      rotated: false,
      lastSize: st.size,
      lastChange: now,
      dirty: true,
    };
    this.files.set(k, f);
    return f;
  }

  private forget(f: Tracked): void {
    closeQuietly(f.fd);
    this.files.delete(key(f.dev, f.ino));
  }

  /** Reads what is new in one file into `out`; returns the bytes read. */
  private readFile(f: Tracked, out: string[], now: number): number {
    const st = fstatSync(f.fd);
    if (st.size !== f.lastSize) f.lastChange = now;
    f.lastSize = st.size;
    if (st.size < f.offset || !this.headUnchanged(f, st.size)) {
      // With a copy to finish first, this file waits for the next poll, so lines stay in order.
      if (this.truncated(f, now)) {
        this._behind = true;
        return 0;
      }
    }
    if (f.head.length < FINGERPRINT_BYTES && st.size > f.head.length) {
      setHead(f, readHead(f.fd, FINGERPRINT_BYTES));
      f.dirty = true;
    }
    if (f.offset >= st.size) return 0;
    const n = readSync(f.fd, this.buf, 0, Math.min(this.buf.length, st.size - f.offset), f.offset);
    if (n <= 0) return 0;
    const last = this.buf.lastIndexOf(NEWLINE, n - 1);
    if (last < 0) {
      if (!f.inOverlongLine) {
        if (n <= this.maxLineBytes) {
          // No newline yet: wait for the writer. A rotated file that stopped growing
          // will never get one, so its last line is taken as it is.
          if (f.rotated && f.offset + n >= st.size && now - f.lastChange >= this.grace) {
            out.push(this.buf.toString('utf8', 0, n));
            f.offset += n;
            f.dirty = true;
          }
          return n;
        }
        this.cutWarning();
        out.push(this.buf.toString('utf8', 0, this.maxLineBytes));
        f.inOverlongLine = true;
      }
      f.offset += n;
    } else {
      let begin = 0;
      if (f.inOverlongLine) {
        begin = this.buf.indexOf(NEWLINE) + 1;
        f.inOverlongLine = false;
      }
      if (begin <= last) this.splitLines(begin, last, out);
      f.offset += last + 1;
    }
    f.dirty = true;
    // A full buffer means more was there than one read takes (the rest is not just a partial line).
    if (n === this.buf.length && f.offset < st.size) this._behind = true;
    return n;
  }

  private splitLines(begin: number, end: number, out: string[]): void {
    const text = this.buf.toString('utf8', begin, end);
    let i = 0;
    for (;;) {
      const nl = text.indexOf('\n', i);
      const stop = nl < 0 ? text.length : nl;
      if (stop - i > this.maxLineBytes) {
        this.cutWarning();
        out.push(text.slice(i, i + this.maxLineBytes));
      } else {
        out.push(text.slice(i, stop));
      }
      if (nl < 0) return;
      i = nl + 1;
    }
  }

  private cutWarning(): void {
    // One warning per source; the count goes into the daemon's summary.
    if (this._cut === 0) {
      this.log.warn('a line longer than maxLineBytes was cut (further cuts are only counted)', {
        source: this.name,
        limit: this.maxLineBytes,
      });
    }
    this._cut++;
  }

  private headUnchanged(f: Tracked, size: number): boolean {
    if (f.head.length === 0 || f.offset === 0) return true;
    const now = readHead(f.fd, Math.min(f.head.length, size));
    return now.length === f.head.length && now.equals(f.head);
  }

  /**
   * The file was truncated in place (copytruncate) and maybe written again.
   * logrotate copied it first: finish that copy from where reading stopped,
   * then read this file again from its start.
   */
  private truncated(f: Tracked, now: number): boolean {
    const copied = this.finishCopy(this.positionOf(f), now);
    this.log.warn('file was truncated (copytruncate?), reading it again from the start', {
      source: this.name,
      path: f.path,
      copy: copied ? 'finishing it first' : '(none found)',
    });
    f.offset = 0;
    f.inOverlongLine = false;
    setHead(f, readHead(f.fd, FINGERPRINT_BYTES));
    f.dirty = true;
    return copied;
  }

  /**
   * A sibling of `of` that starts with the same bytes (`fingerprint`) and is at
   * least as long as what was read: the copy logrotate made. The newest wins.
   */
  private findCopy(of: FilePosition): string | null {
    const dir = dirname(of.path);
    let best: { path: string; mtime: number } | null = null;
    for (const name of safeReaddir(dir)) {
      const path = join(dir, name);
      let st: Stats;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile() || st.size < of.offset || (st.dev === of.dev && st.ino === of.ino)) continue;
      if (this.files.has(key(st.dev, st.ino))) continue;
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        continue;
      }
      try {
        if (fingerprintMatches(fd, st.size, of.fingerprint) && (!best || st.mtimeMs > best.mtime)) {
          best = { path, mtime: st.mtimeMs };
        }
      } finally {
        closeQuietly(fd);
      }
    }
    return best?.path ?? null;
  }

  /** Follows the copy of a truncated file from where reading had stopped, as a rotated file. */
  private finishCopy(of: FilePosition, now: number): boolean {
    if (fingerprintLength(of.fingerprint) === 0) return false;
    const copy = this.findCopy(of);
    const c = copy ? this.open(copy, now, { ...of, path: copy }, true) : null;
    if (!c) return false;
    c.rotated = true;
    c.lastChange = now;
    return true;
  }
}

function setHead(f: Tracked, head: Buffer): void {
  f.head = head;
  f.fingerprint = fingerprintOfBytes(head);
}

/** The name in `dir` that is the file with this identity, if any. */
function findByIdentity(dir: string, dev: number, ino: number): string | null {
  for (const name of safeReaddir(dir)) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (st.ino === ino && st.dev === dev && st.isFile()) return path;
    } catch {
      // Vanished while looking: not it.
    }
  }
  return null;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}
