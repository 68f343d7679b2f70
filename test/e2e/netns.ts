/**
 * End-to-end harness: a TLS server and its clients in network namespaces of
 * their own, so that real nginx, openssl, nft and the real `blocker` CLI can
 * be run against each other without touching the host's network or firewall.
 *
 * Safety rules this module keeps, and that code built on it should keep too:
 * - Every command that changes links, addresses or rules runs inside a
 *   namespace created here (`ip -n NS …` or `ip netns exec NS …`).
 * - The only addresses used are 198.51.100.0/24 and 2001:db8::/64
 *   (documentation ranges), and only inside those namespaces.
 * - Commands are argument arrays (execa), never shell strings.
 * - Everything started or created is recorded and removed by `cleanup()`
 *   (call it from afterAll), and best-effort on process exit and on
 *   SIGINT/SIGTERM. Processes are ended by PID only.
 *
 * Topology (one L2 segment, a bridge in the server namespace):
 *
 *   hbs-…  br0 198.51.100.1/24 2001:db8::1/64 ─┬─ v0 ══ eth0  hbc0-…  198.51.100.2 2001:db8::2
 *                                             └─ v1 ══ eth0  hbc1-…  198.51.100.3 2001:db8::3
 *
 * Interface names exist only inside the namespaces, so they never clash with
 * the host's or another run's.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, execaSync, type ResultPromise } from 'execa';
import { describe, it } from 'vitest';
import YAML from 'yaml';

// ─── Addresses ───────────────────────────────────────────────────────────────

export interface Addresses {
  v4: string;
  v6: string;
}

export const SERVER: Addresses = { v4: '198.51.100.1', v6: '2001:db8::1' };
/** The client that fails handshakes and should be banned. */
export const CLIENT: Addresses = { v4: '198.51.100.2', v6: '2001:db8::2' };
/** A client that also fails handshakes but is on the allow list. */
export const CONTROL: Addresses = { v4: '198.51.100.3', v6: '2001:db8::3' };

const V4_RANGE = /^198\.51\.100\.(?:[1-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/;
const V6_RANGE = /^2001:db8::[1-9a-f][0-9a-f]{0,3}$/;

function assertTestAddresses(a: Addresses): void {
  if (!V4_RANGE.test(a.v4)) throw new Error(`e2e: ${a.v4} is not a host in 198.51.100.0/24`);
  if (!V6_RANGE.test(a.v6)) throw new Error(`e2e: ${a.v6} is not a host in 2001:db8::/64 of the form 2001:db8::N`);
}

/** "2001:db8::1", 443 → "[2001:db8::1]:443"; "198.51.100.1", 443 → "198.51.100.1:443". */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// ─── Paths ───────────────────────────────────────────────────────────────────

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI (`npm run build`). */
export const CLI = join(REPO_ROOT, 'dist', 'blocker', 'bin.js');

// ─── Bookkeeping and cleanup ─────────────────────────────────────────────────

interface Tracked {
  name: string;
  subprocess: ResultPromise;
}

const namespaces = new Set<string>();
const processes = new Map<number, Tracked>();
const tempDirs = new Set<string>();
let exitHooksInstalled = false;

/** Short unique id: this process's PID (base 36) and 4 random hex digits. */
function runId(): string {
  return `${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
}

// Names this harness gives namespaces: hb<role>-<pid36>-<rand4>, at most 15 chars.
const OUR_NS = /^hb[a-z][0-9]?-([0-9a-z]{1,6})-[0-9a-f]{4}$/;
// Temp dirs: hb-e2e-<pid36>-<label>-<random>.
const OUR_TMP = /^hb-e2e-([0-9a-z]{1,6})-[a-z0-9]+-[A-Za-z0-9]{6}$/;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupSync();
      // Re-raise with the default action so the exit status tells what happened.
      process.kill(process.pid, sig);
    });
  }
}

function track(name: string, subprocess: ResultPromise): number {
  installExitHooks();
  const pid = subprocess.pid;
  if (pid === undefined) throw new Error(`e2e: ${name} did not start`);
  processes.set(pid, { name, subprocess });
  // Failures are reported by whoever awaits the subprocess; this only forgets it.
  subprocess.then(
    () => processes.delete(pid),
    () => processes.delete(pid),
  );
  return pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** PIDs of processes whose network namespace is `ns` (only ones we started can be there). */
function pidsInNamespaceSync(ns: string): number[] {
  const r = execaSync('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout ?? '')
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

function deleteNamespaceSync(ns: string): void {
  for (const pid of pidsInNamespaceSync(ns)) killPid(pid, 'SIGKILL');
  execaSync('ip', ['netns', 'del', ns], { reject: false });
}

/** Synchronous, best-effort: for process 'exit' and signals, where nothing can be awaited. */
export function cleanupSync(): void {
  for (const pid of processes.keys()) killPid(pid, 'SIGKILL');
  processes.clear();
  for (const ns of namespaces) deleteNamespaceSync(ns);
  namespaces.clear();
  if (!process.env.HB_E2E_KEEP) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * Stops every process started here (SIGTERM, then SIGKILL after 2 s), deletes
 * every namespace created here and removes temp dirs (kept when HB_E2E_KEEP is
 * set, for a look after a failure). Safe to call more than once.
 */
export async function cleanup(): Promise<void> {
  await Promise.all([...processes.keys()].map((pid) => stopPid(pid, 'SIGTERM', 2000)));
  for (const ns of namespaces) {
    for (const pid of await pidsInNamespace(ns)) killPid(pid, 'SIGKILL');
    await execa('ip', ['netns', 'del', ns], { reject: false });
  }
  namespaces.clear();
  if (!process.env.HB_E2E_KEEP) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  else if (tempDirs.size) console.warn(`e2e: kept ${[...tempDirs].join(' ')}`);
  tempDirs.clear();
}

async function pidsInNamespace(ns: string): Promise<number[]> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout ?? '')
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

async function stopPid(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const t = processes.get(pid);
  killPid(pid, signal);
  if (!t) return;
  const done = t.subprocess.then(
    () => true,
    () => true,
  );
  if (!(await Promise.race([done, sleep(graceMs).then(() => false)]))) {
    killPid(pid, 'SIGKILL');
    await done;
  }
}

/**
 * Deletes namespaces (and temp dirs) left by an earlier run of this harness
 * that was killed before it could clean up: our naming pattern, and the PID in
 * the name is no longer alive. Their processes (which only that run could have
 * started) are killed first, by PID.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  const swept: string[] = [];
  for (const line of String(r.stdout ?? '').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = OUR_NS.exec(name);
    if (!m || namespaces.has(name)) continue;
    const owner = parseInt(m[1]!, 36);
    if (owner === process.pid || isAlive(owner)) continue;
    for (const pid of await pidsInNamespace(name)) killPid(pid, 'SIGKILL');
    await execa('ip', ['netns', 'del', name], { reject: false });
    swept.push(name);
  }
  if (!process.env.HB_E2E_KEEP) {
    for (const entry of readdirSync(tmpdir())) {
      const m = OUR_TMP.exec(entry);
      if (!m) continue;
      const owner = parseInt(m[1]!, 36);
      if (owner === process.pid || isAlive(owner)) continue;
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
      swept.push(entry);
    }
  }
  return swept;
}

export function makeTempDir(label = 'run'): string {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), `hb-e2e-${process.pid.toString(36)}-${label}-`));
  tempDirs.add(dir);
  return dir;
}

// ─── Small utilities ─────────────────────────────────────────────────────────

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const NOT_YET = Symbol('notYet');
/** What `waitFor`'s check returns to say "not yet", with what it saw (for the timeout message). */
export interface NotYet {
  [NOT_YET]: string;
}
export function notYet(observation: string): NotYet {
  return { [NOT_YET]: observation };
}
function isNotYet(v: unknown): v is NotYet {
  return typeof v === 'object' && v !== null && NOT_YET in v;
}

/**
 * Polls `check` until it returns something other than undefined, false or
 * notYet(…), or throws after `timeoutMs` with the last observation (or error)
 * and `context()` (e.g. the blocker's output) in the message.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | NotYet | undefined | false> | T | NotYet | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 200 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await check();
      if (isNotYet(v)) last = v[NOT_YET];
      else if (v !== undefined && v !== false) return v as T;
      else last = v;
    } catch (e) {
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const ctx = opts.context?.();
  throw new Error(
    `e2e: timed out after ${timeoutMs} ms waiting for: ${what}\nlast observation: ${show(last)}` +
      (ctx ? `\n${ctx}` : ''),
  );
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

// ─── Prerequisites ───────────────────────────────────────────────────────────

/** What is missing for the e2e tests to run here; empty when nothing is. */
export async function missingPrerequisites(opts: { cli?: boolean } = {}): Promise<string[]> {
  const missing: string[] = [];
  if (process.platform !== 'linux') return [`Linux network namespaces (this is ${process.platform})`];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces and nftables need it)');
  const cmds = ['ip', 'ss', 'nft', 'nginx', 'openssl'].filter((c) => !onPath(c));
  if (cmds.length) missing.push(`on PATH: ${cmds.join(', ')} (apt-get install iproute2 nftables nginx-light openssl)`);
  if (missing.length === 0) {
    const probe = `hbp-${runId()}`;
    const add = await execa('ip', ['netns', 'add', probe], { reject: false });
    if (add.exitCode !== 0) {
      missing.push(`a working \`ip netns add\` (${String(add.stderr).trim() || `exit ${add.exitCode}`})`);
    } else {
      const nft = await execa('ip', ['netns', 'exec', probe, 'nft', 'list', 'ruleset'], { reject: false });
      if (nft.exitCode !== 0) missing.push(`nftables inside a namespace (${String(nft.stderr).trim()})`);
      await execa('ip', ['netns', 'del', probe], { reject: false });
    }
  }
  if (opts.cli !== false && !existsSync(CLI)) missing.push(`the built CLI ${CLI} (run \`npm run build\`)`);
  return missing;
}

type SuiteFn = (name: string, body: () => void) => void;

/**
 * Gate for an e2e suite. Use with top-level await:
 *
 *   const describeE2E = await requireE2E();
 *   describeE2E('…', () => { … });
 *
 * When everything is there it is `describe`. When something is missing it is
 * a failing suite under CI=true (so CI can never pass by skipping), and
 * `describe.skip` with a warning elsewhere.
 */
export async function requireE2E(opts: { cli?: boolean } = {}): Promise<SuiteFn> {
  const missing = await missingPrerequisites(opts);
  if (missing.length === 0) return describe;
  const reason = `e2e prerequisites missing: ${missing.join('; ')}`;
  if (process.env.CI === 'true') {
    return (name) =>
      describe(name, () => {
        it('has its prerequisites (required when CI=true)', () => {
          throw new Error(reason);
        });
      });
  }
  console.warn(`skipping e2e tests — ${reason}`);
  return describe.skip;
}

// ─── Topology ────────────────────────────────────────────────────────────────

export interface Node extends Addresses {
  /** The network namespace's name. */
  ns: string;
}

export interface Topology<K extends string> {
  server: Node;
  clients: Record<K, Node>;
}

async function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  const r = await execa(cmd, args, { reject: false, timeout: timeoutMs });
  if (r.exitCode !== 0 || r.timedOut) {
    throw new Error(`e2e: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
  }
  return String(r.stdout);
}

async function addNamespace(role: string): Promise<string> {
  const ns = `hb${role}-${runId()}`;
  if (ns.length > 15) throw new Error(`e2e: namespace name ${ns} is longer than 15 characters`);
  await run('ip', ['netns', 'add', ns]);
  installExitHooks();
  namespaces.add(ns);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/**
 * A server namespace and one namespace per client, all on one bridge.
 * IPv6 addresses are added with `nodad`, so everything is usable at once.
 */
export async function createTopology<K extends string = 'client' | 'control'>(
  opts: { clients?: Record<K, Addresses> } = {},
): Promise<Topology<K>> {
  const wanted = (opts.clients ?? { client: CLIENT, control: CONTROL }) as Record<K, Addresses>;
  const entries = Object.entries(wanted) as [K, Addresses][];
  if (entries.length > 10) throw new Error('e2e: at most 10 clients');
  for (const [, a] of entries) assertTestAddresses(a);
  await sweepStaleNamespaces();

  const srv = await addNamespace('s');
  await run('ip', ['-n', srv, 'link', 'add', 'br0', 'type', 'bridge']);
  await run('ip', ['-n', srv, 'addr', 'add', `${SERVER.v4}/24`, 'dev', 'br0']);
  await run('ip', ['-n', srv, 'addr', 'add', `${SERVER.v6}/64`, 'dev', 'br0', 'nodad']);
  await run('ip', ['-n', srv, 'link', 'set', 'br0', 'up']);

  const clients = {} as Record<K, Node>;
  for (const [i, [name, a]] of entries.entries()) {
    const ns = await addNamespace(`c${i}`);
    const port = `v${i}`;
    // Created inside the server namespace, peer moved straight into the client's:
    // neither end ever exists in the host's namespace.
    await run('ip', ['-n', srv, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['-n', srv, 'link', 'set', port, 'master', 'br0']);
    await run('ip', ['-n', srv, 'link', 'set', port, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${a.v4}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'addr', 'add', `${a.v6}/64`, 'dev', 'eth0', 'nodad']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    clients[name] = { ns, ...a };
  }
  return { server: { ns: srv, ...SERVER }, clients };
}

// ─── Processes inside namespaces ─────────────────────────────────────────────

export interface Exit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** From the stop signal to the exit, when stopped with stop(). */
  ms: number;
}

export interface Proc {
  name: string;
  pid: number;
  /** stdout and stderr as received so far (the last 256 KiB). */
  output(): string;
  stderr(): string;
  running(): boolean;
  /** Sends `signal` (SIGTERM) and waits up to `graceMs` (5 s), then SIGKILLs. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<Exit>;
  /** Resolves when the process exits by itself or is stopped. */
  exited: Promise<Exit>;
}

const KEEP = 256 * 1024;

/** Starts `cmd args` inside namespace `ns` (exec'd by `ip netns exec`, so the PID is the command's own). */
export function startInNamespace(ns: string, name: string, cmd: string, args: string[]): Proc {
  const subprocess = execa('ip', ['netns', 'exec', ns, cmd, ...args], {
    reject: false,
    stdin: 'ignore',
    buffer: false,
  });
  const pid = track(name, subprocess);
  let all = '';
  let err = '';
  const append = (s: string, cur: string) => (cur + s).slice(-KEEP);
  subprocess.stdout?.on('data', (d: Buffer) => {
    all = append(d.toString(), all);
  });
  subprocess.stderr?.on('data', (d: Buffer) => {
    const s = d.toString();
    all = append(s, all);
    err = append(s, err);
    if (process.env.HB_E2E_VERBOSE) process.stderr.write(`[${name}] ${s}`);
  });
  let alive = true;
  let stoppedAt: number | undefined;
  const exited = subprocess.then((r) => {
    alive = false;
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      ms: stoppedAt === undefined ? 0 : Date.now() - stoppedAt,
    };
  });
  return {
    name,
    pid,
    output: () => all,
    stderr: () => err,
    running: () => alive,
    exited,
    async stop({ signal = 'SIGTERM', graceMs = 5000 } = {}) {
      if (!alive) return exited;
      stoppedAt = Date.now();
      killPid(pid, signal);
      const first = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
      if (first) return first;
      killPid(pid, 'SIGKILL');
      const r = await exited;
      return { ...r, ms: Date.now() - stoppedAt };
    },
  };
}

// ─── nginx ───────────────────────────────────────────────────────────────────

export interface Nginx {
  proc: Proc;
  dir: string;
  errorLog: string;
  conf: string;
}

/** A self-signed P-256 certificate for CN=test in `dir`. */
export async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=test', '-keyout', key, '-out', cert,
  ]);
  return { cert, key };
}

/** Listening TCP sockets ("198.51.100.1:443", "[2001:db8::1]:443") in `ns`. */
export async function listeningSockets(ns: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'exec', ns, 'ss', '-H', '-l', '-t', '-n']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter((s): s is string => !!s);
}

/**
 * nginx in `ns` (default: TLS 1.3 only on SERVER's addresses, port 443,
 * answering "ok"), error log at info level in `dir`. Resolves once it listens
 * on every address.
 */
export async function startNginx(
  ns: string,
  opts: { dir?: string; listen?: string[]; sslProtocols?: string } = {},
): Promise<Nginx> {
  const dir = opts.dir ?? makeTempDir('nginx');
  const listen = opts.listen ?? [hostPort(SERVER.v4, 443), hostPort(SERVER.v6, 443)];
  const { cert, key } = await makeCertificate(dir);
  const errorLog = join(dir, 'error.log');
  const conf = join(dir, 'nginx.conf');
  const q = (s: string) => JSON.stringify(s); // nginx accepts double-quoted strings with \-escapes
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      `pid ${q(join(dir, 'nginx.pid'))};`,
      `error_log ${q(errorLog)} info;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${q(join(dir, t))};`),
      '  server {',
      ...listen.map((l) => `    listen ${l} ssl;`),
      `    ssl_protocols ${opts.sslProtocols ?? 'TLSv1.3'};`,
      `    ssl_certificate ${q(cert)};`,
      `    ssl_certificate_key ${q(key)};`,
      '    return 200 "ok";',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const proc = startInNamespace(ns, 'nginx', 'nginx', ['-p', `${dir}/`, '-c', conf, '-e', errorLog]);
  await waitFor(
    `nginx listening on ${listen.join(', ')}`,
    async () => {
      if (!proc.running()) throw new Error(`nginx exited: ${proc.output()}`);
      const socks = await listeningSockets(ns);
      return listen.every((l) => socks.includes(l));
    },
    {
      timeoutMs: 10_000,
      intervalMs: 100,
      context: () => `nginx output: ${proc.output()}\nerror.log: ${readIfExists(errorLog)}`,
    },
  );
  return { proc, dir, errorLog, conf };
}

export function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Lines of nginx's error log that record a handshake failure from `ip`
 * (nginx writes IPv6 clients without brackets).
 */
export function handshakeFailuresInLog(errorLog: string, ip: string): string[] {
  return readIfExists(errorLog)
    .split('\n')
    .filter((l) => l.includes(' while SSL handshaking, client: ') && l.includes(`client: ${ip}, server: `));
}

// ─── Clients ─────────────────────────────────────────────────────────────────

/**
 * Makes `n` TLS handshakes from `ns` that fail: `openssl s_client -tls1_2`
 * against a TLS 1.3-only server (nginx logs "SSL_do_handshake() failed (…
 * unsupported protocol) while SSL handshaking" at [info]). One at a time;
 * throws if one succeeds or hangs.
 */
export async function failHandshakes(
  ns: string,
  host: string,
  n: number,
  opts: { port?: number; timeoutMs?: number } = {},
): Promise<void> {
  const target = hostPort(host, opts.port ?? 443);
  for (let i = 0; i < n; i++) {
    const r = await execa('ip', ['netns', 'exec', ns, 'openssl', 's_client', '-connect', target, '-tls1_2'], {
      input: '',
      reject: false,
      timeout: opts.timeoutMs ?? 5000,
    });
    if (r.timedOut) throw new Error(`e2e: openssl s_client to ${target} from ${ns} timed out (handshake ${i + 1}/${n})`);
    if (r.exitCode === 0) {
      throw new Error(`e2e: a TLS 1.2 handshake to ${target} succeeded; the server must be TLS 1.3-only\n${r.stdout}`);
    }
  }
}

export type ProbeOutcome = 'connected' | 'timeout' | 'refused' | `error ${string}`;

// Runs inside the client namespace: argv = host port timeoutMs mode. Prints one outcome word.
// mode "tcp": a TCP connect, closed at once. mode "https": TLS 1.3 + GET /, success = status 200.
const PROBE_SCRIPT = `
const [host, port, ms, mode] = process.argv.slice(1);
const done = (word) => { process.stdout.write(word); process.exit(0); };
setTimeout(() => done('timeout'), Number(ms)).unref();
const onError = (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + (e.code || e.message));
if (mode === 'tcp') {
  const s = require('node:net').connect({ host, port: Number(port) });
  s.once('connect', () => { s.destroy(); done('connected'); });
  s.once('error', onError);
} else {
  const s = require('node:tls').connect({ host, port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  let body = '';
  s.once('secureConnect', () => s.write('GET / HTTP/1.1\\r\\nHost: test\\r\\nConnection: close\\r\\n\\r\\n'));
  s.on('data', (d) => { body += d; });
  s.once('end', () => done(/^HTTP\\/1\\.[01] 200 /.test(body) ? 'connected' : 'error bad response ' + JSON.stringify(body.slice(0, 80))));
  s.once('error', onError);
}
`;

/**
 * Tries to reach host:port from namespace `ns` within `timeoutMs` (1500).
 * A firewall DROP shows as 'timeout'.
 *
 * mode 'tcp' (default) only connects. Against nginx's TLS port that is itself
 * a handshake failure in nginx's log ("client closed connection while SSL
 * handshaking"), which the blocker counts; mode 'https' behaves like a real
 * user (TLS 1.3 handshake, GET /, 200) and leaves no trace in the error log.
 */
export async function probe(
  ns: string,
  host: string,
  port: number,
  opts: { timeoutMs?: number; mode?: 'tcp' | 'https' } = {},
): Promise<ProbeOutcome> {
  const ms = opts.timeoutMs ?? 1500;
  const r = await execa(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', PROBE_SCRIPT, host, String(port), String(ms), opts.mode ?? 'tcp'],
    { reject: false, timeout: ms + 5000 },
  );
  const out = String(r.stdout).trim();
  if (r.exitCode !== 0 || !out) return `error probe failed: exit ${r.exitCode} ${String(r.stderr).trim()}`;
  return out as ProbeOutcome;
}

export async function canConnect(
  ns: string,
  host: string,
  port: number,
  opts: { timeoutMs?: number; mode?: 'tcp' | 'https' } = {},
): Promise<boolean> {
  return (await probe(ns, host, port, opts)) === 'connected';
}

// ─── The blocker ─────────────────────────────────────────────────────────────

/** `node dist/blocker/bin.js ARGS` as a long-running process in `ns` (e.g. `watch -c cfg`). */
export function startBlocker(ns: string, args: string[], name = 'blocker'): Proc {
  return startInNamespace(ns, name, process.execPath, [CLI, ...args]);
}

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** A one-shot CLI command in `ns` (list, unban, …). Never throws on a non-zero exit. */
export async function runBlocker(ns: string, args: string[], timeoutMs = 15_000): Promise<RunResult> {
  const r = await execa('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], {
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: r.timedOut ? undefined : r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export interface BanEntry {
  ip: string;
  reason: string;
  failures: number;
  bannedAt: unknown;
  expiresAt: unknown;
}

/** `blocker list --json -c cfg` in `ns`, parsed. Throws with the CLI's stderr when it fails. */
export async function listBans(ns: string, configPath: string): Promise<BanEntry[]> {
  const r = await runBlocker(ns, ['list', '--json', '-c', configPath]);
  if (r.exitCode !== 0) throw new Error(`blocker list exited ${r.exitCode}: ${r.stderr.trim()}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    throw new Error(`blocker list --json printed no JSON: ${JSON.stringify(r.stdout.slice(0, 300))}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`blocker list --json printed no array: ${r.stdout.slice(0, 300)}`);
  return parsed as BanEntry[];
}

/** Writes a blocker config (YAML) to `path` and returns `path`. */
export function writeBlockerConfig(path: string, config: Record<string, unknown>): string {
  writeFileSync(path, YAML.stringify(config));
  return path;
}

// ─── nftables (read-only, inside a namespace) ────────────────────────────────

/**
 * The members of an nftables set in `ns`, as strings ("198.51.100.2",
 * "2001:db8::/64", "a-b" for ranges). Throws when the set does not exist.
 */
export async function nftSetMembers(ns: string, family: string, table: string, set: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'set', family, table, set]);
  const doc = JSON.parse(out) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
  const s = doc.nftables.find((o) => o.set)?.set;
  return (s?.elem ?? []).map(elemToString);
}

function elemToString(e: unknown): string {
  if (typeof e === 'string' || typeof e === 'number') return String(e);
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if ('elem' in o) return elemToString((o.elem as Record<string, unknown>).val);
    if ('prefix' in o) {
      const p = o.prefix as { addr: unknown; len: number };
      return `${elemToString(p.addr)}/${p.len}`;
    }
    if ('range' in o) {
      const [a, b] = o.range as [unknown, unknown];
      return `${elemToString(a)}-${elemToString(b)}`;
    }
  }
  return JSON.stringify(e);
}
