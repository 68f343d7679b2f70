import { dirname } from 'node:path';
import type { Config, SourceConfig } from '../config/schema.js';
import { isLoopback, parseListen } from '../metrics/listen.js';
import { matchingPaths, pathPattern } from '../sources/glob.js';
import { openDatabase } from '../store/db.js';
import type { DoctorEnv } from './env.js';
import { nginxErrorLogs, seesInfo } from './nginx-conf.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** What was looked at: config, firewall, source, nginx, database, clock, hooks, metrics. */
  readonly check: string;
  /** Which one, when there are several (a source's name, a hook). */
  readonly subject: string | null;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about it. */
  readonly fix: string | null;
}

const CAP_NET_ADMIN = 12n;
/** A clock before this is wrong: this code did not exist yet. */
const EARLIEST_SANE = Date.parse('2025-01-01T00:00:00Z');
const FUTURE_SLACK_MS = 5 * 60_000;

const result = (check: string, subject: string | null, status: CheckStatus, message: string, fix: string | null = null): CheckResult => ({
  check,
  subject,
  status,
  message,
  fix,
});

/** The programs each firewall backend runs. */
const BACKEND_PROGRAMS: Record<string, { programs: string[]; install: string }> = {
  nftables: { programs: ['nft'], install: 'apt-get install nftables' },
  ipset: { programs: ['ipset', 'iptables', 'ip6tables'], install: 'apt-get install ipset iptables' },
};

export async function checkFirewall(cfg: Config, env: DoctorEnv): Promise<CheckResult[]> {
  let backend = cfg.firewall.backend as string;
  if (backend === 'dry-run') {
    return [result('firewall', 'dry-run', 'warn', 'firewall.backend is dry-run: the scripts are printed, nothing is banned', 'set firewall.backend: auto (or nftables) once the output looks right')];
  }
  if (backend === 'auto') {
    // As the daemon chooses: nftables where nft is installed, else ipset + iptables.
    backend = env.which('nft') ? 'nftables' : env.which('ipset') && env.which('iptables') ? 'ipset' : 'nftables';
  }
  const need = BACKEND_PROGRAMS[backend];
  if (!need) return [result('firewall', backend, 'skip', `no checks known for backend ${backend}`)];
  const missing = need.programs.filter((p) => env.which(p) === null);
  if (missing.length) {
    const auto = cfg.firewall.backend === 'auto' ? ' (backend auto: neither nft nor ipset with iptables is installed)' : '';
    return [result('firewall', backend, 'fail', `${missing.join(', ')} not found on PATH${auto}`, need.install)];
  }
  const caps = env.capEff();
  const hasCap = caps !== null ? (caps & (1n << CAP_NET_ADMIN)) !== 0n : env.uid() === 0;
  if (!hasCap) {
    return [
      result(
        'firewall',
        backend,
        'fail',
        `this process lacks CAP_NET_ADMIN (uid ${env.uid()}), which changing the firewall needs`,
        'run blocker as root, or as a service with AmbientCapabilities=CAP_NET_ADMIN (see examples/systemd/blocker.service)',
      ),
    ];
  }
  // A read-only question to the kernel: it proves the capability works here (not in a locked-down container).
  const probe = backend === 'nftables' ? ['nft', ['list', 'tables']] as const : ['ipset', ['list', '-n']] as const;
  const r = await env.run(probe[0], probe[1]);
  if (r.code !== 0) {
    return [
      result('firewall', backend, 'fail', `${probe[0]} cannot talk to the kernel: ${(r.stderr || r.error || `exit ${r.code}`).trim()}`,
        backend === 'nftables'
          ? 'load nf_tables (modprobe nf_tables); in a container, give it CAP_NET_ADMIN and a kernel with nftables'
          : 'load ip_set (modprobe ip_set); in a container, give it CAP_NET_ADMIN'),
    ];
  }
  if (backend === 'nftables') {
    const version = (await env.run('nft', ['--version'])).stdout.trim();
    const ours = r.stdout.split('\n').some((l) => l.trim() === `table inet ${cfg.firewall.table}`);
    return [
      result('firewall', backend, 'ok', `${version || 'nft'} works with CAP_NET_ADMIN; table inet ${cfg.firewall.table} ${ours ? 'is present' : 'is not created yet (blocker watch creates it)'}`),
    ];
  }
  const ours = r.stdout.split('\n').some((l) => l.trim().startsWith(`${cfg.firewall.table}_`));
  return [result('firewall', backend, 'ok', `${need.programs.join(', ')} work with CAP_NET_ADMIN; our sets ${ours ? 'are present' : 'are not created yet (blocker watch creates them)'}`)];
}

async function checkSource(s: SourceConfig, env: DoctorEnv): Promise<CheckResult[]> {
  if (s.type === 'stdin') return [result('source', s.name, 'ok', 'reads stdin: pipe a log into `blocker watch`')];
  if (s.type === 'journald') {
    if (env.which('journalctl') === null) {
      return [result('source', s.name, 'fail', 'journalctl not found', 'install systemd (journalctl), or read the log from a file instead')];
    }
    const args = ['-q', '-n', '1', '-o', 'json', ...s.units.flatMap((u) => ['-u', u]), ...s.identifiers.flatMap((t) => ['-t', t])];
    const r = await env.run('journalctl', args);
    if (r.code !== 0) {
      return [result('source', s.name, 'fail', `journalctl ${args.join(' ')} failed: ${(r.stderr || r.error || '').trim()}`, 'run blocker as root or add its user to the systemd-journal group')];
    }
    if (r.stdout.trim() === '') {
      return [
        result('source', s.name, 'warn', `no journal entries for ${[...s.units, ...s.identifiers].join(', ')} yet`,
          'check the unit names (systemctl list-units) and identifiers (journalctl -o verbose shows SYSLOG_IDENTIFIER); a user outside systemd-journal sees only its own journal'),
      ];
    }
    return [result('source', s.name, 'ok', `journalctl reads entries of ${[...s.units, ...s.identifiers].join(', ')}`)];
  }
  const p = pathPattern(s.path);
  if (p.name !== null) {
    if (!env.isDirectory(p.dir)) return [result('source', s.name, 'warn', `folder ${p.dir} does not exist (yet)`, 'check the path; files that appear there later are picked up')];
    if (!env.readable(p.dir)) return [result('source', s.name, 'fail', `cannot list ${p.dir}`, 'run blocker as root or give its user read access to the folder (group adm on Debian)')];
    let files: string[];
    try {
      files = matchingPaths(p);
    } catch (err) {
      return [result('source', s.name, 'fail', `cannot list ${p.dir}: ${(err as Error).message}`)];
    }
    const unreadable = files.filter((f) => !env.readable(f));
    if (unreadable.length) {
      return [result('source', s.name, 'fail', `cannot read ${unreadable.join(', ')}`, 'run blocker as root or give its user read access (group adm on Debian)')];
    }
    return [result('source', s.name, files.length ? 'ok' : 'warn', `${s.path} matches ${files.length} file(s) now`, files.length ? null : 'check the pattern; matching files are picked up when they appear')];
  }
  if (!env.exists(s.path)) {
    return [result('source', s.name, 'warn', `${s.path} does not exist yet (it is waited for)`, `check the path, and that the server logs there (${s.format})`)];
  }
  if (!env.readable(s.path)) {
    return [result('source', s.name, 'fail', `${s.path} is not readable by this user`, `run blocker as root, or give its user read access (ls -l ${s.path}; on Debian the group adm)`)];
  }
  return [result('source', s.name, 'ok', `${s.path} is readable (${s.format})`)];
}

/**
 * nginx writes most client-caused handshake failures at `info`; at its
 * default `error` level they never reach the log and nothing is banned.
 */
export function checkNginxLevel(cfg: Config, env: DoctorEnv): CheckResult[] {
  const sources = cfg.sources.filter((s): s is Extract<SourceConfig, { type: 'file' }> => s.type === 'file' && s.format === 'nginx');
  const paths = sources.map((s) => s.path);
  if (paths.length === 0) return [];
  if (!env.exists(env.nginxConf)) {
    return [result('nginx', null, 'skip', `no nginx config at ${env.nginxConf}`, `make sure the error_log nginx writes to ${paths.join(', ')} is at level info (--nginx-conf to point me at the config)`)];
  }
  const { directives, unreadable } = nginxErrorLogs(env.nginxConf, env.readFile);
  const out: CheckResult[] = [];
  for (const u of unreadable) out.push(result('nginx', null, 'warn', `cannot read ${u.file} (${u.error})`, 'run the doctor as root to check it'));
  for (const { name, path } of sources) {
    const p = pathPattern(path);
    const writes = directives.filter((d) => (p.name ? dirname(d.target) === p.dir && p.name.test(d.target.slice(p.dir.length + 1)) : d.target === path));
    if (writes.length === 0) {
      out.push(result('nginx', name, 'warn', `no error_log in ${env.nginxConf} (or its includes) writes to ${path}`, `add \`error_log ${path} info;\` to the http (and stream) block, or point the source at the file nginx writes`));
      continue;
    }
    const low = writes.filter((d) => !seesInfo(d.level));
    const where = (d: (typeof writes)[number]) => `${d.file}:${d.line}${d.context.length ? ` (${d.context.join(' > ')})` : ''}`;
    if (low.length === 0) {
      out.push(result('nginx', name, 'ok', `nginx writes ${path} at ${writes.map((d) => d.level).join('/')} (${writes.map(where).join(', ')})`));
    } else {
      const fix = low.map((d) => `${where(d)}: error_log ${d.target} info;`).join('; ');
      out.push(
        result('nginx', name, low.length === writes.length ? 'fail' : 'warn',
          `nginx writes ${path} at level ${low.map((d) => d.level).join('/')}, which hides the handshake failures it logs at info (${low.map(where).join(', ')})`,
          `${fix} — then nginx -t && systemctl reload nginx`),
      );
    }
  }
  return out;
}

export function checkDatabase(cfg: Config, env: DoctorEnv): CheckResult[] {
  const path = cfg.database;
  if (path === ':memory:') return [result('database', null, 'warn', 'database is :memory:: nothing survives a restart', 'set database to a file, e.g. /var/lib/blocker/blocker.db')];
  if (env.exists(path)) {
    if (!env.writable(path) || !env.writable(dirname(path))) {
      return [result('database', null, 'fail', `${path} (or its folder, for the WAL files) is not writable by this user`, `run blocker as root, or chown the folder to its user (systemd: StateDirectory=blocker)`)];
    }
    try {
      const db = openDatabase(path, { readonly: true });
      try {
        db.prepare('SELECT count(*) FROM sqlite_master').get();
      } finally {
        db.close();
      }
    } catch (err) {
      return [result('database', null, 'fail', (err as Error).message, 'move the file aside: blocker starts a new one (bans in it are lost)')];
    }
    return [result('database', null, 'ok', `${path} is a writable SQLite database`)];
  }
  let dir = dirname(path);
  while (!env.exists(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!env.writable(dir)) {
    return [result('database', null, 'fail', `${path} does not exist and ${dir} is not writable, so it cannot be created`, `mkdir -p ${dirname(path)} and give it to blocker's user (systemd: StateDirectory=blocker)`)];
  }
  return [result('database', null, 'ok', `${path} does not exist yet; it will be created (${dir} is writable)`)];
}

export async function checkClock(cfg: Config, env: DoctorEnv): Promise<CheckResult[]> {
  const now = env.now();
  const out: CheckResult[] = [];
  if (now < EARLIEST_SANE) {
    return [result('clock', null, 'fail', `the clock says ${new Date(now).toISOString()}, which is in the past`, 'set the time (timedatectl set-ntp true): bans and windows are computed from it')];
  }
  let newest: number | null = null;
  if (cfg.database !== ':memory:' && env.exists(cfg.database)) {
    try {
      const db = openDatabase(cfg.database, { readonly: true });
      try {
        const q = (sql: string) => {
          try {
            return (db.prepare(sql).get() as { t: number | null }).t;
          } catch {
            return null;
          }
        };
        newest = Math.max(q('SELECT max(at) AS t FROM failures') ?? 0, q('SELECT max(banned_at) AS t FROM bans') ?? 0, q('SELECT max(heartbeat_at) AS t FROM daemon_status') ?? 0) || null;
      } finally {
        db.close();
      }
    } catch {
      // The database check reports an unopenable database.
    }
  }
  if (newest !== null && newest > now + FUTURE_SLACK_MS) {
    out.push(
      result('clock', null, 'fail', `the database holds times up to ${new Date(newest).toISOString()}, later than now (${new Date(now).toISOString()}): the clock went back`,
        'fix the clock (timedatectl); bans recorded with the wrong time may last too long: check `blocker list`'),
    );
  }
  const r = env.which('timedatectl') ? await env.run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']) : null;
  const synced = r && r.code === 0 ? r.stdout.trim() : null;
  const zone = `time zone ${env.timeZone()} (nginx and Go log times carry no zone and are read in it)`;
  if (synced === 'no') {
    out.push(result('clock', null, 'warn', `the clock is not synchronised (NTP); ${zone}`, 'timedatectl set-ntp true (or run chrony)'));
  } else if (out.length === 0) {
    out.push(result('clock', null, 'ok', `${new Date(now).toISOString()}${synced === 'yes' ? ', NTP-synchronised' : ''}; ${zone}`));
  }
  return out;
}

export function checkHooks(cfg: Config, env: DoctorEnv): CheckResult[] {
  const out: CheckResult[] = [];
  for (const hook of ['onBan', 'onUnban'] as const) {
    const cmd = cfg.actions[hook];
    if (!cmd) continue;
    const program = cmd[0]!;
    const found = env.which(program);
    out.push(
      found
        ? result('hooks', hook, 'ok', `${program} is executable${found !== program ? ` (${found})` : ''}`)
        : result('hooks', hook, 'fail', `${program} is not an executable program${program.includes('/') ? '' : ' on PATH'}`, `check actions.${hook}[0] (chmod +x, or give the absolute path)`),
    );
  }
  return out;
}

export function checkMetrics(cfg: Config): CheckResult[] {
  if (!cfg.metrics.enabled) return [];
  const l = parseListen(cfg.metrics.listen);
  if (typeof l === 'string') return [result('metrics', null, 'fail', l)];
  return isLoopback(l.host)
    ? [result('metrics', null, 'ok', `served on http://${cfg.metrics.listen}/metrics (loopback only)`)]
    : [result('metrics', null, 'warn', `served on ${cfg.metrics.listen}: other hosts can read what is banned and why`, 'restrict the port in the firewall, or listen on 127.0.0.1 and scrape through a tunnel')];
}

/** Every check, in the order printed. */
export async function runChecks(cfg: Config, env: DoctorEnv): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  if (cfg.sources.length === 0) {
    out.push(result('config', null, 'fail', 'no sources configured: blocker watch has nothing to read', 'add a source (see examples/*.yaml)'));
  }
  out.push(...(await checkFirewall(cfg, env)));
  for (const s of cfg.sources) out.push(...(await checkSource(s, env)));
  out.push(...checkNginxLevel(cfg, env));
  out.push(...checkDatabase(cfg, env));
  out.push(...(await checkClock(cfg, env)));
  out.push(...checkHooks(cfg, env));
  out.push(...checkMetrics(cfg));
  return out;
}
