/**
 * The firewall backends, measured against the real kernel: 1k, 10k and 100k
 * bans applied in one commit, reconcile with them in place, one more ban with
 * 100k present, restarts with 100k active bans in the database (kernel still
 * full, and empty after a reboot), healing after a wipe; beside them the
 * per-IP approach of fail2ban's default actions for 2k addresses. Everything
 * runs in a network namespace created here and deleted afterwards (the work
 * itself happens in bench/firewall-worker.ts, started inside it), so the
 * host's firewall is never touched. Needs root, ip, nft, ipset and iptables;
 * without them it says what is missing and skips. Asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { execa, execaSync } from 'execa';
import { fileURLToPath } from 'node:url';
import { resolveCommand } from '../src/firewall/exec.js';
import type { BenchModule } from './types.js';

const WORKER = fileURLToPath(new URL('./firewall-worker.js', import.meta.url));

interface Row {
  label: string;
  seconds: number;
  note?: string;
}

function missing(): string[] {
  const out: string[] = [];
  if (process.getuid?.() !== 0) out.push('root');
  for (const c of ['ip', 'nft', 'ipset', 'iptables', 'ip6tables']) {
    if (!resolveCommand(c).startsWith('/')) out.push(c);
  }
  return out;
}

async function runWorker(ns: string, kind: string, tmpDir: string): Promise<Row[]> {
  const r = await execa('ip', ['netns', 'exec', ns, process.execPath, WORKER, kind, tmpDir], { reject: false, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`${kind} worker exited ${r.exitCode}: ${String(r.stderr).trim().slice(0, 2000)}`);
  return String(r.stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
}

export const firewallBench: BenchModule = {
  name: 'firewall',
  description: 'nftables and ipset backends in a throwaway network namespace: bans applied, reconcile, restart, heal; per-IP iptables -I for reference',
  async run(ctx) {
    const lacking = missing();
    if (lacking.length) {
      ctx.log(`skipped: needs ${lacking.join(', ')} (Debian: apt-get install nftables ipset iptables iproute2; run as root)`);
      return;
    }
    const ns = `hbbench-${randomBytes(3).toString('hex')}`;
    await execa('ip', ['netns', 'add', ns]);
    // Deleted however the bench ends; processes in it are ours (the worker) and end with it.
    const drop = () => void execaSync('ip', ['netns', 'del', ns], { reject: false });
    process.once('exit', drop);
    try {
      for (const kind of ['nftables', 'ipset', 'reference']) {
        const rows = await runWorker(ns, kind, ctx.tmpDir);
        ctx.log(kind === 'reference' ? 'reference (fail2ban-style, one process per address):' : `${kind}:`);
        for (const r of rows) ctx.log(`  ${r.seconds.toFixed(3).padStart(8)} s  ${r.label}${r.note ? `  (${r.note})` : ''}`);
      }
    } finally {
      process.off('exit', drop);
      await execa('ip', ['netns', 'del', ns], { reject: false });
    }
  },
};
