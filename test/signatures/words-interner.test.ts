import { describe, expect, it } from 'vitest';
import { parseIp, type Ip } from '../../src/net/address.js';
import { wordsInterner } from '../../src/signatures/memo.js';

const words = (ip: Ip) => [ip.family, ip.w0, ip.w1, ip.w2, ip.w3] as const;

describe('wordsInterner', () => {
  it('gives the Ip parseIp gives, also for the forms a server may write (embedded IPv4, upper case, mapped)', () => {
    const ipOf = wordsInterner();
    for (const text of ['198.51.100.7', '0.0.0.0', '255.255.255.255', '::', '::1', '1::', '::1.2.3.4', '64:ff9b::1.2.3.4', '::ffff:198.51.100.7', 'FE80::A:0:0:0', '2001:db8:0:0:1:0:0:1', '1:0:2:3:4:5:6:7']) {
      const ip = parseIp(text)!;
      expect(ipOf(...words(ip)), text).toEqual(ip);
    }
  });

  it('keeps one Ip per address while its table grows, and stays bounded', () => {
    const ipOf = wordsInterner();
    let seed = 11;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    const ips: Ip[] = [];
    for (let i = 0; i < 30_000; i++) {
      const ip = i % 3 === 0 ? parseIp(`2001:db8:${(rand() >>> 16).toString(16)}::${(rand() >>> 16).toString(16)}`)! : parseIp(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`)!;
      ips.push(ip);
    }
    const first = ips.map((ip) => ipOf(...words(ip)));
    for (let i = 0; i < ips.length; i++) {
      expect(first[i]).toEqual(ips[i]);
      expect(ipOf(...words(ips[i]!))).toBe(first[i]);
    }
    // Past its bound it starts again: still right, a fresh object.
    for (let i = 0; i < 300_000; i++) ipOf(4, 0, 0, 0, 0x0b000000 + i);
    const again = ipOf(...words(ips[1]!));
    expect(again).toEqual(ips[1]);
  });
});
