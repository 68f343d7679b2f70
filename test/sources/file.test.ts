import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSource, type FileSourceOptions } from '../../src/sources/file.js';
import { FINGERPRINT_BYTES, fingerprintOfBytes } from '../../src/sources/fingerprint.js';
import type { Checkpoint, SourceLogger } from '../../src/sources/types.js';
import type { FilePosition } from '../../src/store/offsets.js';

const dirs: string[] = [];
const sources: FileSource[] = [];
afterEach(() => {
  for (const s of sources.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'blocker-file-'));
  dirs.push(d);
  return d;
}

function recordingLog() {
  const lines: string[] = [];
  const log: SourceLogger = {
    warn: (m, f) => lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
    info: (m, f) => lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
    debug: (m, f) => lines.push(`debug ${m} ${JSON.stringify(f ?? {})}`),
  };
  return { log, lines };
}

/** The store's side of checkpoints, in memory: positions per file identity. */
class Positions {
  readonly rows = new Map<string, FilePosition>();
  apply(cps: readonly Checkpoint[]): void {
    for (const c of cps) {
      if (c.kind === 'file') this.rows.set(`${c.position.dev}:${c.position.ino}`, c.position);
      else if (c.kind === 'file-done') this.rows.delete(`${c.dev}:${c.ino}`);
    }
  }
  all(): FilePosition[] {
    return [...this.rows.values()];
  }
}

interface Harness {
  src: FileSource;
  positions: Positions;
  log: string[];
  clock: { now: number };
  /** Polls until nothing more comes; returns the lines in order. */
  drain(): string[];
}

function follow(options: Partial<FileSourceOptions> & { path: string }, stored: Positions = new Positions()): Harness {
  const clock = { now: 1_000_000 };
  const { log, lines } = recordingLog();
  const src = new FileSource(
    { name: 't', readFrom: 'start', fsEvents: false, scanMs: 0, rotateGraceMs: 1000, clock: () => clock.now, ...options },
    stored.all(),
    log,
  );
  sources.push(src);
  return {
    src,
    positions: stored,
    log: lines,
    clock,
    drain() {
      const out: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const b = src.poll();
        if (!b) break;
        out.push(...b.lines);
        stored.apply(b.checkpoints);
      }
      return out;
    },
  };
}

const numbered = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join('');

describe('FileSource', () => {
  it('begins at the end of a file found at start-up with readFrom end, at its start with readFrom start', () => {
    const dir = tempDir();
    const path = join(dir, 'a.log');
    writeFileSync(path, 'old 1\nold 2\n');
    const fromEnd = follow({ path, readFrom: 'end' });
    expect(fromEnd.drain()).toEqual([]);
    appendFileSync(path, 'new 1\n');
    expect(fromEnd.drain()).toEqual(['new 1']);
    const fromStart = follow({ path, readFrom: 'start' });
    expect(fromStart.drain()).toEqual(['old 1', 'old 2', 'new 1']);
  });

  it('waits for a missing file, then reads it from its start whatever readFrom says', () => {
    const dir = tempDir();
    const path = join(dir, 'later.log');
    const h = follow({ path, readFrom: 'end' });
    expect(h.drain()).toEqual([]);
    expect(h.log.filter((l) => l.includes('does not exist yet'))).toHaveLength(1);
    expect(h.drain()).toEqual([]);
    expect(h.log.filter((l) => l.includes('does not exist yet'))).toHaveLength(1);
    writeFileSync(path, 'first\nsecond\n');
    expect(h.drain()).toEqual(['first', 'second']);
  });

  it('holds a partial last line until its newline arrives', () => {
    const dir = tempDir();
    const path = join(dir, 'p.log');
    writeFileSync(path, 'one\ntw');
    const h = follow({ path });
    expect(h.drain()).toEqual(['one']);
    expect([...h.positions.rows.values()][0]!.offset).toBe(4);
    appendFileSync(path, 'o\nthr');
    expect(h.drain()).toEqual(['two']);
    appendFileSync(path, 'ee\n');
    expect(h.drain()).toEqual(['three']);
  });

  it('cuts lines longer than maxLineBytes, counts them, and reads on normally', () => {
    const dir = tempDir();
    const path = join(dir, 'long.log');
    const huge = 'x'.repeat(5000);
    writeFileSync(path, `a\n${huge}\nb\n${'y'.repeat(300)}`);
    const h = follow({ path, maxLineBytes: 256, chunkBytes: 1024 });
    expect(h.drain()).toEqual(['a', 'x'.repeat(256), 'b', 'y'.repeat(256)]);
    appendFileSync(path, 'yyyy\nc\n');
    expect(h.drain()).toEqual(['c']);
    expect(h.src.cutLines).toBe(2);
    expect(h.log.filter((l) => l.includes('longer than maxLineBytes'))).toHaveLength(1);
  });

  it('follows rename+create rotation while lines are written: the old file is finished, then the new one', () => {
    const dir = tempDir();
    const path = join(dir, 'error.log');
    writeFileSync(path, numbered('a', 0, 100));
    const h = follow({ path });
    const seen = h.drain();
    appendFileSync(path, numbered('a', 100, 150));
    renameSync(path, `${path}.1`);
    // The writer has not reopened yet: it still appends to the renamed file …
    appendFileSync(`${path}.1`, numbered('a', 150, 160));
    writeFileSync(path, numbered('b', 0, 20));
    seen.push(...h.drain());
    // … and a little more after the new file is there.
    appendFileSync(`${path}.1`, numbered('a', 160, 170));
    appendFileSync(path, numbered('b', 20, 30));
    seen.push(...h.drain());
    expect(h.src.tracked().find((t) => t.rotated)?.path).toBe(`${path}.1`);
    h.clock.now += 2000;
    seen.push(...h.drain());
    expect(h.src.tracked()).toEqual([{ path, offset: Buffer.byteLength(numbered('b', 0, 30)), rotated: false }]);
    const a = seen.filter((l) => l.startsWith('a '));
    const b = seen.filter((l) => l.startsWith('b '));
    expect(a).toEqual(numbered('a', 0, 170).trim().split('\n'));
    expect(b).toEqual(numbered('b', 0, 30).trim().split('\n'));
    // The finished file's position is forgotten; only the live file's remains.
    expect(h.positions.all().map((p) => p.path)).toEqual([path]);
  });

  it('follows copytruncate: finishes the copy from where it stopped, then rereads the truncated file', () => {
    const dir = tempDir();
    const path = join(dir, 'app.log');
    writeFileSync(path, numbered('line', 0, 50));
    const h = follow({ path });
    const seen = h.drain();
    appendFileSync(path, numbered('line', 50, 80));
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered('line', 80, 200));
    seen.push(...h.drain());
    h.clock.now += 2000;
    seen.push(...h.drain());
    expect(seen).toEqual(numbered('line', 0, 200).trim().split('\n'));
    expect(h.log.some((l) => l.includes('truncated'))).toBe(true);
  });

  it('stores the fingerprint of the head as it is now: a short file that grew, then one truncated and rewritten', () => {
    const dir = tempDir();
    const path = join(dir, 'short.log');
    writeFileSync(path, 'a 1\n');
    const first = follow({ path });
    expect(first.drain()).toEqual(['a 1']);
    const fingerprint = () => first.positions.all()[0]!.fingerprint;
    expect(fingerprint()).toBe(fingerprintOfBytes(Buffer.from('a 1\n')));
    appendFileSync(path, numbered('a', 2, 40));
    first.drain();
    expect(fingerprint()).toBe(fingerprintOfBytes(readFileSync(path).subarray(0, FINGERPRINT_BYTES)));
    truncateSync(path, 0);
    appendFileSync(path, numbered('b', 0, 40));
    expect(first.drain()).toEqual(numbered('b', 0, 40).trim().split('\n'));
    expect(fingerprint()).toBe(fingerprintOfBytes(readFileSync(path).subarray(0, FINGERPRINT_BYTES)));
    first.src.close();
    // The stored fingerprint is the file's: a restart resumes where it stopped, not from the start.
    appendFileSync(path, numbered('b', 40, 45));
    const second = follow({ path }, first.positions);
    expect(second.drain()).toEqual(numbered('b', 40, 45).trim().split('\n'));
  });

  it('resumes exactly after a restart mid-file', () => {
    const dir = tempDir();
    const path = join(dir, 'r.log');
    writeFileSync(path, numbered('l', 0, 10));
    const first = follow({ path, readFrom: 'end' });
    expect(first.drain()).toEqual([]);
    appendFileSync(path, numbered('l', 10, 15));
    expect(first.drain()).toEqual(numbered('l', 10, 15).trim().split('\n'));
    first.src.close();
    appendFileSync(path, numbered('l', 15, 20));
    // readFrom end does not apply: the stored position wins.
    const second = follow({ path, readFrom: 'end' }, first.positions);
    expect(second.drain()).toEqual(numbered('l', 15, 20).trim().split('\n'));
  });

  it('after a restart, finishes a file rotated while stopped before reading its successor', () => {
    const dir = tempDir();
    const path = join(dir, 'error.log');
    writeFileSync(path, numbered('old', 0, 10));
    const first = follow({ path });
    expect(first.drain()).toHaveLength(10);
    first.src.close();
    // While stopped: more lines, then logrotate (rename + create), then lines in the new file.
    appendFileSync(path, numbered('old', 10, 25));
    renameSync(path, `${path}.1`);
    writeFileSync(path, numbered('new', 0, 5));
    const second = follow({ path, readFrom: 'end' }, first.positions);
    const seen = second.drain();
    second.clock.now += 2000;
    seen.push(...second.drain());
    expect(seen).toEqual([...numbered('old', 10, 25).trim().split('\n'), ...numbered('new', 0, 5).trim().split('\n')]);
    expect(second.positions.all().map((p) => p.path)).toEqual([path]);
    expect(second.log.some((l) => l.includes('finishing a file rotated while stopped'))).toBe(true);
  });

  it('after a restart, finishes the copy of a file truncated while stopped (copytruncate), then reads it anew', () => {
    const dir = tempDir();
    const path = join(dir, 'app.log');
    writeFileSync(path, numbered('line', 0, 20));
    const first = follow({ path });
    expect(first.drain()).toHaveLength(20);
    first.src.close();
    appendFileSync(path, numbered('line', 20, 30));
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, numbered('line', 30, 100));
    const second = follow({ path, readFrom: 'end' }, first.positions);
    const seen = second.drain();
    second.clock.now += 2000;
    seen.push(...second.drain());
    expect(seen).toEqual(numbered('line', 20, 100).trim().split('\n'));
    expect(second.log.some((l) => l.includes('truncated while stopped'))).toBe(true);
    expect(second.positions.all().map((p) => p.path)).toEqual([path]);
  });

  it('after a restart, says so when the rotated file is gone, and reads the new one from its start', () => {
    const dir = tempDir();
    const path = join(dir, 'error.log');
    writeFileSync(path, numbered('old', 0, 10));
    const first = follow({ path });
    first.drain();
    first.src.close();
    rmSync(path);
    writeFileSync(path, `${'#'.repeat(70)}\n${numbered('new', 0, 3)}`);
    const second = follow({ path, readFrom: 'end' }, first.positions);
    expect(second.drain()).toEqual(['#'.repeat(70), 'new 0', 'new 1', 'new 2']);
    expect(second.positions.all()).toHaveLength(1);
  });

  it('tells a new file that reuses the inode of the old one by its first bytes', () => {
    const dir = tempDir();
    const path = join(dir, 'reuse.log');
    writeFileSync(path, 'AAAA first file line\n');
    const first = follow({ path });
    first.drain();
    first.src.close();
    // Same inode (truncated and rewritten while stopped), different content of about the same length.
    writeFileSync(path, 'BBBB other file line\nmore\n');
    const second = follow({ path, readFrom: 'end' }, first.positions);
    expect(second.drain()).toEqual(['BBBB other file line', 'more']);
  });

  it('follows every file a glob matches, including ones created later, but no compressed rotations', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-error.log'), 'a1\n');
    writeFileSync(join(dir, 'access.log'), 'not me\n');
    writeFileSync(join(dir, 'b-error.log.1'), 'not me either\n');
    const h = follow({ path: join(dir, '*-error.log'), readFrom: 'start' });
    expect(h.drain()).toEqual(['a1']);
    writeFileSync(join(dir, 'c-error.log'), 'c1\n');
    writeFileSync(join(dir, 'd-error.log.gz'), 'binary\n');
    appendFileSync(join(dir, 'a-error.log'), 'a2\n');
    expect(h.drain().sort()).toEqual(['a2', 'c1']);
    expect(h.positions.all().map((p) => p.path).sort()).toEqual([join(dir, 'a-error.log'), join(dir, 'c-error.log')]);
  });

  it('wakes its daemon on file-system events', async () => {
    const dir = tempDir();
    const path = join(dir, 'ev.log');
    writeFileSync(path, '');
    const { log } = recordingLog();
    const src = new FileSource({ name: 't', path, readFrom: 'end' }, [], log);
    sources.push(src);
    let woken = 0;
    src.onActivity(() => woken++);
    src.poll();
    appendFileSync(path, 'x\n');
    for (let i = 0; i < 50 && woken === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(woken).toBeGreaterThan(0);
    expect(src.poll()?.lines).toEqual(['x']);
  });
});
