import { describe, expect, it } from 'vitest';
import { isLoopback, parseListen } from '../../src/metrics/listen.js';

describe('metrics.listen', () => {
  it('reads host:port, [v6]:port and a bare port (loopback)', () => {
    expect(parseListen('127.0.0.1:9477')).toEqual({ host: '127.0.0.1', port: 9477 });
    expect(parseListen('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
    expect(parseListen('9477')).toEqual({ host: '127.0.0.1', port: 9477 });
    expect(parseListen('0.0.0.0:9477')).toEqual({ host: '0.0.0.0', port: 9477 });
  });

  it('explains what is wrong', () => {
    expect(parseListen('::1:9477')).toMatch(/expected host:port/);
    expect(parseListen('example.com:9477')).toMatch(/not an IP address/);
    expect(parseListen('127.0.0.1:70000')).toMatch(/port must be/);
    expect(parseListen(':9477')).toMatch(/expected host:port/);
  });

  it('knows loopback', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.0.2.1')).toBe(false);
  });
});
