import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { banValues, execaExecutor, HookRunner, MAX_QUEUED, MAX_RUNNING, type HookExecutor } from '../../src/actions/hooks.js';
import { expand, templateProblem } from '../../src/actions/template.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { Registry } from '../../src/metrics/registry.js';
import { parseCidr } from '../../src/net/address.js';
import type { Ban } from '../../src/store/bans.js';
import { reportsRepo } from '../../src/store/reports.js';
import { openStore } from '../../src/store/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'blocker-hooks-'));
  dirs.push(d);
  return d;
}

const T0 = Date.parse('2026-11-01T03:00:00Z');
const ban = (ip: string, over: Partial<Ban> = {}): Ban => ({
  id: 1,
  ip: parseCidr(ip)!,
  reason: '5 handshake failures within 10m (last: bad key share)',
  failures: 5,
  origin: 'auto',
  bannedAt: T0,
  expiresAt: T0 + 3_600_000,
  ...over,
});

function runner(actions: Record<string, unknown>, executor: HookExecutor, registry?: Registry) {
  const store = openStore(':memory:');
  const log: string[] = [];
  const cfg = parseConfig({ actions }, 'test').actions;
  const r = new HookRunner(cfg, createLogger((l) => log.push(l), 'debug'), reportsRepo(store.db), { executor, ...(registry ? { registry } : {}) });
  return { r, log, store };
}

describe('hook templates', () => {
  it('fills placeholders per argument, never through a shell', () => {
    const values = banValues('ban', ban('203.0.113.9'));
    expect(values).toEqual({
      event: 'ban',
      ip: '203.0.113.9',
      cause: 'bad-key-share',
      duration: '1h',
      seconds: '3600',
      until: '2026-11-01T04:00:00.000Z',
      reason: '5 handshake failures within 10m (last: bad key share)',
      failures: '5',
      origin: 'auto',
    });
    expect(expand(['/bin/notify', '--text', 'banned {ip} for {duration} ({cause}); $(rm -rf /) {unknown}'], values)).toEqual([
      '/bin/notify',
      '--text',
      'banned 203.0.113.9 for 1h (bad-key-share); $(rm -rf /) {unknown}',
    ]);
  });

  it('describes permanent, manual and prefix bans', () => {
    expect(banValues('ban', ban('2001:db8::/64', { origin: 'manual', expiresAt: null, reason: 'manual' }))).toMatchObject({
      ip: '2001:db8::/64',
      cause: 'manual',
      duration: 'forever',
      seconds: '0',
      until: 'forever',
    });
    const prefix = ban('2001:db8:77:1::/64', { reason: '5 addresses of 2001:db8:77:1::/64 failed 9 handshakes within 10m (last: 2001:db8:77:1::5, EOF)' });
    expect(banValues('ban', prefix).cause).toBe('eof');
    expect(banValues('unban', ban('203.0.113.9'), 'expired')).toMatchObject({ event: 'unban', reason: 'expired', cause: 'bad-key-share' });
  });

  it('rejects unknown placeholders at config load, naming the key', () => {
    expect(templateProblem('{ip} {cause}')).toBeNull();
    expect(templateProblem('{address}')).toMatch(/unknown placeholder \{address\}: use \{ip\}/);
    expect(() => parseConfig({ actions: { onBan: ['/bin/x', '{address}'] } }, 'cfg.yaml')).toThrow(/actions\.onBan\.1: unknown placeholder \{address\}/);
    expect(() => parseConfig({ actions: { onBan: 'curl http://x/{ip}' } }, 'cfg.yaml')).toThrow(/actions\.onBan/);
    expect(() => parseConfig({ actions: { onBan: [] } }, 'cfg.yaml')).toThrow(/program and its arguments as a list/);
  });
});

describe('hook runner', () => {
  it('runs onBan and onUnban with the ban filled in, and counts results', async () => {
    const calls: string[][] = [];
    const registry = new Registry();
    const { r } = runner({ onBan: ['/bin/ban-hook', '{ip}', '{duration}'], onUnban: ['/bin/unban-hook', '{ip}', '{reason}'] }, async (argv, env) => {
      calls.push([...argv, env.BLOCKER_CAUSE!]);
      return { result: 'ok', detail: '' };
    }, registry);
    r.banned([ban('203.0.113.9'), ban('2001:db8::5')]);
    r.unbanned([ban('203.0.113.9')], 'expired');
    await r.whenIdle();
    expect(calls).toEqual([
      ['/bin/ban-hook', '203.0.113.9', '1h', 'bad-key-share'],
      ['/bin/ban-hook', '2001:db8::5', '1h', 'bad-key-share'],
      ['/bin/unban-hook', '203.0.113.9', 'expired', 'bad-key-share'],
    ]);
    expect(registry.render()).toContain('blocker_hook_runs_total{hook="onBan",result="ok"} 2\n');
    expect(registry.render()).toContain('blocker_hook_runs_total{hook="onUnban",result="ok"} 1\n');
  });

  it('does nothing for a hook that is not configured', async () => {
    let n = 0;
    const { r } = runner({ onBan: ['/bin/x'] }, async () => {
      n++;
      return { result: 'ok', detail: '' };
    });
    r.unbanned([ban('203.0.113.9')], 'expired');
    await r.whenIdle();
    expect(n).toBe(0);
  });

  it('never lets the caller wait: a slow hook runs in the background, at most MAX_RUNNING at once', async () => {
    let running = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const { r } = runner({ onBan: ['/bin/slow'] }, async () => {
      running++;
      peak = Math.max(peak, running);
      await gate;
      running--;
      return { result: 'ok', detail: '' };
    });
    const bans = Array.from({ length: 10 }, (_, i) => ban(`203.0.113.${i + 1}`));
    r.banned(bans); // returns at once, with every hook still pending
    expect(running).toBe(MAX_RUNNING);
    release();
    await r.whenIdle();
    expect(peak).toBe(MAX_RUNNING);
  });

  it('drops runs beyond the queue limit with one warning, and counts them', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const registry = new Registry();
    const { r, log } = runner({ onBan: ['/bin/slow'] }, async () => {
      await gate;
      return { result: 'ok', detail: '' };
    }, registry);
    const many = Array.from({ length: MAX_RUNNING + MAX_QUEUED + 5 }, (_, i) => ban(`10.0.${i >> 8}.${i & 255}`));
    r.banned(many);
    release();
    await r.whenIdle();
    expect(log.filter((l) => l.startsWith('warn hooks cannot keep up'))).toHaveLength(1);
    expect(log.some((l) => /^warn hook queue drained dropped=5$/m.test(l))).toBe(true);
    expect(registry.render()).toContain('blocker_hook_runs_total{hook="onBan",result="dropped"} 5\n');
    expect(registry.render()).toContain(`blocker_hook_runs_total{hook="onBan",result="ok"} ${MAX_RUNNING + MAX_QUEUED}\n`);
  });

  it('runs a real program with execa: arguments arrive intact, a failure and a timeout are logged', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.txt');
    const script = join(dir, 'hook.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s|' "$@" >> '${out}'\nprintf '%s\\n' "$BLOCKER_IP" >> '${out}'\n`);
    chmodSync(script, 0o755);
    const failing = join(dir, 'fail.sh');
    writeFileSync(failing, '#!/bin/sh\necho "abuse API said no" >&2\nexit 3\n');
    chmodSync(failing, 0o755);
    const slow = join(dir, 'slow.sh');
    writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(slow, 0o755);

    const ok = runner({ onBan: [script, '{ip}', 'reason: {reason}; `id`'] }, execaExecutor);
    ok.r.banned([ban('2001:db8::7')]);
    await ok.r.whenIdle();
    expect(readFileSync(out, 'utf8')).toBe('2001:db8::7|reason: 5 handshake failures within 10m (last: bad key share); `id`|2001:db8::7\n');

    const bad = runner({ onBan: [failing, '{ip}'] }, execaExecutor);
    bad.r.banned([ban('203.0.113.9')]);
    await bad.r.whenIdle();
    expect(bad.log.join('')).toMatch(/^warn hook failed hook=onBan ip=203\.0\.113\.9 command=\S+fail\.sh error="exit 3: abuse API said no"$/m);

    const hung = runner({ onBan: [slow], timeout: '300ms' }, execaExecutor);
    hung.r.banned([ban('203.0.113.10')]);
    await hung.r.whenIdle();
    expect(hung.log.join('')).toMatch(/^warn hook timed out hook=onBan ip=203\.0\.113\.10 .*error="still running after 300ms, killed"$/m);

    const missing = runner({ onBan: [join(dir, 'does-not-exist')] }, execaExecutor);
    missing.r.banned([ban('203.0.113.11')]);
    await missing.r.whenIdle();
    expect(missing.log.join('')).toMatch(/^warn hook failed hook=onBan ip=203\.0\.113\.11 .*ENOENT/m);
  });
});
