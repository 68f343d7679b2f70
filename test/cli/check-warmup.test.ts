import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckArgs, takeEarlyStart, warmUpCheck } from '../../src/cli/check-warmup.js';
import type { Io } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/main.js';
import { PARALLEL_FROM, prestartedWorkers, ReplayWorkers } from '../../src/pipeline/parallel-read.js';

function files(): { dir: string; small: string; big: string } {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-warmup-'));
  const small = join(dir, 'small.log');
  writeFileSync(small, 'x\n');
  const big = join(dir, 'big.log');
  writeFileSync(big, '');
  truncateSync(big, PARALLEL_FROM); // sparse: the size is what counts
  return { dir, small, big };
}

describe('check warm-up', () => {
  it('starts the workers only when an argument names a file big enough to be read in pieces', async () => {
    const { dir, small, big } = files();
    const before = prestartedWorkers();
    await warmUpCheck(['-c', small, '--format', 'nginx', small, join(dir, 'missing.log'), dir, '-']);
    expect(prestartedWorkers()).toBe(before);
    expect(takeEarlyStart([small], { format: 'nginx' })).toBeNull();
    await warmUpCheck(['--top', '0', big]);
    const started = prestartedWorkers() - before;
    expect(started).toBeGreaterThanOrEqual(1);
    // No format on the command line: nothing is matched early.
    expect(takeEarlyStart([big], { format: 'auto' })).toBeNull();
    // Taken by the next workers made with the default script.
    const taken = new ReplayWorkers('nginx', Date.now(), started);
    expect(prestartedWorkers()).toBe(before);
    await taken.close();
  });

  it('with --format, starts matching the big file, for checkCommand to take with the same files and format only', async () => {
    const { small, big } = files();
    const t0 = Date.now();
    await warmUpCheck(['--format', 'go', '--json', small, big]);
    const early = takeEarlyStart([small, big], { format: 'go' });
    expect(early).not.toBeNull();
    expect(early!.now).toBeGreaterThanOrEqual(t0);
    // Taken once.
    expect(takeEarlyStart([small, big], { format: 'go' })).toBeNull();
    // The big file's first pieces were asked for: reading it delivers every piece (a sparse file: no line matches).
    let lines = 0;
    await early!.workers.reader(big, 4 << 20, 8).deliver((r) => void (lines += r.lines));
    expect(lines).toBeGreaterThan(0);
    await early!.workers.close();

    // A format that does not exist starts nothing early (commander reports it).
    await warmUpCheck(['--format', 'bogus', big]);
    expect(takeEarlyStart([big], { format: 'bogus' as 'go' })).toBeNull();

    for (const [files, spec] of [
      [[big], { format: 'go' }],
      [[small, big], { format: 'nginx' }],
      [[small, big], { format: 'regex', pattern: '^(?<ip>\\S+)' }],
    ] as const) {
      await warmUpCheck(['--format', 'go', small, big]);
      // Stopped, not handed on, when the command turns out otherwise.
      expect(takeEarlyStart(files, spec)).toBeNull();
    }
  });

  it("reads check's format and files as commander does, and gives up on anything it does not know", () => {
    expect(readCheckArgs(['-c', 'c.yaml', '--format', 'nginx', 'a.log', '--top=0', '-', '--json', 'b.log'])).toEqual({ format: 'nginx', files: ['a.log', '-', 'b.log'] });
    expect(readCheckArgs(['--format=go', '--', '--top', 'x.log'])).toEqual({ format: 'go', files: ['--top', 'x.log'] });
    expect(readCheckArgs(['a.log'])).toEqual({ files: ['a.log'] });
    expect(readCheckArgs(['--format'])).toBeNull();
    expect(readCheckArgs(['--verbose', 'a.log'])).toBeNull();
    expect(readCheckArgs(['-cconfig.yaml', 'a.log'])).toBeNull();
  });

  it("knows every option of check's command line: which take a value and which do not", () => {
    const io: Io = { out() {}, err() {} };
    const check = buildProgram(io, () => {}).commands.find((c) => c.name() === 'check')!;
    expect(check.options.length).toBeGreaterThan(3);
    for (const o of check.options) {
      const takesValue = o.required || o.optional;
      for (const name of [o.long, o.short].filter((n): n is string => n !== undefined)) {
        const args = takesValue ? [name, 'value', 'file.log'] : [name, 'file.log'];
        expect(readCheckArgs(args), name).toEqual(name === '--format' ? { format: 'value', files: ['file.log'] } : { files: ['file.log'] });
      }
    }
  });
});
