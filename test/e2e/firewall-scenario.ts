/**
 * The firewall backends end to end, shared by firewall-nftables.e2e.test.ts
 * and firewall-ipset.e2e.test.ts: the real CLI bans and unbans through the real
 * kernel in a server namespace, clients in namespaces of their own try TCP
 * connects to it, `blocker watch` reconciles, and `blocker flush` must leave
 * the server's firewall exactly as it found it. Safety rules: see ./netns.ts —
 * every command here runs inside a namespace the harness created.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SERVER,
  cleanup,
  createTopology,
  listBans,
  listeningSockets,
  makeTempDir,
  notYet,
  probe,
  runBlocker,
  startBlocker,
  startInNamespace,
  waitFor,
  writeBlockerConfig,
  type Proc,
  type Topology,
} from './netns.js';

export const PORT = 8080;
/** Three clients: a and b are inside 198.51.100.2/31 and 2001:db8::2/127, c is outside both. */
const CLIENTS = {
  a: { v4: '198.51.100.2', v6: '2001:db8::2' },
  b: { v4: '198.51.100.3', v6: '2001:db8::3' },
  c: { v4: '198.51.100.4', v6: '2001:db8::4' },
};
type Clients = keyof typeof CLIENTS;

/** One backend as the tests see it. */
export interface Variant {
  readonly label: string;
  /** The config's firewall section (reconcileEvery is added). */
  readonly firewall: Record<string, unknown>;
  /** Commands the variant needs inside a namespace, besides ip/nft (which requireE2E checks). */
  readonly commands: readonly string[];
  /** Everything that describes the namespace's firewall, as text to compare before and after. */
  snapshot(ns: string): Promise<string>;
  /** What an admin's clean sweep does (`nft flush ruleset`, or `iptables -F` + `ipset destroy`). */
  wipe(ns: string): Promise<void>;
  /** Unrelated firewall state that must survive blocker (a table, rules, a set of someone else's). */
  addUnrelated(ns: string): Promise<void>;
  /** The members of our sets, as text ("198.51.100.2", "198.51.100.2/31"); [] while they do not exist. */
  members(ns: string): Promise<string[]>;
  /** Puts an address in our set behind blocker's back. */
  addStranger(ns: string, ip: string): Promise<void>;
}

/** Runs a command inside namespace `ns`; throws with its stderr when it fails. */
export async function inNs(ns: string, cmd: string, args: string[]): Promise<string> {
  const r = await execa('ip', ['netns', 'exec', ns, cmd, ...args], { reject: false, timeout: 20_000 });
  if (r.exitCode !== 0) throw new Error(`e2e: ${cmd} ${args.join(' ')} in ${ns} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
  return String(r.stdout);
}

/** Which of `cmds` are missing on this machine (PATH plus sbin). */
export async function missingCommands(cmds: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const c of cmds) {
    const r = await execa('sh', ['-c', 'PATH="$PATH:/usr/sbin:/sbin" command -v "$1"', 'sh', c], { reject: false });
    if (r.exitCode !== 0) missing.push(c);
  }
  return missing;
}

interface Scenario {
  topo: Topology<Clients>;
  dir: string;
  config: string;
  server: Proc;
  watch: Proc | null;
}

/** A TCP server on SERVER's addresses that accepts and closes. */
const TCP_SERVER = `
const net = require('node:net');
for (const host of process.argv.slice(1)) net.createServer((s) => s.destroy()).listen(${PORT}, host);
`;

async function startScenario(v: Variant, label: string): Promise<Scenario> {
  const topo = await createTopology<Clients>({ clients: CLIENTS });
  const dir = makeTempDir(label);
  const server = startInNamespace(topo.server.ns, 'tcp-server', process.execPath, ['-e', TCP_SERVER, SERVER.v4, SERVER.v6]);
  await waitFor(
    `the TCP server listening on ${SERVER.v4}:${PORT} and [${SERVER.v6}]:${PORT}`,
    async () => {
      const l = await listeningSockets(topo.server.ns);
      return (l.includes(`${SERVER.v4}:${PORT}`) && l.includes(`[${SERVER.v6}]:${PORT}`)) || notYet(l.join(' '));
    },
    { timeoutMs: 5000, intervalMs: 100, context: () => server.output() },
  );
  const config = writeBlockerConfig(join(dir, 'blocker.yaml'), {
    database: join(dir, 'blocker.db'),
    // watch needs a source; this one stays empty, the bans come from the CLI.
    sources: [{ name: 'empty', type: 'file', path: join(dir, 'empty.log'), format: 'nginx' }],
    policy: { allow: ['127.0.0.0/8', '::1'] },
    firewall: { ...v.firewall, reconcileEvery: '1s' },
  });
  return { topo, dir, config, server, watch: null };
}

async function blocker(s: Scenario, ...args: string[]) {
  const r = await runBlocker(s.topo.server.ns, [...args, '-c', s.config]);
  if (r.exitCode !== 0) throw new Error(`blocker ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return r;
}

/**
 * What each client's TCP connect to both server addresses gives: 'connected',
 * 'timeout' (dropped)… Right after an unban a first IPv6 connect may still
 * wait for neighbour discovery (its solicitations were dropped too), hence
 * waitReach for "open again".
 */
async function reach(s: Scenario, who: Clients): Promise<{ v4: string; v6: string }> {
  const ns = s.topo.clients[who].ns;
  const [v4, v6] = await Promise.all([probe(ns, SERVER.v4, PORT), probe(ns, SERVER.v6, PORT)]);
  return { v4, v6 };
}

const OPEN = { v4: 'connected', v6: 'connected' };
const DROPPED = { v4: 'timeout', v6: 'timeout' };

function context(s: Scenario, v: Variant): () => string {
  return () => (s.watch ? `--- blocker watch output:\n${s.watch.output().slice(-4000)}` : '') + `\n(backend ${v.label})`;
}

async function waitReach(s: Scenario, v: Variant, who: Clients, want: typeof OPEN, what: string, timeoutMs = 8000) {
  await waitFor(
    `${what}: client ${who} ${JSON.stringify(want)}`,
    async () => {
      const got = await reach(s, who);
      return (got.v4 === want.v4 && got.v6 === want.v6) || notYet(JSON.stringify(got));
    },
    { timeoutMs, intervalMs: 200, context: context(s, v) },
  );
}

export function firewallSuite(describeE2E: (name: string, body: () => void) => void, v: Variant): void {
  describeE2E(`firewall backend ${v.label}, in network namespaces`, () => {
    let s: Scenario;
    let skip: string[] = [];

    beforeAll(async () => {
      skip = await missingCommands(v.commands);
      if (skip.length) {
        if (process.env.CI === 'true') throw new Error(`e2e prerequisites missing: ${skip.join(', ')}`);
        console.warn(`skipping ${v.label} e2e: missing ${skip.join(', ')}`);
        return;
      }
      s = await startScenario(v, 'fw');
    }, 30_000);
    afterAll(cleanup, 30_000);

    it('bans a v4 and a v6 client (their TCP connects fail, others still connect) and unbans them', async () => {
      if (skip.length) return;
      expect(await reach(s, 'a')).toEqual(OPEN);
      await blocker(s, 'ban', CLIENTS.a.v4, '--for', '1h');
      await blocker(s, 'ban', CLIENTS.a.v6, '--for', '1h');
      expect(await v.members(s.topo.server.ns)).toEqual(expect.arrayContaining([CLIENTS.a.v4, CLIENTS.a.v6]));
      expect(await reach(s, 'a')).toEqual(DROPPED);
      expect(await reach(s, 'b')).toEqual(OPEN);
      await blocker(s, 'unban', CLIENTS.a.v4);
      await waitReach(s, v, 'a', { v4: 'connected', v6: 'timeout' }, 'the v4 unban');
      await blocker(s, 'unban', CLIENTS.a.v6);
      await waitReach(s, v, 'a', OPEN, 'the v6 unban');
      expect(await v.members(s.topo.server.ns)).toEqual([]);
    }, 60_000);

    it('lets a short ban expire by itself, in the kernel', async () => {
      if (skip.length) return;
      await blocker(s, 'ban', CLIENTS.b.v4, '--for', '3s');
      expect((await reach(s, 'b')).v4).toBe('timeout');
      const banned = Date.now();
      // Nothing runs meanwhile: the element's own timeout lifts it.
      await waitReach(s, v, 'b', OPEN, 'the 3s ban lapsing', 10_000);
      expect(Date.now() - banned).toBeGreaterThan(1000);
      expect(await v.members(s.topo.server.ns)).toEqual([]);
    }, 60_000);

    it('covers a whole range with a CIDR ban, and only that range', async () => {
      if (skip.length) return;
      await blocker(s, 'ban', '198.51.100.2/31', '--for', '1h');
      await blocker(s, 'ban', '2001:db8::2/127', '--for', '1h');
      expect((await v.members(s.topo.server.ns)).sort()).toEqual(['198.51.100.2/31', '2001:db8::2/127']);
      expect(await reach(s, 'a')).toEqual(DROPPED);
      expect(await reach(s, 'b')).toEqual(DROPPED);
      expect(await reach(s, 'c')).toEqual(OPEN);
      await blocker(s, 'unban', '198.51.100.2/31');
      await blocker(s, 'unban', '2001:db8::2/127');
      await waitReach(s, v, 'a', OPEN, 'the network unbans');
      await waitReach(s, v, 'b', OPEN, 'the network unbans');
    }, 60_000);

    it('heals a wiped firewall at the next reconcile of a running watch', async () => {
      if (skip.length) return;
      s.watch = startBlocker(s.topo.server.ns, ['watch', '-c', s.config]);
      await blocker(s, 'ban', CLIENTS.c.v4, '--for', '1h');
      await blocker(s, 'ban', '2001:db8::4', '--for', '1h');
      expect(await reach(s, 'c')).toEqual(DROPPED);
      await v.wipe(s.topo.server.ns);
      // Straight after the wipe the client may get through; within a reconcile (1s) it must not.
      await waitReach(s, v, 'c', DROPPED, 'the watch putting the wiped bans back', 10_000);
      expect((await v.members(s.topo.server.ns)).sort()).toEqual([CLIENTS.c.v4, '2001:db8::4']);
      await waitFor('the watch to log what it fixed', () => /info firewall reconciled added=2 .*repaired=/.test(s.watch!.output()) || notYet(''), {
        timeoutMs: 5000,
        context: context(s, v),
      });
      // A member the database does not know is removed by the next reconcile.
      await blocker(s, 'unban', '2001:db8::4');
      await waitReach(s, v, 'c', { v4: 'timeout', v6: 'connected' }, 'the v6 unban');
      // (Not probed in between: the watch may well remove it before a probe could tell.)
      await v.addStranger(s.topo.server.ns, CLIENTS.b.v6);
      await waitFor(
        'the watch removing a member nobody banned',
        async () => {
          const m = await v.members(s.topo.server.ns);
          return (m.length === 1 && m[0] === CLIENTS.c.v4 && /info firewall reconciled added=0 removed=1 /.test(s.watch!.output())) || notYet(m.join(' '));
        },
        { timeoutMs: 10_000, context: context(s, v) },
      );
      await waitReach(s, v, 'b', OPEN, 'the stranger gone');
      const exit = await s.watch.stop({ signal: 'SIGTERM', graceMs: 5000 });
      expect(exit.exitCode, s.watch.output()).toBe(0);
      s.watch = null;
      await blocker(s, 'unban', CLIENTS.c.v4);
    }, 60_000);

    it('blocker flush leaves the firewall exactly as it was before blocker started', async () => {
      if (skip.length) return;
      const fresh = await startScenario(v, 'fwflush');
      const ns = fresh.topo.server.ns;
      await v.addUnrelated(ns);
      const before = await v.snapshot(ns);
      fresh.watch = startBlocker(ns, ['watch', '-c', fresh.config]);
      await waitFor('the watch creating its firewall objects', async () => (await v.snapshot(ns)) !== before || notYet('unchanged'), {
        timeoutMs: 10_000,
        context: context(fresh, v),
      });
      await blocker(fresh, 'ban', CLIENTS.a.v4, '--for', '1h');
      await blocker(fresh, 'ban', '2001:db8::2/127', '--for', 'forever');
      expect(await reach(fresh, 'a')).toEqual(DROPPED);
      await fresh.watch.stop({ signal: 'SIGTERM', graceMs: 5000 });
      const r = await blocker(fresh, 'flush');
      expect(r.stderr).toMatch(/^removed /m);
      expect(r.stderr).toContain('marked 2 active ban(s) inactive');
      expect(await v.snapshot(ns)).toBe(before);
      expect(await listBans(ns, fresh.config)).toEqual([]);
      await waitReach(fresh, v, 'a', OPEN, 'the flush');
      // Flushing again finds nothing of ours and still touches nothing else.
      const again = await blocker(fresh, 'flush');
      expect(again.stderr).toContain("the firewall held nothing of blocker's");
      expect(await v.snapshot(ns)).toBe(before);
    }, 60_000);

    it('stops at start with a clear message when it lacks CAP_NET_ADMIN', async () => {
      if (skip.length) return;
      const r = await execa(
        'ip',
        ['netns', 'exec', s.topo.server.ns, 'setpriv', '--bounding-set', '-net_admin', process.execPath, join(import.meta.dirname, '../../dist/blocker/bin.js'), 'watch', '--once', '-c', s.config],
        { reject: false, timeout: 15_000 },
      );
      expect(r.exitCode, String(r.stderr)).toBe(1);
      expect(String(r.stderr)).toMatch(/^blocker: \S+ was refused \(.*\): run blocker as root or give it CAP_NET_ADMIN/m);
      expect(String(r.stderr)).not.toMatch(/\n\s+at /);
    }, 30_000);
  });
}
