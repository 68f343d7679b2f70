import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { JournaldSource, journalctlArgs, parseJournalLine } from '../../src/sources/journald.js';
import type { SourceBatch, SourceLogger } from '../../src/sources/types.js';

/** Real `journalctl -o json -t hysteria` output, recorded by ../fixtures/journald/record.sh. */
const FIXTURE = fileURLToPath(new URL('../fixtures/journald/hysteria.json', import.meta.url));
const recorded = readFileSync(FIXTURE, 'utf8').trimEnd().split('\n');
const cursors = recorded.map((l) => (JSON.parse(l) as { __CURSOR: string }).__CURSOR);

const quiet: SourceLogger = { warn: () => {}, info: () => {}, debug: () => {} };
const dirs: string[] = [];
const open: JournaldSource[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A stand-in for journalctl that serves the recorded entries the way the real
 * one does with --follow: everything after --after-cursor (or all with
 * --no-tail, none with --lines=0), then waits. It notes its arguments.
 */
function fakeJournalctl(): { command: string; argsFile: string } {
  return writeJournalctl(
    (argsFile) => `const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(argsFile)}, JSON.stringify(args) + '\\n');
const lines = fs.readFileSync(${JSON.stringify(FIXTURE)}, 'utf8').trimEnd().split('\\n');
const after = args.find((a) => a.startsWith('--after-cursor='));
let from = args.includes('--lines=0') ? lines.length : 0;
if (after) from = lines.findIndex((l) => JSON.parse(l).__CURSOR === after.slice('--after-cursor='.length)) + 1;
process.stdout.write(lines.slice(from).map((l) => l + '\\n').join(''));
if (args.includes('--follow')) setInterval(() => {}, 1000);
`,
  );
}

/** Writes an executable `journalctl` stand-in in a fresh folder; `body` is its script after `fs` is loaded. */
function writeJournalctl(body: (argsFile: string) => string): { command: string; argsFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-journal-'));
  dirs.push(dir);
  const command = join(dir, 'journalctl');
  const argsFile = join(dir, 'args');
  writeFileSync(command, `#!${process.execPath}\nconst fs = require('node:fs');\n${body(argsFile)}`);
  chmodSync(command, 0o755);
  return { command, argsFile };
}

async function pollUntil(src: JournaldSource, want: number): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  let n = 0;
  for (let i = 0; i < 500 && n < want; i++) {
    const b = src.poll();
    if (b) {
      out.push(b);
      n += b.lines.length;
    } else await new Promise((r) => setTimeout(r, 10));
  }
  return out;
}

describe('journald source', () => {
  it('builds journalctl arguments: filters, then resume after the cursor, or the start, or only new entries', () => {
    const o = { units: ['nginx.service'], identifiers: ['hysteria'], readFrom: 'end' as const };
    expect(journalctlArgs(o, null)).toEqual([
      '--follow', '--output=json', '--all', '--no-pager', '--quiet',
      '--unit=nginx.service', '--identifier=hysteria', '--lines=0',
    ]);
    expect(journalctlArgs({ ...o, readFrom: 'start' }, null).slice(-1)).toEqual(['--no-tail']);
    expect(journalctlArgs(o, 's=1;i=2').slice(-2)).toEqual(['--after-cursor=s=1;i=2', '--no-tail']);
  });

  it('reads messages and cursors from recorded journalctl -o json output, bytes included', () => {
    const entries = recorded.map(parseJournalLine);
    expect(entries.map((e) => e?.cursor)).toEqual(cursors);
    expect(entries[0]?.message).toBe('2026/11/22 02:00:00 http: TLS handshake error from 198.51.100.23:41822: EOF');
    // Not valid UTF-8: journald gives an array of bytes; the address part survives decoding.
    expect(entries[3]?.message).toMatch(/^2026\/11\/22 02:00:03 http: TLS handshake error from 198\.51\.100\.23:41826: EOF /);
    expect(parseJournalLine('not json')).toBeNull();
    expect(parseJournalLine('{"MESSAGE":"no cursor"}')).toBeNull();
    expect(parseJournalLine('{"MESSAGE":null,"__CURSOR":"c"}')).toEqual({ message: '', cursor: 'c' });
  });

  it('follows journalctl, checkpoints each batch at its last cursor, and resumes after a stored cursor', async () => {
    const fake = fakeJournalctl();
    const opts = { name: 'hy', units: [], identifiers: ['hysteria'], readFrom: 'start' as const, command: fake.command };
    const first = new JournaldSource({ ...opts, maxBatch: 3 }, null, quiet);
    open.push(first);
    const batches = await pollUntil(first, recorded.length);
    expect(batches.flatMap((b) => b.lines)).toHaveLength(recorded.length);
    expect(batches[0]!.lines).toHaveLength(3);
    expect(batches[0]!.checkpoints).toEqual([{ kind: 'cursor', cursor: cursors[2] }]);
    expect(batches.at(-1)!.checkpoints).toEqual([{ kind: 'cursor', cursor: cursors.at(-1) }]);
    first.close();

    // A restart with the cursor of the third entry gets exactly the two after it.
    const second = new JournaldSource(opts, cursors[2]!, quiet);
    open.push(second);
    const again = await pollUntil(second, 2);
    expect(again.flatMap((b) => b.lines)).toEqual([
      expect.stringContaining('198.51.100.23:41826'),
      expect.stringContaining('198.51.100.23:41830'),
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect(second.poll()).toBeNull();
    const calls = readFileSync(fake.argsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    expect(calls[1]).toContain(`--after-cursor=${cursors[2]}`);
  });

  it('without --follow (watch --once) reads what the journal holds and then ends', async () => {
    const fake = fakeJournalctl();
    const src = new JournaldSource(
      { name: 'hy', units: [], identifiers: ['hysteria'], readFrom: 'start', command: fake.command, follow: false },
      null,
      quiet,
    );
    open.push(src);
    const lines: string[] = [];
    for (let i = 0; i < 500 && !src.ended; i++) {
      lines.push(...(src.poll()?.lines ?? []));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(src.ended).toBe(true);
    expect(lines).toHaveLength(recorded.length);
    expect(readFileSync(fake.argsFile, 'utf8')).not.toContain('--follow');
  });

  it('drops a stored cursor journalctl refuses, and starts again without it', async () => {
    // Refuses any cursor the way journalctl does ("Failed to seek to cursor: Invalid argument", exit 1).
    const { command, argsFile } = writeJournalctl(
      (args) => `fs.appendFileSync(${JSON.stringify(args)}, JSON.stringify(process.argv.slice(2)) + '\\n');
if (process.argv.some((a) => a.startsWith('--after-cursor='))) { process.stderr.write('Failed to seek to cursor: Invalid argument\\n'); process.exit(1); }
setInterval(() => {}, 1000);
`,
    );
    const warnings: string[] = [];
    const src = new JournaldSource(
      { name: 'hy', units: [], identifiers: ['hysteria'], readFrom: 'end', command },
      'not-a-cursor',
      { ...quiet, warn: (m) => warnings.push(m) },
    );
    open.push(src);
    src.poll();
    let error: unknown = null;
    for (let i = 0; i < 300 && !error; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        src.poll();
      } catch (e) {
        error = e;
      }
    }
    expect(String(error)).toMatch(/Failed to seek to cursor/);
    expect(warnings).toEqual(['stored journal cursor is not usable, reading from the end of the journal']);
    src.poll(); // the daemon's retry
    const read = () => readFileSync(argsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    for (let i = 0; i < 300 && read().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const calls = read();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain('--lines=0');
    expect(calls[1]!.some((a) => a.startsWith('--after-cursor'))).toBe(false);
  });

  it('reports a missing journalctl as a clear error of this source', async () => {
    const src = new JournaldSource(
      { name: 'hy', units: ['x.service'], identifiers: [], readFrom: 'end', command: '/nonexistent/journalctl' },
      null,
      quiet,
    );
    open.push(src);
    expect(src.poll()).toBeNull();
    let error: unknown = null;
    for (let i = 0; i < 300 && !error; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        src.poll();
      } catch (e) {
        error = e;
      }
    }
    expect(String(error)).toMatch(/journalctl not found: install systemd's journalctl/);
  });
});
