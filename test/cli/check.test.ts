import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
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
