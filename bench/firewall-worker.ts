/**
 * Runs inside the network namespace that bench/firewall.bench.ts creates (it
 * is started with `ip netns exec`), so every nft, ipset and iptables command
 * below changes only that namespace. Prints one JSON object per line:
 * { label, seconds, note? }. Sends no packet: the addresses are set members only.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { firewallSchema } from '../src/config/schema.js';
import type { FirewallBackend, FirewallEntry } from '../src/firewall/backend.js';
import { createBackend } from '../src/firewall/index.js';
import { entriesFor } from '../src/firewall/plan.js';
import { parseCidr, type Cidr } from '../src/net/address.js';
import { openStore } from '../src/store/store.js';

const [kind, dir] = process.argv.slice(2) as ['nftables' | 'ipset' | 'reference', string];
const SIZES = [1_000, 10_000, 100_000];
const HOUR = 3_600_000;

function emit(label: string, seconds: number, note?: string): void {
  process.stdout.write(JSON.stringify({ label, seconds, ...(note ? { note } : {}) }) + '\n');
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [(performance.now() - t0) / 1000, r];
}

/** The n-th test address: four in five IPv4 from 100.64.0.0/10, one in five IPv6 from 2001:db8::/32. */
function address(i: number): Cidr {
  const text = i % 5 === 0 ? `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1` : `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
  return parseCidr(text)!;
}

function entries(n: number, offset = 0): FirewallEntry[] {
  const out: FirewallEntry[] = [];
  for (let i = 0; i < n; i++) out.push({ net: address(offset + i), ttlMs: HOUR });
  return out;
}

function backend(): FirewallBackend {
  const cfg = firewallSchema.parse({ backend: kind, table: 'bench' });
  return createBackend(cfg, () => {});
}

async function sh(cmd: string, args: string[]): Promise<void> {
  await execa(cmd, args, { stdin: 'ignore' });
}

async function wipe(): Promise<void> {
  if (kind === 'nftables') await sh('nft', ['flush', 'ruleset']);
  else {
    await sh('iptables', ['-w', '-F']);
    await sh('ip6tables', ['-w', '-F']);
    await sh('ipset', ['destroy']);
  }
}

function fixes(r: { added: number; removed: number; refreshed: number; recreated: boolean }): string {
  return `added ${r.added}, removed ${r.removed}, refreshed ${r.refreshed}${r.recreated ? ', recreated' : ''}`;
}

async function backends(): Promise<void> {
  for (const n of SIZES) {
    await backend().flush();
    // A running daemon: its start-up reconcile made the (empty) table, then one tick brings n new bans.
    const b = backend();
    await b.reconcile([]);
    const batch = entries(n);
    const [apply] = await timed(async () => {
      for (const e of batch) b.add(e);
      await b.commit();
    });
    emit(`apply ${n} new bans (one commit)`, apply);
    const [rec, report] = await timed(() => backend().reconcile(batch));
    emit(`reconcile ${n} active, kernel in step`, rec, fixes(report));
  }
  // 100k are in the kernel now: one more ban must not cost more because of them.
  const b = backend();
  await b.reconcile(entries(100_000));
  const [one] = await timed(async () => {
    b.add({ net: address(200_000), ttlMs: HOUR });
    await b.commit();
  });
  emit('apply 1 new ban with 100000 in the sets', one);
  const [refresh] = await timed(async () => {
    for (const e of entries(1000)) b.add({ ...e, ttlMs: 2 * HOUR });
    await b.commit();
  });
  emit('re-ban 1000 present members (new timeouts)', refresh);

  // Restarts: the database holds 100k active bans.
  const store = openStore(join(dir, `${kind}.db`));
  const now = Date.now();
  store.transaction(() => {
    for (let i = 0; i < 100_000; i++) {
      store.bans.record({ ip: address(i), reason: 'bench', failures: 5, origin: 'auto', bannedAt: now, expiresAt: now + HOUR });
    }
  });
  const restore = async () => {
    const fresh = backend();
    return fresh.reconcile(() => entriesFor(store.bans.active(Date.now()), Date.now()));
  };
  const [warm, warmReport] = await timed(restore);
  emit('restart, 100000 active bans, kernel still holds them', warm, fixes(warmReport));
  await wipe();
  const [cold, coldReport] = await timed(restore);
  emit('restart, 100000 active bans, empty kernel (after a reboot)', cold, fixes(coldReport));
  await wipe();
  const [heal, healReport] = await timed(() => backend().reconcile(entries(100_000)));
  emit(`heal after ${kind === 'nftables' ? 'nft flush ruleset' : 'iptables -F + ipset destroy'}, 100000 active`, heal, fixes(healReport));
  store.close();
  await backend().flush();
}

/** One process per banned address, as fail2ban's default actions do. */
async function reference(): Promise<void> {
  const n = 2000;
  const ips = Array.from({ length: n }, (_, i) => address(i * 5 + 1).text);
  const [ipt] = await timed(async () => {
    for (const ip of ips) await sh('iptables', ['-w', '-I', 'INPUT', '-s', ip, '-j', 'DROP']);
  });
  emit(`per-IP iptables -I, ${n} addresses (one process each)`, ipt);
  await sh('iptables', ['-w', '-F', 'INPUT']);
  await sh('nft', ['add', 'table', 'inet', 'f2b']);
  await sh('nft', ['add', 'set', 'inet', 'f2b', 'addr', '{ type ipv4_addr; }']);
  const [nft] = await timed(async () => {
    for (const ip of ips) await sh('nft', ['add', 'element', 'inet', 'f2b', 'addr', `{ ${ip} }`]);
  });
  emit(`per-IP nft add element, ${n} addresses (one process each)`, nft);
  await sh('nft', ['delete', 'table', 'inet', 'f2b']);
}

await (kind === 'reference' ? reference() : backends());
