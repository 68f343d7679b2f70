import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { warmUpCheck } from '../../src/cli/check-warmup.js';
import { PARALLEL_FROM, prestartedWorkers, ReplayWorkers } from '../../src/pipeline/parallel-read.js';

describe('check warm-up', () => {
  it('starts the workers only when an argument names a file big enough to be read in pieces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-warmup-'));
    const small = join(dir, 'small.log');
    writeFileSync(small, 'x\n');
    const big = join(dir, 'big.log');
    writeFileSync(big, '');
    truncateSync(big, PARALLEL_FROM); // sparse: the size is what counts
    const before = prestartedWorkers();
    warmUpCheck(['-c', small, '--format', 'nginx', small, join(dir, 'missing.log'), dir, '-']);
    expect(prestartedWorkers()).toBe(before);
    warmUpCheck(['--top', '0', big]);
    const started = prestartedWorkers() - before;
    expect(started).toBeGreaterThanOrEqual(1);
    // Taken by the next workers made with the default script.
    const taken = new ReplayWorkers('nginx', Date.now(), started);
    expect(prestartedWorkers()).toBe(before);
    await taken.close();
  });
});
