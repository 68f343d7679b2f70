import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateLog } from '../../bench/logs.js';
import { PARALLEL_FROM } from '../../src/pipeline/parallel-read.js';
import { cli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'blocker-check-'));
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

function stamp(ms: number): string {
  const d = new Date(ms); // tests run with TZ=UTC, the zone these stamps are read in
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
const nginx = (ms: number, ip: string) =>
  `${stamp(ms)} [info] 100#100: *${ms % 100000} SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: ${ip}, server: 0.0.0.0:443`;
const upstream = (ms: number, ip: string) =>
  `${stamp(ms)} [error] 100#100: *1 SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed) while SSL handshaking to upstream, client: ${ip}, server: x, request: "GET / HTTP/1.1", upstream: "https://192.0.2.1:443/"`;
const go = (ms: number, host: string) => `${stamp(ms)} http: TLS handshake error from ${host}: EOF`;
const s = 1000;
const m = 60 * s;

/** The built `blocker` (npm test builds it first) as a process of its own: exit code and what it printed. */
function program(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/blocker/bin.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * A known schedule (maxRetry 5, findTime 10m, banTime 1h):
 * - 198.51.100.10: 5 failures within 4 min → banned at the 5th; 3 more while banned do not count;
 *   5 more after the ban ended → banned again.
 * - 198.51.100.20: 5 failures spanning 10m + 1s → never 5 inside one window.
 * - 198.51.100.21: 5 failures spanning exactly 10m → banned (the window is inclusive).
 * - 2001:db8::66 (Go, bracketed) and ::ffff:198.51.100.30 (IPv4-mapped) → banned, the latter as IPv4.
 * - 127.0.0.1 (allow list) and 104.16.1.1 (Cloudflare) → spared, never banned.
 * - 203.0.113.99 only in "to upstream" lines → not counted at all.
 */
function schedule(): { nginxLog: string; goLog: string } {
  const n: string[] = [];
  for (let i = 0; i < 5; i++) n.push(nginx(T0 + i * m, '198.51.100.10'));
  for (let i = 0; i < 3; i++) n.push(nginx(T0 + 10 * m + i * m, '198.51.100.10'));
  for (let i = 0; i < 5; i++) n.push(nginx(T0 + 70 * m + i * s, '198.51.100.10'));
  for (let i = 0; i < 5; i++) n.push(nginx(T0 + i * 150 * s + (i === 4 ? s : 0), '198.51.100.20'));
  for (let i = 0; i < 5; i++) n.push(nginx(T0 + i * 150 * s, '198.51.100.21'));
  for (let i = 0; i < 6; i++) n.push(nginx(T0 + i * s, '127.0.0.1'));
  for (let i = 0; i < 6; i++) n.push(nginx(T0 + i * s, '104.16.1.1'));
  for (let i = 0; i < 9; i++) n.push(upstream(T0 + i * s, '203.0.113.99'));
  n.push(`${stamp(T0)} [notice] 100#100: signal process started`);
  n.sort((a, b) => a.slice(0, 19).localeCompare(b.slice(0, 19)));
  const g: string[] = [];
  for (let i = 0; i < 5; i++) g.push(go(T0 + 20 * m + i * s, `[2001:db8::66]:${4000 + i}`));
  for (let i = 0; i < 5; i++) g.push(go(T0 + 30 * m + i * s, `[::ffff:198.51.100.30]:${5000 + i}`));
  return { nginxLog: n.join('\n') + '\n', goLog: g.join('\n') + '\n' };
}

const { nginxLog, goLog } = schedule();
const nginxFile = join(dir, 'error.log');
const goFile = join(dir, 'go.log');
writeFileSync(nginxFile, nginxLog);
writeFileSync(goFile, goLog);
const config = join(dir, 'config.yaml');
writeFileSync(config, 'policy: { maxRetry: 5, findTime: 10m, banTime: 1h, allow: [127.0.0.0/8, "::1"], cdn: [cloudflare] }\n');

describe('blocker check', () => {
  it('bans exactly the addresses that reached maxRetry within findTime', async () => {
    const r = await cli('check', '-c', config, '--json', nginxFile, goFile);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.lines).toBe(nginxLog.split('\n').length - 1 + goLog.split('\n').length - 1);
    expect(report.matched).toBe(13 + 5 + 5 + 6 + 6 + 10);
    expect(report.unparsable).toBe(0);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(report.bans.map((b: { ip: string; failures: number; at: string; until: string }) => [b.ip, b.failures, b.at, b.until])).toEqual([
      ['198.51.100.10', 5, iso(T0 + 4 * m), iso(T0 + 64 * m)],
      ['198.51.100.21', 5, iso(T0 + 600 * s), iso(T0 + 600 * s + 60 * m)],
      // The second ban within policy.escalation.rememberFor lasts banTime × factor (2h).
      ['198.51.100.10', 5, iso(T0 + 70 * m + 4 * s), iso(T0 + 190 * m + 4 * s)],
      ['2001:db8::66', 5, iso(T0 + 20 * m + 4 * s), iso(T0 + 80 * m + 4 * s)],
      ['198.51.100.30', 5, iso(T0 + 30 * m + 4 * s), iso(T0 + 90 * m + 4 * s)],
    ]);
    expect(report.spared.map((x: { ip: string; by: string }) => `${x.ip} ${x.by}`)).toEqual([
      '127.0.0.1 loopback',
      '104.16.1.1 cdn:cloudflare',
    ]);
  });

  it('reads .gz files, with one format forced', async () => {
    const gz = join(dir, 'go.log.gz');
    writeFileSync(gz, gzipSync(goLog));
    const r = await cli('check', '-c', config, '--json', '--format', 'go', gz);
    expect(JSON.parse(r.out).bans.map((b: { ip: string }) => b.ip)).toEqual(['2001:db8::66', '198.51.100.30']);
    const wrong = await cli('check', '-c', config, '--json', '--format', 'go', nginxFile);
    expect(JSON.parse(wrong.out)).toMatchObject({ matched: 0, bans: [] });
  });

  it('prints a readable report', async () => {
    const r = await cli('check', '-c', config, nginxFile);
    expect(r.out).toContain('would issue 3 ban(s)');
    expect(r.out).toMatch(/198\.51\.100\.21\s+5\s+2026-11-01T12:10:00\.000Z/);
    expect(r.out).toMatch(/104\.16\.1\.1\s+5\s+\S+\s+cdn:cloudflare/);
  });

  it('fails clearly on bad arguments', async () => {
    expect(await cli('check', '-c', config, join(dir, 'missing.log'))).toMatchObject({ code: 2, err: expect.stringMatching(/missing\.log does not exist/) });
    expect((await cli('check', '--format', 'apache9', nginxFile)).code).toBe(2);
    expect((await cli('check', '-c', join(dir, 'nope.yaml'), nginxFile)).err).toMatch(/cannot read config/);
  });
});

describe('blocker check as a diagnosis tool', () => {
  const certLog = join(dir, 'cert.log');
  const lines: string[] = [];
  // 12 clients refusing the certificate, one proxy speaking PROXY protocol, one scanner.
  for (let k = 1; k <= 12; k++) {
    for (let i = 0; i < 3; i++) {
      lines.push(
        `${stamp(T0 + k * s + i)} [info] 100#100: *1 SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48) while SSL handshaking, client: 198.51.100.${k}, server: 0.0.0.0:443`,
      );
    }
  }
  for (let i = 0; i < 6; i++) {
    lines.push(`${stamp(T0 + 30 * s + i * s)} [info] 100#100: *2 client sent invalid request while reading client request line, client: 10.0.0.5, server: , request: "PROXY TCP4 203.0.113.1 10.0.0.1 5000 443"`);
  }
  for (let i = 0; i < 5; i++) lines.push(nginx(T0 + 40 * s + i * s, '2001:db8::bad'));
  lines.push(`${stamp(T0 + 50 * s)} [info] 100#100: *3 client closed connection while SSL handshaking, client: unknown, server: 0.0.0.0:443`);
  writeFileSync(certLog, lines.join('\n') + '\n');

  it('--json keeps the skeleton fields and adds byCause, formats, diagnoses and ips', async () => {
    const r = await cli('check', '-c', config, '--json', certLog);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining(['lines', 'matched', 'unparsable', 'undated', 'bans', 'spared', 'byCause', 'formats', 'diagnoses', 'ips']),
    );
    expect(j).toMatchObject({ lines: 48, matched: 47, unparsable: 1, untrusted: 0, undated: 0 });
    expect(j.byCause).toEqual({ eof: 0, 'bad-key-share': 5, 'protocol-mismatch': 6, 'version-or-cipher': 0, 'cert-rejected': 36, sni: 0, other: 0 });
    expect(j.formats).toEqual({ nginx: { matched: 47, unparsable: 1, untrusted: 0 } });
    expect(j.ips[0]).toEqual({ ip: '10.0.0.5', failures: 6, causes: { 'protocol-mismatch': 6 } });
    expect(j.ips).toContainEqual({ ip: '198.51.100.7', failures: 3, causes: { 'cert-rejected': 3 } });
    expect(j.ips).toHaveLength(14);
    const codes = j.diagnoses.map((d: { code: string }) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['certificate', 'proxy-protocol', 'unparsable']));
    expect(j.diagnoses.find((d: { code: string }) => d.code === 'certificate').message).toMatch(/^77% of failures are cert-rejected, from 12 addresses/);
    // Clients refusing the certificate are never counted towards a ban (cert-rejected weighs 0 by default);
    // the policy's breaker sees the certificate storm and holds back even the scanner's ban, and says so.
    const decided = [...j.bans, ...j.held].map((b: { ip: string }) => b.ip);
    expect(decided).toContain('2001:db8::bad');
    expect(decided.filter((ip: string) => ip.startsWith('198.51.100.'))).toEqual([]);
    expect(j.held.map((b: { ip: string }) => b.ip)).toContain('2001:db8::bad');
    expect(codes).toContain('storm');
  });

  it('prints the per-cause table, top offenders and the diagnosis', async () => {
    const r = await cli('check', '-c', config, '--top', '3', certLog);
    expect(r.out).toMatch(/^read 48 lines: 47 handshake failures from 14 addresses, 1 unparsable\nformats: nginx 47 \(\+1 unparsable\)\n/);
    expect(r.out).toMatch(/\nby cause:\nCAUSE\s+FAILURES\s+SHARE\s+ADDRESSES\s+MEANING\nbad-key-share\s+5\s+10\.6%\s+1\s/);
    expect(r.out).toMatch(/cert-rejected\s+36\s+76\.6%\s+12\s/);
    expect(r.out).toMatch(/\ntop offenders:\nIP\s+FAILURES\s+CAUSES\n10\.0\.0\.5\s+6\s+protocol-mismatch 6\n2001:db8::bad\s+5\s+bad-key-share 5\n/);
    expect(r.out).toMatch(/\ndiagnosis:\n- 77% of failures are cert-rejected/);
    expect(r.out).toContain('come from 10.0.0.5: a proxy or load balancer in front is probably sending PROXY protocol');
  });

  it('reads stdin and takes a user pattern', async () => {
    const custom = join(dir, 'custom.log');
    writeFileSync(custom, 'x refused 198.51.100.9 (bad key share)\nx refused 198.51.100.9 (bad key share)\nx ok 198.51.100.10\n');
    const r = await cli('check', '-c', config, '--json', '--format', 'regex', '--pattern', '^x refused <HOST> \\((?<reason>[^)]+)\\)$', custom);
    expect(JSON.parse(r.out)).toMatchObject({ matched: 2, byCause: { 'bad-key-share': 2 }, ips: [{ ip: '198.51.100.9', failures: 2 }] });
    const bad = await cli('check', '-c', config, '--format', 'regex', '--pattern', 'refused <HOST>', custom);
    expect(bad).toMatchObject({ code: 2, err: expect.stringMatching(/--pattern must be anchored at the start of the line/) });
    expect((await cli('check', '-c', config, '--format', 'regex', custom)).err).toMatch(/--format regex needs --pattern/);
    expect((await cli('check', '-c', config, '--format', 'nginx', '--pattern', '^<HOST>', custom)).err).toMatch(/--pattern goes with --format regex/);
  });

  it('finds nothing in a log at the wrong level, and says why', async () => {
    const quiet = join(dir, 'quiet.log');
    writeFileSync(quiet, `${stamp(T0)} [notice] 100#100: signal process started\n`.repeat(3));
    const r = await cli('check', '-c', config, '--json', quiet);
    expect(JSON.parse(r.out).diagnoses[0]).toMatchObject({ code: 'no-failures', message: expect.stringContaining('error_log … info;') });
  });
});

describe('blocker check as a program', () => {
  it('writes a report bigger than a pipe holds whole before it exits', async () => {
    // One failure each from 4000 addresses: a --json report of several hundred KiB.
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) lines.push(nginx(T0 + i * s, `198.51.${100 + (i >> 8)}.${i & 255}`));
    const log = join(dir, 'many.log');
    writeFileSync(log, lines.join('\n') + '\n');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../dist/blocker/bin.js'), 'check', '-c', config, '--json', log], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Not read at first, so the pipe fills and the program has output queued when it is done.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 500));
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdout.resume();
    const code = await new Promise((r) => child.on('close', r));
    const out = Buffer.concat(chunks).toString();
    expect(code).toBe(0);
    expect(out.length).toBeGreaterThan(256 * 1024);
    expect((JSON.parse(out) as { ips: unknown[] }).ips).toHaveLength(4000);
  });
});

describe('blocker check on a big file', () => {
  it('reports from its workers exactly what reading the same log line by line (gzipped) reports', async () => {
    // Past PARALLEL_FROM (32 MB), so check starts its workers before its config and reads in pieces.
    // Run as the built program users run (the bundle, with its worker beside it), the gzipped log in process.
    const log = generateLog(join(dir, 'big.log'), 'nginx', 180_000, 5);
    expect(log.bytes).toBeGreaterThan(PARALLEL_FROM);
    const gz = join(dir, 'big.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(log.path), { level: 1 }));
    const inPieces = await program('check', '-c', config, '--format', 'nginx', '--json', log.path);
    const lineByLine = await cli('check', '-c', config, '--format', 'nginx', '--json', gz);
    expect(inPieces.code).toBe(0);
    expect(lineByLine.code).toBe(0);
    const a = JSON.parse(inPieces.out) as { lines: number; matched: number; bans: unknown[]; ips: unknown[] };
    expect(a.lines).toBe(log.lines);
    expect(a.matched).toBe(log.failures);
    expect(a.bans.length).toBeGreaterThan(10);
    expect(inPieces.out).toBe(lineByLine.out);
    // Its workers start before the config is read: a bad config still ends it at once, with the key named.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'policy: { maxRetry: five }\n');
    const refused = await program('check', '-c', bad, '--format', 'nginx', log.path);
    expect(refused).toMatchObject({ code: 2, out: '' });
    expect(refused.err).toMatch(/policy\.maxRetry/);
  }, 60_000);
});
