import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './run.js';

/**
 * watch → list → ban → unban against a real SQLite file, with the dry-run
 * backend standing in for the kernel (the e2e tests cover nftables itself).
 */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-admin-'));
  copyFileSync(join(import.meta.dirname, '../../examples/logs/nginx-error.log'), join(dir, 'error.log'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `database: state/blocker.db
sources:
  - { name: nginx, type: file, path: error.log, format: nginx, readFrom: start }
policy: { maxRetry: 5, findTime: 10m, banTime: 1h }
firewall: { backend: dry-run }
`,
  );
  return { dir, config };
}

describe('watch, list, ban, unban', () => {
  it('watch --once reads the file, records bans and prints the nft script', async () => {
    const { config } = setup();
    // The example log is from 2026-11-01: lines older than findTime ban no one live.
    const quiet = await cli('watch', '-c', config, '--once');
    expect(quiet.code).toBe(0);
    expect(JSON.parse((await cli('list', '-c', config, '--json')).out)).toEqual([]);
    expect(quiet.err).toMatch(/^info watching sources=nginx backend=dry-run/m);
  });

  it('bans fresh failures live, then lists, unbans and re-bans by hand', async () => {
    const { dir, config } = setup();
    const now = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp = `${now.getFullYear()}/${p(now.getMonth() + 1)}/${p(now.getDate())} ${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
    const line = (ip: string) =>
      `${stamp} [info] 1#1: *1 peer closed connection in SSL handshake while SSL handshaking, client: ${ip}, server: 0.0.0.0:443\n`;
    writeFileSync(join(dir, 'error.log'), [1, 2, 3, 4, 5].map(() => line('198.51.100.44') + line('2001:db8::44')).join(''));
    const w = await cli('watch', '-c', config, '--once');
    expect(w.err).toMatch(/info ban ip=198\.51\.100\.44 failures=5/);
    expect(w.out).toContain('add element inet blocker v4 { 198.51.100.44 timeout 3600s }');
    expect(w.out).toContain('add element inet blocker v6 { 2001:db8::44 timeout 3600s }');

    const listed = JSON.parse((await cli('list', '-c', config, '--json')).out);
    expect(listed.map((b: { ip: string; failures: number; origin: string }) => [b.ip, b.failures, b.origin])).toEqual([
      ['198.51.100.44', 5, 'auto'],
      ['2001:db8::44', 5, 'auto'],
    ]);
    expect(Date.parse(listed[0].expiresAt) - Date.parse(listed[0].bannedAt)).toBe(3_600_000);
    expect((await cli('list', '-c', config)).out).toMatch(/198\.51\.100\.44\s+5\s+(now|\d+s ago)\s+in (59m\d+s|1h)\s+5 handshake failures/);

    const u = await cli('unban', '-c', config, '198.51.100.44');
    expect(u.code).toBe(0);
    expect(u.err).toContain('unbanned 198.51.100.44');
    expect(u.err).toContain('forgot 5 counted failure(s)');
    expect(u.out).toContain('delete element inet blocker v4 { 198.51.100.44 }');
    expect(JSON.parse((await cli('list', '-c', config, '--json')).out).map((b: { ip: string }) => b.ip)).toEqual(['2001:db8::44']);

    const b = await cli('ban', '-c', config, '198.51.100.0/24', '--for', '2h');
    expect(b.code).toBe(0);
    // Networks live in the interval set v4net, single addresses in v4.
    expect(b.out).toContain('add element inet blocker v4net { 198.51.100.0/24 timeout 7200s }');
    const again = await cli('ban', '-c', config, '198.51.100.9');
    expect(again).toMatchObject({ code: 2, err: expect.stringContaining('already inside the banned network 198.51.100.0/24') });
    const forever = await cli('ban', '-c', config, '2001:db8::/64', '--for', 'forever');
    expect(forever.err).toContain('replaced the ban of 2001:db8::44');
    const after = JSON.parse((await cli('list', '-c', config, '--json')).out);
    expect(after.map((x: { ip: string; expiresAt: string | null; origin: string }) => [x.ip, x.origin, x.expiresAt === null])).toEqual([
      ['198.51.100.0/24', 'manual', false],
      ['2001:db8::/64', 'manual', true],
    ]);
  });

  it('refuses to ban protected addresses and bad input', async () => {
    const { config } = setup();
    expect(await cli('ban', '-c', config, '127.0.0.1')).toMatchObject({ code: 2, err: expect.stringContaining('protected by loopback') });
    expect(await cli('ban', '-c', config, '104.16.0.0/12')).toMatchObject({ code: 2, err: expect.stringContaining('cdn:cloudflare') });
    expect(await cli('ban', '-c', config, 'example.com')).toMatchObject({ code: 2, err: expect.stringContaining('not an IPv4/IPv6 address') });
    expect(await cli('ban', '-c', config, '198.51.100.1', '--for', 'soon')).toMatchObject({ code: 2, err: expect.stringContaining('--for') });
    expect((await cli('unban', '-c', config, '198.51.100.1')).err).toContain('198.51.100.1 was not banned');
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('watch refuses a config without sources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blocker-admin-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'database: x.db\n');
    expect(await cli('watch', '-c', config)).toMatchObject({ code: 2, err: expect.stringContaining('config key sources') });
  });
});
