import { describe, expect, it } from 'vitest';
import { nginxWorkerCheck } from '../../src/pipeline/nginx-workers.js';

describe('nginxWorkerCheck', () => {
  it('trusts only pids whose command is nginx, remembering answers for a few seconds', () => {
    const procs = new Map([[100, 'nginx'], [200, 'sshd']]);
    let reads = 0;
    let now = 0;
    const check = nginxWorkerCheck(
      (pid) => {
        reads++;
        const c = procs.get(pid);
        if (c === undefined) throw new Error('ENOENT');
        return c;
      },
      () => now,
    );
    expect([check(100), check(200), check(300)]).toEqual([true, false, false]);
    expect(check(100)).toBe(true);
    expect(reads).toBe(3);
    procs.delete(100);
    now += 10_000;
    expect(check(100)).toBe(false);
  });

  it('reads /proc for real: this process is not nginx', () => {
    expect(nginxWorkerCheck()(process.pid)).toBe(false);
  });
});
