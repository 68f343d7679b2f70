import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { replay } from '../../src/pipeline/replay.js';
import type { PolicyRules } from '../../src/policy/thresholds.js';

const dir = mkdtempSync(join(tmpdir(), 'blocker-replay-'));
const rules: PolicyRules = { maxRetry: 3, findTime: 600_000, banTime: 3_600_000, protect: [] };
const ng = (sec: number, ip: string, msg = 'SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)') =>
  `2026/11/22 02:00:${String(sec).padStart(2, '0')} [info] 7#7: *${sec} ${msg} while SSL handshaking, client: ${ip}, server: 0.0.0.0:443`;
const go = (sec: number, host: string, reason = 'EOF') => `2026/11/22 02:01:${String(sec).padStart(2, '0')} http: TLS handshake error from ${host}:4000: ${reason}`;
const file = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
};

describe('replay', () => {
  it('counts per cause, per format and per address, and passes the cause to the policy', async () => {
    const a = file('a.log', [
      ng(1, '198.51.100.1'),
      ng(2, '198.51.100.1'),
      ng(3, '198.51.100.2', 'SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48)'),
      '2026/11/22 02:00:04 [notice] 7#7: signal process started',
      ng(5, '2001:db8::9', 'peer closed connection in SSL handshake'),
    ]);
    const b = file('b.log', [go(1, '198.51.100.1'), go(2, '[2001:db8::9]', 'tls: first record does not look like a TLS handshake'), '2026/11/22 02:01:03 INFO client connected']);
    const r = await replay([a, b], { rules });
    expect(r).toMatchObject({ lines: 8, matched: 6, unparsable: 0, untrusted: 0, undated: 0 });
    expect(r.byCause).toEqual({ eof: 2, 'bad-key-share': 2, 'protocol-mismatch': 1, 'version-or-cipher': 0, 'cert-rejected': 1, sni: 0, other: 0 });
    expect(r.formats).toEqual({ nginx: { matched: 4, unparsable: 0, untrusted: 0 }, go: { matched: 2, unparsable: 0, untrusted: 0 } });
    expect(r.addresses.all()).toEqual([
      { ip: '198.51.100.1', failures: 3, causes: { eof: 1, 'bad-key-share': 2 } },
      { ip: '2001:db8::9', failures: 2, causes: { eof: 1, 'protocol-mismatch': 1 } },
      { ip: '198.51.100.2', failures: 1, causes: { 'cert-rejected': 1 } },
    ]);
    // The third failure of 198.51.100.1 (the Go EOF, a minute later) reaches maxRetry 3.
    expect(r.bans.map((x) => x.ip)).toEqual(['198.51.100.1']);
    expect(r.from).toBe(Date.UTC(2026, 10, 22, 2, 0, 1));
    expect(r.to).toBe(Date.UTC(2026, 10, 22, 2, 1, 2));
  });

  it('gives the policy each failure\'s cause, so a weight of 0 never bans', async () => {
    const lines = [1, 2, 3, 4].map((s) =>
      ng(s, '198.51.100.3', 'SSL_do_handshake() failed (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42)'),
    );
    const p = file('cert.log', lines);
    expect((await replay([p], { rules, spec: 'nginx' })).bans).toHaveLength(1);
    const weighted = await replay([p], { rules: { ...rules, causeWeights: { 'cert-rejected': 0 } }, spec: 'nginx' });
    expect(weighted.bans).toEqual([]);
    expect(weighted.byCause['cert-rejected']).toBe(4);
  });

  it('matches each line knowing the next, across chunk boundaries', async () => {
    const forged = ng(9, '203.0.113.66');
    const filler = Array.from({ length: 20_000 }, (_, i) => `2026/11/22 02:00:08 [error] 7#7: *${i} open() "/x${'y'.repeat(60)}" failed (2: No such file or directory), client: 198.51.100.7, server: s, request: "GET / HTTP/1.1"`);
    const p = file('inject.log', [...filler, '2026/11/22 02:00:09 [error] 7#7: *9 open() "/var/www/html/x', forged, '" failed (2: No such file or directory), client: 198.51.100.7', ng(10, '198.51.100.8')]);
    const r = await replay([p], { rules, spec: 'nginx' });
    expect(r).toMatchObject({ matched: 1, unparsable: 1, untrusted: 1 });
    expect(r.addresses.all().map((x) => x.ip)).toEqual(['198.51.100.8']);
  });

  it('reads .gz and stdin, and reports progress in bytes', async () => {
    const text = [go(1, '198.51.100.4'), go(2, '198.51.100.4')].join('\n') + '\n';
    const gz = join(dir, 'x.log.gz');
    writeFileSync(gz, gzipSync(text));
    const seen: number[] = [];
    const r = await replay([gz, '-'], { rules, stdin: Readable.from([Buffer.from(text)]), onProgress: (bytes) => seen.push(bytes) });
    expect(r).toMatchObject({ lines: 4, matched: 4 });
    expect(r.bans.map((b) => b.ip)).toEqual(['198.51.100.4']);
    expect(seen.at(-1)).toBe(gzipSync(text).length + Buffer.byteLength(text));
  });

  it('uses a user pattern', async () => {
    const p = file('custom.log', ['x refused 198.51.100.5 (bad key share)', 'x refused 198.51.100.5 (bad key share)', 'x accepted 198.51.100.6']);
    const r = await replay([p], { rules, spec: { format: 'regex', pattern: '^x refused <HOST> \\((?<reason>[^)]+)\\)$' } });
    expect(r).toMatchObject({ matched: 2, byCause: { 'bad-key-share': 2 }, formats: { regex: { matched: 2 } } });
  });
});

describe('replay over a long log', () => {
  it('keeps what the diagnoses need while it forgets old windows as the log’s clock moves on', async () => {
    // Go lines from a private address, three of them not TLS at all: the PROXY-protocol
    // trap. Each comes more than findTime after the one before, so check forgets old windows
    // in between; the diagnosis (its own ten-minute window) must still see all three.
    const rules: PolicyRules = {
      maxRetry: 3,
      findTime: 60_000,
      banTime: 3_600_000,
      protect: [],
      diagnosis: { trustedProxies: [], period: 3_600_000, window: 600_000 },
    };
    const at = (min: number) => `2026/11/22 02:${String(min).padStart(2, '0')}:00`;
    const mismatch = 'tls: first record does not look like a TLS handshake';
    const p = file('long.log', [
      `${at(0)} http: TLS handshake error from 198.51.100.9:1: EOF`,
      `${at(2)} http: TLS handshake error from 10.0.0.5:4000: ${mismatch}`,
      `${at(4)} http: TLS handshake error from 10.0.0.5:4001: ${mismatch}`,
      `${at(6)} http: TLS handshake error from 10.0.0.5:4002: ${mismatch}`,
    ]);
    const r = await replay([p], { rules, spec: 'go' });
    expect(r.notes.map((n) => n.code)).toEqual(['proxy-protocol']);
  });
});
