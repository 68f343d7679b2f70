import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctorCommand } from '../../src/cli/doctor.js';
import type { CheckResult } from '../../src/doctor/checks.js';
import { systemEnv, type DoctorEnv } from '../../src/doctor/env.js';
import { capture, failure, HOUR, NOW, withStore, workspace } from './fixture.js';
import { cli } from './run.js';

/** This machine's file system, with the firewall tools, capabilities and clock made up. */
function env(over: Partial<DoctorEnv> & { programs?: Record<string, string | null>; nginxConf?: string } = {}): DoctorEnv {
  const real = systemEnv({ nginxConf: over.nginxConf ?? '/nonexistent/nginx.conf' });
  const programs: Record<string, string | null> = { nft: '/usr/sbin/nft', journalctl: null, timedatectl: '/usr/bin/timedatectl', ...over.programs };
  return {
    ...real,
    now: () => NOW,
    uid: () => 0,
    capEff: () => 0x1fffffffffn,
    which: (p) => (p in programs ? programs[p]! : real.which(p)),
    run: async (program, args) => {
      const key = [program, ...args].join(' ');
      if (key === 'nft list tables') return { code: 0, stdout: 'table inet filter\ntable inet blocker\n', stderr: '' };
      if (key === 'ipset list -n') return { code: 0, stdout: 'blocker_v4\nblocker_v6\n', stderr: '' };
      if (key === 'nft --version') return { code: 0, stdout: 'nftables v1.0.9 (Old Doc Yak #3)\n', stderr: '' };
      if (key === 'timedatectl show -p NTPSynchronized --value') return { code: 0, stdout: 'yes\n', stderr: '' };
      return { code: 127, stdout: '', stderr: `unexpected ${key}` };
    },
    timeZone: () => 'UTC',
    ...over,
  };
}

async function doctor(config: string, e: DoctorEnv) {
  const c = capture();
  const code = await doctorCommand({ config, json: true }, c.io, e);
  return { code, checks: (JSON.parse(c.out) as { ok: boolean; checks: CheckResult[] }).checks };
}

const nftablesCfg = 'firewall: { backend: nftables }\n';

function nginxWorkspace(level: string | null) {
  const w = workspace();
  // The config above is dry-run; doctor checks the backend it will really use.
  writeFileSync(w.config, `database: state/blocker.db\nsources:\n  - { name: nginx, type: file, path: error.log, format: nginx }\n${nftablesCfg}`);
  const conf = join(w.dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes auto;\nerror_log ${w.log}${level ? ` ${level}` : ''};\nhttp {\n  server { listen 443 ssl; }\n}\n`);
  return { ...w, conf };
}

describe('blocker doctor', () => {
  it('all good: exit 0, one ok line per check', async () => {
    const { config, conf, log } = nginxWorkspace('info');
    const { code, checks } = await doctor(config, env({ nginxConf: conf }));
    expect(code).toBe(0);
    expect(checks.map((c) => [c.check, c.subject, c.status])).toEqual([
      ['config', null, 'ok'],
      ['firewall', 'nftables', 'ok'],
      ['source', 'nginx', 'ok'],
      ['nginx', 'nginx', 'ok'],
      ['database', null, 'ok'],
      ['clock', null, 'ok'],
    ]);
    expect(checks[1]!.message).toBe('nftables v1.0.9 (Old Doc Yak #3) works with CAP_NET_ADMIN; table inet blocker is present');
    expect(checks[3]!.message).toBe(`nginx writes ${log} at info (${conf}:2)`);
    expect(checks[5]!.message).toBe('2026-11-01T12:00:00.000Z, NTP-synchronised; time zone UTC (nginx and Go log times carry no zone and are read in it)');
  });

  it('nginx at its default level: fails with the line to change', async () => {
    const { config, conf, log } = nginxWorkspace(null);
    const { code, checks } = await doctor(config, env({ nginxConf: conf }));
    expect(code).toBe(1);
    expect(checks.find((c) => c.check === 'nginx')).toEqual({
      check: 'nginx',
      subject: 'nginx',
      status: 'fail',
      message: `nginx writes ${log} at level error, which hides the handshake failures it logs at info (${conf}:2)`,
      fix: `${conf}:2: error_log ${log} info; — then nginx -t && systemctl reload nginx`,
    });
  });

  it('missing nft, missing capability: a fix for each', async () => {
    const { config, conf } = nginxWorkspace('info');
    const noNft = await doctor(config, env({ nginxConf: conf, programs: { nft: null } }));
    expect(noNft.code).toBe(1);
    expect(noNft.checks.find((c) => c.check === 'firewall')).toMatchObject({ status: 'fail', message: 'nft not found on PATH', fix: 'apt-get install nftables' });
    const noCap = await doctor(config, env({ nginxConf: conf, uid: () => 1000, capEff: () => 0n }));
    expect(noCap.checks.find((c) => c.check === 'firewall')).toMatchObject({
      status: 'fail',
      message: 'this process lacks CAP_NET_ADMIN (uid 1000), which changing the firewall needs',
      fix: expect.stringContaining('AmbientCapabilities=CAP_NET_ADMIN'),
    });
  });

  it('backend auto checks what the daemon would pick: ipset + iptables where nft is missing', async () => {
    const w = workspace();
    writeFileSync(w.config, 'database: state/blocker.db\nsources:\n  - { name: go, type: stdin, format: go }\nfirewall: { backend: auto }\n');
    const ipset = await doctor(w.config, env({ programs: { nft: null, ipset: '/sbin/ipset', iptables: '/sbin/iptables', ip6tables: '/sbin/ip6tables' } }));
    expect(ipset.checks.find((c) => c.check === 'firewall')).toEqual({
      check: 'firewall', subject: 'ipset', status: 'ok', message: 'ipset, iptables, ip6tables work with CAP_NET_ADMIN; our sets are present', fix: null,
    });
    const none = await doctor(w.config, env({ programs: { nft: null, ipset: null, iptables: null } }));
    expect(none.code).toBe(1);
    expect(none.checks.find((c) => c.check === 'firewall')).toMatchObject({
      status: 'fail',
      message: 'nft not found on PATH (backend auto: neither nft nor ipset with iptables is installed)',
      fix: 'apt-get install nftables',
    });
  });

  it('unreadable and missing logs, an unwritable database folder', async () => {
    // Root reads and writes everything, so the env refuses for the file system where needed.
    const w = workspace();
    writeFileSync(
      w.config,
      `database: ro/blocker.db\nsources:\n  - { name: secret, type: file, path: secret.log, format: go }\n  - { name: later, type: file, path: later.log, format: go }\n  - { name: glob, type: file, path: "logs/*.log", format: go }\n${nftablesCfg}`,
    );
    writeFileSync(join(w.dir, 'secret.log'), '');
    chmodSync(join(w.dir, 'secret.log'), 0o000);
    mkdirSync(join(w.dir, 'ro'));
    mkdirSync(join(w.dir, 'logs'));
    writeFileSync(join(w.dir, 'logs', 'a.log'), '');
    const real = systemEnv();
    const e = env({
      readable: (p) => !p.endsWith('secret.log') && real.readable(p),
      writable: (p) => !p.endsWith('/ro') && real.writable(p),
    });
    const { code, checks } = await doctor(w.config, e);
    expect(code).toBe(1);
    const by = (subject: string | null, check = 'source') => checks.find((c) => c.check === check && c.subject === subject);
    expect(by('secret')).toMatchObject({ status: 'fail', message: `${join(w.dir, 'secret.log')} is not readable by this user` });
    expect(by('later')).toMatchObject({ status: 'warn', message: `${join(w.dir, 'later.log')} does not exist yet (it is waited for)` });
    expect(by('glob')).toMatchObject({ status: 'ok', message: `${join(w.dir, 'logs/*.log')} matches 1 file(s) now` });
    expect(by(null, 'database')).toMatchObject({
      status: 'fail',
      message: `${join(w.dir, 'ro/blocker.db')} does not exist and ${join(w.dir, 'ro')} is not writable, so it cannot be created`,
    });
  });

  it('a clock behind the times the database holds', async () => {
    const { config, db, conf } = nginxWorkspace('info');
    withStore(db, (s) => s.failures.record([failure('198.51.100.7', NOW + 2 * HOUR)]));
    const { code, checks } = await doctor(config, env({ nginxConf: conf }));
    expect(code).toBe(1);
    expect(checks.find((c) => c.check === 'clock')).toMatchObject({
      status: 'fail',
      message: 'the database holds times up to 2026-11-01T14:00:00.000Z, later than now (2026-11-01T12:00:00.000Z): the clock went back',
    });
    const early = await doctor(config, env({ nginxConf: conf, now: () => Date.parse('2001-01-01T00:00:00Z') }));
    expect(early.checks.find((c) => c.check === 'clock')).toMatchObject({ status: 'fail', message: 'the clock says 2001-01-01T00:00:00.000Z, which is in the past' });
  });

  it('hooks that do not exist, metrics open to the network, dry-run', async () => {
    const w = workspace(`actions: { onBan: ["/nonexistent/notify", "{ip}"], onUnban: ["sh", "-c", "true"] }\nmetrics: { enabled: true, listen: "0.0.0.0:9477" }\n`);
    const { checks } = await doctor(w.config, env());
    expect(checks.find((c) => c.subject === 'onBan')).toMatchObject({ status: 'fail', message: '/nonexistent/notify is not an executable program' });
    expect(checks.find((c) => c.subject === 'onUnban')).toMatchObject({ status: 'ok' });
    expect(checks.find((c) => c.check === 'metrics')).toMatchObject({ status: 'warn', message: expect.stringContaining('other hosts can read') });
    expect(checks.find((c) => c.check === 'firewall')).toMatchObject({ status: 'warn', subject: 'dry-run' });
  });

  it('human output: aligned, with fixes; a config that does not validate is exit 2', async () => {
    const { config, conf } = nginxWorkspace(null);
    const c = capture();
    expect(await doctorCommand({ config }, c.io, env({ nginxConf: conf }))).toBe(1);
    expect(c.out).toMatch(/^ok    config\s+\S+config\.yaml \(1 source\)$/m);
    expect(c.out).toMatch(/^FAIL  nginx nginx\s+nginx writes .* at level error/m);
    expect(c.out).toMatch(/^\s+fix: .*error_log .* info; — then nginx -t && systemctl reload nginx$/m);
    expect(c.out).toMatch(/\n1 problem, 0 warnings\n$/);
    const w = workspace();
    writeFileSync(w.config, 'sources: 3\n');
    const bad = await cli('doctor', '-c', w.config);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/^FAIL  config \S+config\.yaml\s+invalid config .*\n\s+sources: /m);
  });
});
