import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLog } from '../../bench/logs.js';
import { parseIp } from '../../src/net/address.js';
import { addressWords, ByteMemo } from '../../src/signatures/bytes.js';
import { createSignature } from '../../src/signatures/index.js';
import { BYTES_DEFER, BYTES_FAILURE, type ByteFailure } from '../../src/signatures/types.js';

const found = (): ByteFailure => ({ time: null, family: 4, w0: 0, w1: 0, w2: 0, w3: 0, reason: '', cause: 'other' });

describe('byte helpers', () => {
  it('ByteMemo keeps copies of its keys: a buffer filled again gives no stale answer', () => {
    const calls: string[] = [];
    const memo = new ByteMemo((k) => (calls.push(k), k.toUpperCase()));
    const buf = Buffer.from('hello world');
    expect(memo.get(buf, 0, 5)).toBe('HELLO');
    expect(memo.get(buf, 0, 5)).toBe('HELLO');
    buf.write('jelly');
    expect(memo.get(buf, 0, 5)).toBe('JELLY');
    expect(calls).toEqual(['hello', 'jelly']);
  });

  it('ByteMemo answers for exactly its key, whatever the lengths, the bytes that differ and where the buffer starts', () => {
    let seed = 11;
    // The high bits of an LCG: its low bits repeat with a short period.
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    // Few letters and short keys: many keys share a length and most of their bytes.
    const keys = Array.from({ length: 60 }, () => Array.from({ length: rand(14) }, () => 'ab, '[rand(4)]).join(''));
    const memo = new ByteMemo((k) => `<${k}>`, 8);
    const backing = Buffer.alloc(4096);
    for (let t = 0; t < 20_000; t++) {
      const key = keys[rand(keys.length)]!;
      // A view at any offset of a larger buffer, sometimes a new one: as the read buffers are.
      const offset = rand(64);
      const buf = rand(50) === 0 ? Buffer.alloc(offset + 40) : backing.subarray(offset % 7);
      const at = rand(20);
      buf.fill(rand(256), 0, Math.min(buf.length, at + 40));
      buf.write(key, at, 'latin1');
      expect(memo.get(buf, at, at + key.length)).toBe(`<${key}>`);
    }
  });

  it('addressWords reads what parseIp reads, and refuses the forms it leaves to the text path', () => {
    const words = (s: string) => {
      const out = found();
      return addressWords(Buffer.from(`[${s}]`, 'latin1'), 1, s.length + 1, out) ? out : null;
    };
    for (const s of ['198.51.100.2', '255.255.255.255', '0.0.0.0', '2001:db8::1', '::ffff:c633:6402', '::', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff']) {
      const ip = parseIp(s)!;
      expect(words(s), s).toMatchObject({ family: ip.family, w0: ip.w0, w1: ip.w1, w2: ip.w2, w3: ip.w3 });
    }
    // Valid but of a form only parseIp reads, or invalid: the text path decides.
    for (const s of ['::ffff:198.51.100.2', 'fe80::1%eth0', '01.2.3.4', '203.0.113.256', 'unknown', '', '1'.repeat(46)]) expect(words(s), s).toBeNull();
  });
});

describe('go byte path, "read tcp A->B: …" reasons', () => {
  it('gives the cause and reason the text path gives, whatever the prefix looks like', () => {
    const sig = createSignature('go', { now: Date.UTC(2026, 10, 22) });
    const run = (n: number) => 'x'.repeat(Math.max(0, n - 1)) + ':';
    const reasons = [
      'read tcp 198.51.100.1:443->203.0.113.7:4000: read: connection reset by peer',
      'write tcp [2001:db8::1]:443->[2001:db8::2]:5000: write: broken pipe',
      'read udp 198.51.100.1:443->203.0.113.7:4000: i/o timeout',
      'read tcp 198.51.100.1:443->203.0.113.7:4000: read: connection reset by peer   ',
      'read tcp 198.51.100.1:443->203.0.113.7:4000:\tread: connection reset by peer',
      'read tcp 198.51.100.1:443->203.0.113.7:4000: ',
      'read tcp 198.51.100.1:443->203.0.113.7:4000:',
      'read tcp : EOF',
      'read tcp a: EOF',
      `read tcp ${run(121)} EOF`,
      `read tcp ${run(122)} EOF`,
      `read tcp ${run(120)} remote error: tls: bad certificate`,
      'read tcp\t198.51.100.1:443->203.0.113.7:4000: EOF',
      'reading tcp x: EOF',
      'read tcpx: EOF',
      'write  tcp x: EOF',
      'read tcp x\u0001y: unsupported SSLv2 handshake received',
      'read tcp x:y: no cipher suite supported by both client and server',
      'rEOF',
      'w',
    ];
    const head = '2026/11/22 01:02:03 http: TLS handshake error from 203.0.113.7:4000: ';
    const next = '2026/11/22 01:02:04 http: TLS handshake error from 203.0.113.8:4001: EOF';
    for (const reason of reasons) {
      const line = head + reason;
      const buf = Buffer.from(`${line}\n${next}\n`, 'latin1');
      const out = found();
      const code = sig.matchBytes!(buf, 0, line.length, line.length + 1, line.length + 1 + next.length, out);
      const text = sig.match(line, next);
      if (code === BYTES_DEFER) continue;
      expect(code, reason).toBe(BYTES_FAILURE);
      expect(text && !('unparsable' in text) ? { reason: text.reason, cause: text.cause } : text, reason).toEqual({ reason: out.reason, cause: out.cause });
    }
  });
});

describe('byte paths on a busy log', () => {
  // A regression of speed, not of results, would be a line of the common shapes left to the text path.
  it.each(['nginx', 'go'] as const)('%s: every line of the bench log is answered in place', (format) => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-bytes-'));
    const log = generateLog(join(dir, `${format}.log`), format, 20_000);
    const buf = readFileSync(log.path);
    const sig = createSignature(format, { now: Date.now() });
    let left = 0;
    let failures = 0;
    const out = found();
    for (let s = 0; s < buf.length; ) {
      const e = buf.indexOf(10, s);
      const ns = e + 1 < buf.length ? e + 1 : -1;
      const code = sig.matchBytes!(buf, s, e, ns, ns < 0 ? -1 : buf.indexOf(10, ns), out);
      if (code === BYTES_DEFER) left++;
      else if (code === BYTES_FAILURE) failures++;
      s = e + 1;
    }
    expect(left).toBe(0);
    expect(failures).toBe(log.failures);
  });
});
