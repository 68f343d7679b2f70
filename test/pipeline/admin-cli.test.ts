/**
 * The operator's side of the never-ban rules, through the CLI on real SQLite
 * files (dry-run firewall): ban refusals and --force, permanent bans,
 * unban --allow and the persistent allow list, a running daemon picking up an
 * allow-list change, and escalation kept across restarts.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createDryRunBackend } from '../../src/firewall/dry-run.js';
import { createLogger } from '../../src/log.js';
import { Daemon } from '../../src/pipeline/daemon.js';
import { policyRules } from '../../src/pipeline/rules.js';
import { openStore } from '../../src/store/store.js';
import { cli } from '../cli/run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { banTime?: string; policy?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'blocker-admin5-'));
  dirs.push(dir);
  const config = join(dir, 'config.yaml');
  writeFileSync(join(dir, 'error.log'), '');
  writeFileSync(
    config,
    `database: blocker.db
sources:
  - { name: nginx, type: file, path: error.log, format: nginx, readFrom: start }
policy:
  maxRetry: 3
  findTime: 10m
  banTime: ${opts.banTime ?? '1h'}
  allow: [127.0.0.0/8, "::1", 198.51.100.200]
  trustedProxies: [198.51.100.201]
  cdn: [fastly]
${opts.policy ?? ''}firewall: { backend: dry-run }
`,
  );
  return { dir, config };
}

const p2 = (n: number) => String(n).padStart(2, '0');
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}/${p2(d.getMonth() + 1)}/${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
const nginxLine = (ms: number, ip: string) =>
  `${stamp(ms)} [info] 1#1: *1 SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share) while SSL handshaking, client: ${ip}, server: 0.0.0.0:443\n`;

const listJson = async (config: string) =>
  JSON.parse((await cli('list', '-c', config, '--json')).out) as { ip: string; expiresAt: string | null; bannedAt: string; reason: string }[];

describe('ban: what is never banned, and --force', () => {
  it('refuses allow-listed, trusted-proxy and CDN addresses with the reason; --force overrides them', async () => {
    const { config } = setup();
    for (const [target, by] of [
      ['198.51.100.200', 'allow (198.51.100.200)'],
      ['198.51.100.201', 'trusted-proxy (198.51.100.201)'],
      ['151.101.7.7', 'cdn:fastly (151.101.0.0/16)'],
      ['198.51.100.192/26', 'allow (198.51.100.200)'],
    ]) {
      const r = await cli('ban', '-c', config, target!);
      expect(r, target).toMatchObject({ code: 2 });
      expect(r.err).toContain(`is protected by ${by}: it is never banned (use --force`);
    }
    expect(await listJson(config)).toEqual([]);

    const forced = await cli('ban', '-c', config, '198.51.100.200', '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(forced.err).toContain('warning: 198.51.100.200 is protected by allow (198.51.100.200); banned anyway because of --force');
    expect(forced.out).toContain('add element inet blocker v4 { 198.51.100.200 timeout 3600s }');
    expect((await listJson(config)).map((b) => b.ip)).toEqual(['198.51.100.200']);
  });

  it('never bans loopback, not even with --force', async () => {
    const { config } = setup();
    for (const target of ['127.0.0.1', '::1', '127.0.0.0/8', '0.0.0.0/0', '::ffff:127.0.0.1']) {
      const r = await cli('ban', '-c', config, target, '--force');
      expect(r.code, target).toBe(2);
      expect(r.err).toMatch(/protected by loopback .*never banned, not even with --force/);
    }
    expect(await listJson(config)).toEqual([]);
  });

  const own = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  it.runIf(own.length > 0)("never bans this host's own interface addresses, not even with --force", async () => {
    const { config } = setup();
    const r = await cli('ban', '-c', config, own[0]!, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/protected by own-address .*this host's own addresses are never banned, not even with --force/);
  });

  it('bans forever and lists it as such', async () => {
    const { config } = setup();
    const r = await cli('ban', '-c', config, '203.0.113.50', '--for', 'forever');
    expect(r.err).toContain('banned 203.0.113.50 forever');
    expect(r.out).toContain('add element inet blocker v4 { 203.0.113.50 }');
    expect((await listJson(config))[0]).toMatchObject({ ip: '203.0.113.50', expiresAt: null });
    const row = (await cli('list', '-c', config)).out.split('\n').find((l) => l.startsWith('203.0.113.50 '));
    expect(row).toMatch(/\bforever\b/);
  });
});

describe('unban --allow and the persistent allow list', () => {
  it('unban --allow lifts the ban and keeps the address off ban lists until removed', async () => {
    const { config } = setup();
    await cli('ban', '-c', config, '203.0.113.60');
    const u = await cli('unban', '-c', config, '203.0.113.60', '--allow', '--note', 'our monitoring');
    expect(u.code, u.err).toBe(0);
    expect(u.err).toContain('unbanned 203.0.113.60');
    expect(u.err).toContain('added 203.0.113.60 to the allow list: it is never banned');
    expect(await listJson(config)).toEqual([]);

    const listed = JSON.parse((await cli('allow', 'list', '-c', config, '--json')).out) as { net: string; from: string; note: string; addedAt: string | null }[];
    expect(listed.map((e) => [e.net, e.from, e.note])).toEqual([
      ['127.0.0.0/8', 'config', 'policy.allow'],
      ['::1', 'config', 'policy.allow'],
      ['198.51.100.200', 'config', 'policy.allow'],
      ['203.0.113.60', 'database', 'our monitoring'],
    ]);
    expect((await cli('allow', 'list', '-c', config)).out).toMatch(/203\.0\.113\.60\s+database\s+\S+\s+our monitoring/);

    const refused = await cli('ban', '-c', config, '203.0.113.60');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('protected by allow-list (203.0.113.60)');

    // Again: already there, kept as it was.
    expect((await cli('unban', '-c', config, '203.0.113.60', '--allow')).err).toContain('203.0.113.60 was already on the allow list');

    expect(await cli('allow', 'remove', '-c', config, '203.0.113.61')).toMatchObject({ code: 2, err: expect.stringContaining('not on the allow list') });
    expect(await cli('allow', 'remove', '-c', config, '198.51.100.200')).toMatchObject({
      code: 2,
      err: expect.stringContaining("in the config's policy.allow, not in the database"),
    });
    expect((await cli('allow', 'remove', '-c', config, '203.0.113.60')).err).toContain('removed 203.0.113.60 from the allow list');
    expect((await cli('ban', '-c', config, '203.0.113.60')).code).toBe(0);
  });

  it('allow add takes networks too, and says that existing bans stay', async () => {
    const { config } = setup();
    await cli('ban', '-c', config, '203.0.113.70');
    const r = await cli('allow', 'add', '-c', config, '203.0.113.64/28', '--note', 'office');
    expect(r.err).toContain('added 203.0.113.64/28 to the allow list');
    expect(r.err).toContain('existing bans stay until they end; lift them with `blocker unban 203.0.113.64/28`');
    expect((await cli('ban', '-c', config, '203.0.113.71')).err).toContain('protected by allow-list (203.0.113.64/28)');
  });

  it('a running daemon honours unban --allow within a tick', async () => {
    const { dir, config } = setup();
    const cfg = parseConfig(
      {
        database: join(dir, 'blocker.db'),
        sources: [{ name: 'nginx', type: 'file', path: join(dir, 'error.log'), format: 'nginx', readFrom: 'start' }],
        policy: { maxRetry: 3, findTime: '10m', banTime: '1h', cdn: [] },
        firewall: { backend: 'dry-run' },
      },
      'test',
    );
    const store = openStore(cfg.database);
    const log: string[] = [];
    const daemon = new Daemon({
      store,
      backend: createDryRunBackend('blocker', () => {}),
      rules: policyRules(cfg),
      sources: cfg.sources,
      log: createLogger((l) => void log.push(l.trimEnd())),
      clock: Date.now,
      sourceContext: { file: { fsEvents: false, scanMs: 0, rotateGraceMs: 30 } },
    });
    try {
      const now = Date.now();
      appendFileSync(join(dir, 'error.log'), [0, 1, 2].map(() => nginxLine(now, '203.0.113.80')).join(''));
      await daemon.tick();
      expect(store.bans.active(Date.now()).map((b) => b.ip.text)).toEqual(['203.0.113.80']);

      expect((await cli('unban', '-c', config, '203.0.113.80', '--allow')).code).toBe(0);
      appendFileSync(join(dir, 'error.log'), [0, 1, 2].map(() => nginxLine(Date.now(), '203.0.113.80')).join(''));
      await daemon.tick();
      expect(store.bans.active(Date.now())).toEqual([]);
      expect(log.filter((l) => l.startsWith('info not banned: protected'))).toEqual([
        'info not banned: protected ip=203.0.113.80 by=allow-list failures=3 note="allow-listed — never banned"',
      ]);
    } finally {
      store.close();
    }
  });
});

describe('escalation across restarts', () => {
  it("a repeat offender's next ban is longer, also after the daemon restarted; unban forgives", async () => {
    // banTime 1s so that the first ban is over within the test.
    const { dir, config } = setup({ banTime: '1s', policy: '  escalation: { factor: 3, maxBanTime: 1h, rememberFor: 1d }\n' });
    const log = join(dir, 'error.log');
    const duration = (b: { bannedAt: string; expiresAt: string | null }) => Date.parse(b.expiresAt!) - Date.parse(b.bannedAt);

    appendFileSync(log, [0, 1, 2].map(() => nginxLine(Date.now(), '203.0.113.90')).join(''));
    expect((await cli('watch', '-c', config, '--once')).code).toBe(0);
    const [first] = await listJson(config);
    expect(duration(first!)).toBe(1000);

    // After the ban ended (log lines have whole seconds: wait until the next second is past it).
    await new Promise((r) => setTimeout(r, 2100));
    appendFileSync(log, [0, 1, 2].map(() => nginxLine(Date.now(), '203.0.113.90')).join(''));
    const w = await cli('watch', '-c', config, '--once'); // a new process: memory rebuilt from the database
    expect(w.err).toMatch(/info ban ip=203\.0\.113\.90 failures=3 .*reason=".*; ban 2 within 1d: 3s"/);
    const [second] = await listJson(config);
    expect(duration(second!)).toBe(3000);

    // unban forgives: the next ban is a first one again, after a restart too.
    await cli('unban', '-c', config, '203.0.113.90');
    await new Promise((r) => setTimeout(r, 1100));
    appendFileSync(log, [0, 1, 2].map(() => nginxLine(Date.now(), '203.0.113.90')).join(''));
    await cli('watch', '-c', config, '--once');
    const [third] = await listJson(config);
    expect(duration(third!)).toBe(1000);
  }, 20_000);
});

describe('check and the database', () => {
  it('uses the persistent allow list, read-only, and goes on without a database it cannot read', async () => {
    const { dir, config } = setup();
    const log = join(dir, 'go.log');
    writeFileSync(log, [0, 1, 2].map((i) => `2026/11/01 00:00:0${i} http: TLS handshake error from 203.0.113.95:${4000 + i}: EOF\n`).join(''));
    expect(JSON.parse((await cli('check', '-c', config, '--json', log)).out).bans).toHaveLength(1);
    await cli('allow', 'add', '-c', config, '203.0.113.95');
    const spared = JSON.parse((await cli('check', '-c', config, '--json', log)).out) as { bans: unknown[]; spared: { by: string }[] };
    expect(spared.bans).toEqual([]);
    expect(spared.spared.map((s) => s.by)).toEqual(['allow-list']);

    writeFileSync(join(dir, 'blocker.db'), 'this is not a database');
    rmSync(join(dir, 'blocker.db-wal'), { force: true });
    rmSync(join(dir, 'blocker.db-shm'), { force: true });
    const r = await cli('check', '-c', config, '--json', log);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/note: cannot read .*blocker\.db .*going on without its allow list/);
    expect(JSON.parse(r.out).bans).toHaveLength(1);
  });
});
