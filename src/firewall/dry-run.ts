import { firewallSchema, type FirewallConfig } from '../config/schema.js';
import type { FirewallBackend } from './backend.js';
import { createIpsetBackend, type IpsetIo } from './ipset.js';
import { hooksOf, iptablesCommand, maxElemFor, ruleArgs, setName, type IpsetOptions } from './ipset-script.js';
import { ourRules } from './ipset-state.js';
import { createNftablesBackend, type NftIo } from './nftables.js';

/**
 * Touches nothing: prints the exact scripts the real backend would run, in a
 * form that can be pasted into a root shell. It cannot read the kernel, so it
 * takes the kernel to hold what it printed before (nothing at first: a fresh
 * host), and reconciles against that.
 */
export function createDryRunBackend(
  config: string | FirewallConfig,
  print: (text: string) => void,
  of: 'nftables' | 'ipset' = 'nftables',
): FirewallBackend {
  const cfg = typeof config === 'string' ? firewallSchema.parse({ table: config }) : config;
  return of === 'ipset'
    ? createIpsetBackend(cfg, dryIpsetIo(cfg, print), { name: 'dry-run' })
    : createNftablesBackend(cfg, dryNftIo(print), { name: 'dry-run' });
}

function dryNftIo(print: (text: string) => void): NftIo {
  return {
    async check() {},
    async read(_o, mirror) {
      const members = mirror.listing();
      return members ? { repairs: [], rebuild: [], members, unreadable: new Map() } : null;
    },
    async run(script) {
      print(`nft -f - <<'EOF'\n${script}EOF\n`);
    },
    async exists() {
      return true;
    },
  };
}

function dryIpsetIo(o: IpsetOptions, print: (text: string) => void): IpsetIo {
  const family = (f: 4 | 6) => (f === 4 ? 'inet' : 'inet6');
  const expectedRules = (f: 4 | 6) => hooksOf(o).map((chain) => `-A ${chain} ${ruleArgs(o, f).join(' ')}`).join('\n');
  return {
    async check() {},
    async readSet(name, f, mirror) {
      const members = mirror.view();
      if (!members) return null;
      return {
        header: { type: 'hash:net', family: family(f), maxElem: maxElemFor(o, members.length), timeouts: true, extensions: [] },
        members: members.filter((m) => m.set === name),
        unreadable: 0,
      };
    },
    async rulesText(f, mirror) {
      return mirror.view() ? expectedRules(f) : '';
    },
    // Flush shows the full removal, as on a host where blocker has run.
    async ours(f) {
      return { rules: ourRules(expectedRules(f), setName(o.table, f)), sets: [setName(o.table, f)] };
    },
    async setNames(mirror) {
      return mirror.view() ? [setName(o.table, 4), setName(o.table, 6)] : [];
    },
    async restore(script) {
      print(`ipset restore -exist <<'EOF'\n${script}EOF\n`);
    },
    async iptables(f, args) {
      print(`${iptablesCommand(o, f)} ${args.join(' ')}\n`);
    },
  };
}
