import { execa } from 'execa';
import { UserError } from '../errors.js';
import type { Cidr } from '../net/address.js';
import type { FirewallBackend, FirewallEntry } from './backend.js';
import { changeLines, preamble, syncLines } from './nftables-script.js';

/** Runs one nft script as one transaction. */
export type ScriptRunner = (script: string) => Promise<void>;

export function createNftablesBackend(table: string, run: ScriptRunner = runNft, name = 'nftables'): FirewallBackend {
  let adds = new Map<string, FirewallEntry>();
  let removes = new Map<string, Cidr>();
  return {
    name,
    add(entry) {
      removes.delete(entry.net.text);
      adds.set(entry.net.text, entry);
    },
    remove(net) {
      adds.delete(net.text);
      removes.set(net.text, net);
    },
    async commit() {
      if (adds.size === 0 && removes.size === 0) return;
      const lines = [...preamble(table), ...changeLines(table, [...adds.values()], [...removes.values()])];
      // Cleared first: a failed apply must not be retried forever with a bad batch; the
      // database stays the truth and the next sync re-applies what is active.
      adds = new Map();
      removes = new Map();
      await run(lines.join('\n') + '\n');
    },
    async sync(active) {
      // `active` supersedes whatever was buffered.
      adds = new Map();
      removes = new Map();
      await run(syncLines(table, active).join('\n') + '\n');
    },
    async shutdown() {},
  };
}

export async function runNft(script: string): Promise<void> {
  try {
    await execa('nft', ['-f', '-'], { input: script, timeout: 30_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') {
      throw new UserError('the nft command was not found: install nftables (apt-get install nftables) or use --dry-run');
    }
    const stderr = (e.stderr ?? '').trim();
    if (/Operation not permitted|Permission denied/i.test(stderr)) {
      throw new UserError('nft was refused: run blocker as root or with CAP_NET_ADMIN (or use --dry-run)');
    }
    throw new UserError(`nft failed: ${stderr || e.message}`);
  }
}
