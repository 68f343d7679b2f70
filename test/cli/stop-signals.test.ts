import { afterEach, describe, expect, it } from 'vitest';
import { catchStopSignals, onStopSignal } from '../../src/cli/stop-signals.js';

const releases: (() => void)[] = [];
afterEach(() => {
  for (const r of releases.splice(0)) r();
});

describe('stop signals', () => {
  it('remembers a SIGTERM caught before anyone claimed it and stops the claimer at once', () => {
    const before = process.listenerCount('SIGTERM');
    catchStopSignals();
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    let stops = 0;
    releases.push(onStopSignal(() => stops++));
    expect(stops).toBe(1);
    process.emit('SIGINT', 'SIGINT');
    expect(stops).toBe(2);
  });

  it('stops only at a signal when none came before, and gives the signals back when released', () => {
    const term = process.listenerCount('SIGTERM');
    const int = process.listenerCount('SIGINT');
    let stops = 0;
    const release = onStopSignal(() => stops++);
    expect(stops).toBe(0);
    process.emit('SIGTERM', 'SIGTERM');
    expect(stops).toBe(1);
    release();
    expect(process.listenerCount('SIGTERM')).toBe(term);
    expect(process.listenerCount('SIGINT')).toBe(int);
    // A signal caught by an earlier claimer does not stop the next one.
    let later = 0;
    releases.push(onStopSignal(() => later++));
    expect(later).toBe(0);
  });
});
