import { describe, expect, it } from 'vitest';
import { batchWrites } from '../../src/cli/write-batch.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('batchWrites', () => {
  it('hands on what one turn of the event loop wrote as one write, in order', async () => {
    const writes: string[] = [];
    const b = batchWrites((t) => writes.push(t));
    b.write('info ban ip=198.51.100.1\n');
    b.write('info ban ip=198.51.100.2\n');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['info ban ip=198.51.100.1\ninfo ban ip=198.51.100.2\n']);
    b.write('info stopped\n');
    await turn();
    expect(writes).toEqual(['info ban ip=198.51.100.1\ninfo ban ip=198.51.100.2\n', 'info stopped\n']);
    b.close();
  });

  it('writes what is pending at once on flush and close, and nothing twice', async () => {
    const writes: string[] = [];
    const b = batchWrites((t) => writes.push(t));
    b.write('a\n');
    b.flush();
    expect(writes).toEqual(['a\n']);
    b.write('b\n');
    b.close();
    expect(writes).toEqual(['a\n', 'b\n']);
    await turn();
    expect(writes).toEqual(['a\n', 'b\n']);
  });

  it('writes what is still pending when the process exits', () => {
    const writes: string[] = [];
    const before = process.listeners('exit');
    const b = batchWrites((t) => writes.push(t));
    // The handler it left for the exit, called as Node would (emitting 'exit' here would end the test runner's own handlers too).
    const onExit = process.listeners('exit').filter((l) => !before.includes(l));
    expect(onExit.length).toBe(1);
    b.write('error last words\n');
    onExit[0]!(1);
    expect(writes).toEqual(['error last words\n']);
    b.close();
    expect(process.listeners('exit')).toEqual(before);
  });
});
