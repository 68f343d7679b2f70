import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/net/address.js';
import { addressInterner, memo, memoParseIp } from '../../src/signatures/memo.js';

const tricky = [
  '0.0.0.0', '255.255.255.255', '203.0.113.9', '203.0.113.09', '203.0.113.256', '203.0.113', '1.2.3.4.5', '01.2.3.4', '1.2.3.', '.1.2.3',
  '1..2.3', '1.2.3.4 ', '１.2.3.4', '203.0.113.ı', '::ffff:198.51.100.2', '2001:DB8::1', '2001:db8::1', 'fe80::1%eth0', 'unknown', '', '9999.1.1.1',
  '128.0.0.1', '192.168.1.10', '::', '::1', '1::', '::ffff:c633:6402', '::FFFF:C633:6402', '::ffff:0:0', '0:0:0:0:0:ffff:1:2', '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', ':1::', '1:', ':1', ':::', '00001::',
  '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1.2.3.4', '::1.2.3.4', '1:0:0:1:0:0:1:1', '0:0:1:0:0:1:1:1',
];

describe('address memo', () => {
  it('answers exactly as parseIp, for the first and every later time, from a slice or in place', () => {
    const intern = addressInterner();
    const memoised = memoParseIp();
    for (let round = 0; round < 3; round++) {
      for (const t of tricky) {
        const line = `client: ${t}, server: x`;
        const want = parseIp(t);
        expect(intern(line, 8, 8 + t.length), t).toEqual(want);
        expect(memoised(t), t).toEqual(want);
      }
    }
  });

  it('gives the same object for the same address, and stays right past its growth', () => {
    const intern = addressInterner();
    const first = intern('198.51.100.7', 0, 12);
    // Through every growth up to just under its bound (65,536 addresses) …
    const many = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const t = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        expect(intern(t, 0, t.length)!.text).toBe(t);
      }
    };
    many(0, 60_000);
    expect(intern('198.51.100.7', 0, 12)).toBe(first);
    // … and past it, where it starts again: still right, only no longer the same object.
    many(60_000, 80_000);
    expect(intern('198.51.100.7', 0, 12)).toEqual(first);
  });

  it('reads IPv6 in place exactly as parseIp does, whatever the groups, gaps and case', () => {
    // Random strings over the characters of IPv6 text, built to hit the edges of the
    // grammar (group lengths, where and how often "::" is, group counts, mapped IPv4).
    let state = 0x1234567;
    const rand = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const valid = ['0', '0000', 'ffff', 'FFFF', 'c633', '6402', 'db8', '2001', '1', 'a'];
    const invalid = ['00000', 'abcde', 'g', '', '1.2.3.4', '0:0'];
    const group = () => (rand(8) ? valid[rand(valid.length)]! : invalid[rand(invalid.length)]!);
    const intern = addressInterner();
    let v6 = 0;
    for (let i = 0; i < 30_000; i++) {
      const gap = rand(3) === 0;
      const parts = Array.from({ length: rand(2) ? (gap ? 2 : 8) : 1 + rand(9) }, group);
      let t = parts.join(gap ? '::' : ':');
      if (rand(3) === 0) {
        const p = rand(t.length + 1);
        t = t.slice(0, p) + ['::', ':', '::ffff:', '%eth0', ':::'][rand(5)] + t.slice(p);
      }
      const want = parseIp(t);
      if (want?.family === 6) v6++;
      const line = `client: ${t}, server: x`;
      expect(intern(line, 8, 8 + t.length), t).toEqual(want);
      expect(intern(line, 8, 8 + t.length), t).toEqual(want);
    }
    expect(v6).toBeGreaterThan(5_000);
  });

  it('memo remembers recent answers and computes the rest', () => {
    let calls = 0;
    const f = memo((k: string) => (calls++, k.length), 2);
    expect([f('a'), f('bb'), f('a'), f('ccc'), f('bb')]).toEqual([1, 2, 1, 3, 2]);
    expect(calls).toBe(3);
    // 'ccc' took the oldest place, 'a''s: it is computed again.
    expect(f('a')).toBe(1);
    expect(calls).toBe(4);
  });
});
