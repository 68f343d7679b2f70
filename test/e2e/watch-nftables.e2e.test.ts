/**
 * `blocker watch` end to end: real nginx (TLS 1.3 only) logs the handshakes
 * that openssl fails from a client namespace, the real CLI follows that log
 * and bans through nftables in the server namespace, and a real client then
 * cannot reach the server, while an allow-listed client that failed just as
 * often still can. See ./netns.ts for the topology and the safety rules.
 *
 * Reachability is probed with a real HTTPS request (TLS 1.3 + GET /), not a
 * bare TCP connect: nginx logs a bare connect-and-close on its TLS port as
 * "client closed connection while SSL handshaking", which the blocker counts,
 * and the failure counts below are meant to be exact.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  CLIENT,
  CONTROL,
  SERVER,
  cleanup,
  createTopology,
  failHandshakes,
  handshakeFailuresInLog,
  listBans,
  makeTempDir,
  nftSetMembers,
  notYet,
  probe,
  readIfExists,
  requireE2E,
  runBlocker,
  sleep,
  startBlocker,
  startNginx,
  waitFor,
  writeBlockerConfig,
  type BanEntry,
  type Nginx,
  type Proc,
  type Topology,
} from './netns.js';

const describeE2E = await requireE2E();

const TABLE = 'blocker';
const MAX_RETRY = 3;

interface Scenario {
  topo: Topology<'client' | 'control'>;
  nginx: Nginx;
  config: string;
  blocker: Proc;
}

async function startScenario(banTime: string): Promise<Scenario> {
  const topo = await createTopology();
  const dir = makeTempDir('watch');
  const nginx = await startNginx(topo.server.ns, { dir });
  const config = writeBlockerConfig(join(dir, 'blocker.yaml'), {
    database: join(dir, 'blocker.db'),
    sources: [{ name: 'nginx', type: 'file', path: nginx.errorLog, format: 'nginx', readFrom: 'start' }],
    policy: {
      maxRetry: MAX_RETRY,
      findTime: '10m',
      banTime,
      allow: ['127.0.0.0/8', '::1', CONTROL.v4, CONTROL.v6],
    },
    firewall: { backend: 'nftables', table: TABLE },
  });
  const blocker = startBlocker(topo.server.ns, ['watch', '-c', config]);
  return { topo, nginx, config, blocker };
}

/** What a failure message needs: the watcher's output, the log it read, the server's ruleset. */
function diagnostics(s: Scenario): () => string {
  return () =>
    [
      `--- blocker watch (pid ${s.blocker.pid}, ${s.blocker.running() ? 'running' : 'exited'}) output:`,
      s.blocker.output().slice(-4000) || '(none)',
      '--- nginx error.log (last 20 lines):',
      readIfExists(s.nginx.errorLog).trimEnd().split('\n').slice(-20).join('\n'),
    ].join('\n');
}

function setOf(ip: string): 'v4' | 'v6' {
  return ip.includes(':') ? 'v6' : 'v4';
}

/** The set's members, or [] while the table/set does not exist yet. */
async function members(s: Scenario, set: 'v4' | 'v6'): Promise<string[]> {
  try {
    return await nftSetMembers(s.topo.server.ns, 'inet', TABLE, set);
  } catch {
    return [];
  }
}

/** Waits until `ip` is both listed by `blocker list` and in the kernel set; returns its list entry. */
async function waitBanned(s: Scenario, ip: string): Promise<BanEntry> {
  return waitFor(
    `${ip} in \`blocker list --json\` and in nft set inet ${TABLE} ${setOf(ip)}`,
    async () => {
      const entry = (await listBans(s.topo.server.ns, s.config)).find((b) => b.ip === ip);
      const inSet = (await members(s, setOf(ip))).includes(ip);
      return entry && inSet ? entry : notYet(`listed: ${!!entry}, in set: ${inSet}`);
    },
    // About a second when idle; the margin is for CI, where other e2e files run alongside.
    { timeoutMs: 20_000, intervalMs: 250, context: diagnostics(s) },
  );
}

/** Waits until `ip` is neither listed nor in the kernel set, and the client reaches the server again. */
async function waitUnbanned(s: Scenario, client: { ns: string }, ip: string, server: string, timeoutMs: number) {
  await waitFor(
    `${ip} reaching ${server}:443 again, out of \`blocker list\` and out of the nft set`,
    async () => {
      const outcome = await probe(client.ns, server, 443, { mode: 'https' });
      const listed = (await listBans(s.topo.server.ns, s.config)).some((b) => b.ip === ip);
      const inSet = (await members(s, setOf(ip))).includes(ip);
      return outcome === 'connected' && !listed && !inSet
        ? true
        : notYet(`probe: ${outcome}, listed: ${listed}, in set: ${inSet}`);
    },
    { timeoutMs, intervalMs: 250, context: diagnostics(s) },
  );
}

/** Ban timestamps may be epoch milliseconds or ISO 8601 strings. */
function toMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

async function expectFailuresLogged(s: Scenario, ip: string, n: number): Promise<void> {
  await waitFor(
    `${n} handshake failures from ${ip} in nginx's error.log`,
    () => {
      const seen = handshakeFailuresInLog(s.nginx.errorLog, ip).length;
      return seen === n || notYet(`${seen} lines`);
    },
    { timeoutMs: 3000, intervalMs: 50, context: diagnostics(s) },
  );
}

/** Stops the watcher the way systemd does and holds it to a clean, quick exit. */
async function expectCleanStop(s: Scenario): Promise<void> {
  const exit = await s.blocker.stop({ signal: 'SIGTERM', graceMs: 5000 });
  const why = `blocker watch after SIGTERM: ${JSON.stringify(exit)}\n${diagnostics(s)()}`;
  expect(exit.exitCode, why).toBe(0);
  expect(exit.signal, why).toBeUndefined();
  expect(exit.ms, why).toBeLessThan(2000);
}

describeE2E('blocker watch + nftables, in network namespaces', () => {
  afterAll(cleanup, 60_000);

  it(
    'bans a client after maxRetry failed handshakes (IPv4, then IPv6), spares the allow-listed one, and unban lifts the ban',
    async () => {
      const s = await startScenario('1h');
      const { client, control } = s.topo.clients;
      const srv = s.topo.server.ns;

      // Everyone reaches the server before any failure.
      for (const c of [client, control]) {
        for (const addr of [SERVER.v4, SERVER.v6]) {
          expect(await probe(c.ns, addr, 443, { mode: 'https' }), `${c.v4} → ${addr} before any failure`).toBe(
            'connected',
          );
        }
      }

      // The allow-listed control client fails first (IPv4 and IPv6), so that once the
      // client's ban shows up the watcher has certainly read the control's lines too.
      await failHandshakes(control.ns, SERVER.v4, MAX_RETRY);
      await failHandshakes(control.ns, SERVER.v6, MAX_RETRY);
      await failHandshakes(client.ns, SERVER.v4, MAX_RETRY);
      await expectFailuresLogged(s, CONTROL.v4, MAX_RETRY);
      await expectFailuresLogged(s, CONTROL.v6, MAX_RETRY);
      await expectFailuresLogged(s, CLIENT.v4, MAX_RETRY);

      // ── IPv4 ban ──
      const ban4 = await waitBanned(s, CLIENT.v4);
      expect(ban4.failures).toBe(MAX_RETRY);
      // The cause nginx logged travels into the ban's reason.
      expect(ban4.reason).toMatch(/unsupported protocol/);
      expect(toMs(ban4.expiresAt) - toMs(ban4.bannedAt), JSON.stringify(ban4)).toBe(3_600_000);

      expect(await probe(client.ns, SERVER.v4, 443, { mode: 'https' }), 'banned client over IPv4').toBe('timeout');
      // The ban is per address: the same host's IPv6 address has not failed and still gets through.
      expect(await probe(client.ns, SERVER.v6, 443, { mode: 'https' }), 'client over IPv6 (not banned)').toBe(
        'connected',
      );
      // The control client failed just as often but is on the allow list.
      expect(await probe(control.ns, SERVER.v4, 443, { mode: 'https' }), 'allow-listed control').toBe('connected');
      expect(await probe(control.ns, SERVER.v6, 443, { mode: 'https' }), 'allow-listed control').toBe('connected');
      const listed = (await listBans(srv, s.config)).map((b) => b.ip);
      expect(listed).toEqual([CLIENT.v4]);
      expect(await members(s, 'v4')).toEqual([CLIENT.v4]);
      expect(await members(s, 'v6')).toEqual([]);

      // ── unban (IPv4) ──
      const unban4 = await runBlocker(srv, ['unban', CLIENT.v4, '-c', s.config]);
      expect(unban4.exitCode, `blocker unban ${CLIENT.v4}: ${unban4.stderr}`).toBe(0);
      await waitUnbanned(s, client, CLIENT.v4, SERVER.v4, 10_000);
      // The unban sticks: the failures already counted do not ban it again.
      await sleep(2000);
      expect((await listBans(srv, s.config)).map((b) => b.ip)).toEqual([]);
      expect(await members(s, 'v4')).toEqual([]);
      expect(await probe(client.ns, SERVER.v4, 443, { mode: 'https' }), 'unbanned client, 2 s later').toBe(
        'connected',
      );

      // ── IPv6 ban ──
      await failHandshakes(client.ns, SERVER.v6, MAX_RETRY);
      await expectFailuresLogged(s, CLIENT.v6, MAX_RETRY);
      const ban6 = await waitBanned(s, CLIENT.v6);
      expect(ban6.failures).toBe(MAX_RETRY);
      expect(await probe(client.ns, SERVER.v6, 443, { mode: 'https' }), 'banned client over IPv6').toBe('timeout');
      expect(await probe(client.ns, SERVER.v4, 443, { mode: 'https' }), 'client over IPv4 (unbanned)').toBe(
        'connected',
      );
      expect(await probe(control.ns, SERVER.v6, 443, { mode: 'https' }), 'allow-listed control').toBe('connected');
      expect((await listBans(srv, s.config)).map((b) => b.ip)).toEqual([CLIENT.v6]);
      expect(await members(s, 'v6')).toEqual([CLIENT.v6]);
      expect(await members(s, 'v4')).toEqual([]);

      // ── unban (IPv6) ──
      const unban6 = await runBlocker(srv, ['unban', CLIENT.v6, '-c', s.config]);
      expect(unban6.exitCode, `blocker unban ${CLIENT.v6}: ${unban6.stderr}`).toBe(0);
      await waitUnbanned(s, client, CLIENT.v6, SERVER.v6, 10_000);
      expect((await listBans(srv, s.config)).map((b) => b.ip)).toEqual([]);

      await expectCleanStop(s);
      await s.nginx.proc.stop();
    },
    90_000,
  );

  it(
    'lifts a ban by itself when banTime has passed',
    async () => {
      const s = await startScenario('3s');
      const { client } = s.topo.clients;

      expect(await probe(client.ns, SERVER.v4, 443, { mode: 'https' }), 'before any failure').toBe('connected');
      await failHandshakes(client.ns, SERVER.v4, MAX_RETRY);
      await expectFailuresLogged(s, CLIENT.v4, MAX_RETRY);

      // A 3 s ban leaves little time to look at it, so watch the kernel set closely
      // (nft answers in milliseconds; `blocker list` starts a node process), then
      // probe and list at once. The probe's 1 s is under TCP's first SYN retransmit,
      // so its answer is about the ban as it was at the start of the probe.
      await waitFor(`${CLIENT.v4} in nft set inet ${TABLE} v4`, async () => (await members(s, 'v4')).includes(CLIENT.v4), {
        timeoutMs: 10_000,
        intervalMs: 100,
        context: diagnostics(s),
      });
      const seenAt = Date.now();
      const [outcome, bans] = await Promise.all([
        probe(client.ns, SERVER.v4, 443, { mode: 'https', timeoutMs: 1000 }),
        listBans(s.topo.server.ns, s.config),
      ]);
      const ban = bans.find((b) => b.ip === CLIENT.v4);
      expect(ban, JSON.stringify(bans)).toBeDefined();
      expect(toMs(ban!.expiresAt) - toMs(ban!.bannedAt), JSON.stringify(ban)).toBe(3000);
      expect(outcome, 'banned client').toBe('timeout');

      // No unban command: the ban runs out on its own within banTime plus a little.
      await waitUnbanned(s, client, CLIENT.v4, SERVER.v4, 10_000);
      expect(Date.now() - seenAt).toBeLessThan(10_000 + 3000);

      await expectCleanStop(s);
      await s.nginx.proc.stop();
    },
    60_000,
  );
});
