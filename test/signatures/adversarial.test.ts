import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/net/address.js';
import { replay } from '../../src/pipeline/replay.js';
import { createSignature, BUILTIN_FORMATS } from '../../src/signatures/index.js';
import { UNTRUSTED, isFailure } from '../../src/signatures/types.js';

/*
 * Log injection: clients control request lines, headers, SNI and user names,
 * and some servers write them unescaped (nginx even URL-decodes paths, so
 * "%0a" becomes a raw newline). test/fixtures/adversarial/injection.log holds
 * such lines, written by hand: every genuine client is in 198.51.100.0/24 and
 * every address an attacker chose is in 203.0.113.0/24, which must never come out.
 */
const FILE = join(__dirname, '..', 'fixtures', 'adversarial', 'injection.log');
const rules = { maxRetry: 1000, findTime: 600_000, banTime: 3_600_000, protect: [] };
const NOW = Date.UTC(2026, 10, 22, 12);

describe('log injection', () => {
  it('yields only the addresses the servers wrote as the client, as auto and as each format', async () => {
    const auto = await replay([FILE], { rules, now: NOW });
    expect(auto.addresses.all().map((x) => x.ip).sort()).toEqual(
      ['198.51.100.1', '198.51.100.10', '198.51.100.11', '198.51.100.13', '198.51.100.14', '198.51.100.15', '198.51.100.20'].sort(),
    );
    // Forged nginx record after a raw newline, forged Go record after a raw newline, Dovecot user name holding rip=.
    expect(auto.untrusted).toBe(3);
    // 7 nginx client fields that are not one address, 2 Go ones, 1 with non-UTF-8 bytes; plus the 3 untrusted.
    expect(auto.unparsable).toBe(13);
    for (const format of BUILTIN_FORMATS) {
      const one = await replay([FILE], { rules, now: NOW, spec: format });
      for (const x of one.addresses.all()) expect(x.ip, format).toMatch(/^198\.51\.100\./);
    }
  });

  it('does not trust an nginx record that the next physical line continues', () => {
    const sig = createSignature('nginx', { now: NOW });
    const forged = '2026/11/22 02:40:12 [info] 7#7: *10 client closed connection while SSL handshaking, client: 203.0.113.66, server: 0.0.0.0:443';
    expect(sig.match(forged, '" failed (2: No such file or directory), client: 198.51.100.7, server: localhost')).toBe(UNTRUSTED);
    expect(sig.match(forged, '    indented continuation')).toBe(UNTRUSTED);
    expect(sig.match(forged, '')).toBe(UNTRUSTED);
    // The next line is a record of its own (or not read yet): trusted.
    expect(isFailure(sig.match(forged, '2026/11/22 02:40:13 [notice] 7#7: signal process started'))).toBe(true);
    expect(isFailure(sig.match(forged))).toBe(true);
  });

  it('with a worker check, does not trust a record naming a pid that is not nginx', () => {
    const workers = new Set([7]);
    const sig = createSignature('nginx', { now: NOW, isNginxWorker: (pid) => workers.has(pid) });
    const line = (pid: number) => `2026/11/22 02:40:12 [info] ${pid}#${pid}: *10 client closed connection while SSL handshaking, client: 198.51.100.2, server: 0.0.0.0:443`;
    expect(isFailure(sig.match(line(7)))).toBe(true);
    expect(sig.match(line(8))).toBe(UNTRUSTED);
  });

  it('never throws and never invents an address, whatever bytes a line holds', () => {
    const real = join(__dirname, '..', 'fixtures', 'real');
    const seeds = [
      ...readdirSync(real)
        .filter((f) => f.endsWith('.log'))
        .flatMap((f) => readFileSync(join(real, f), 'latin1').split('\n')),
      ...readFileSync(FILE, 'latin1').split('\n').filter((l) => l.length < 2000),
    ].filter((l) => l.length > 0);
    let state = 0x2545f491;
    const rand = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const alphabet = ' :.,[]()%"\'\n\r\t\u0000\u00ff\ufffdff0123456789abcdef:client: server: rip= lip=';
    const sig = createSignature('auto', { now: NOW });
    let failures = 0;
    const written = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      let line = seeds[rand(seeds.length)]!;
      for (let k = rand(4) + 1; k > 0; k--) {
        const at = rand(line.length + 1);
        const op = rand(3);
        const piece = alphabet.slice(rand(alphabet.length), rand(alphabet.length) + 1);
        if (op === 0) line = line.slice(0, at) + piece + line.slice(at);
        else if (op === 1) line = line.slice(0, at) + line.slice(at + rand(8));
        else line = line.slice(0, at) + piece + line.slice(at + piece.length);
      }
      // Addresses written so far, in any form (brackets, a glued port, IPv4-mapped, upper case).
      for (const m of line.matchAll(/[0-9A-Fa-f:.]{2,45}/g)) {
        const w = m[0].replace(/[:.]+$/, '');
        for (const c of [m[0], w, w.replace(/:\d+$/, '')]) {
          const ip = parseIp(c);
          if (ip) written.add(ip.text);
        }
      }
      const r = sig.match(line, seeds[rand(seeds.length)]);
      if (!isFailure(r)) continue;
      failures++;
      // The address is a valid, normalised one that a line fed so far holds (Apache and Postfix
      // complete a record on a later line of the same process).
      expect(parseIp(r.ip.text)).toEqual(r.ip);
      expect(written.has(r.ip.text), line).toBe(true);
    }
    expect(failures).toBeGreaterThan(1000);
  });
});
