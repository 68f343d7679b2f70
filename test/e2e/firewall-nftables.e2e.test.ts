/**
 * The nftables backend against the real kernel, in network namespaces: bans,
 * expiry, CIDR ranges, healing after `nft flush ruleset`, and `blocker flush`
 * restoring the ruleset exactly. See ./firewall-scenario.ts.
 */
import { firewallSuite, inNs } from './firewall-scenario.js';
import { nftSetMembers, requireE2E } from './netns.js';

const describeE2E = await requireE2E();

firewallSuite(describeE2E, {
  label: 'nftables',
  firewall: { backend: 'nftables', table: 'blocker' },
  commands: ['nft', 'setpriv'],
  snapshot: (ns) => inNs(ns, 'nft', ['list', 'ruleset']),
  wipe: async (ns) => void (await inNs(ns, 'nft', ['flush', 'ruleset'])),
  async addUnrelated(ns) {
    await inNs(ns, 'nft', ['add', 'table', 'inet', 'keepme']);
    await inNs(ns, 'nft', ['add', 'set', 'inet', 'keepme', 'friends', '{ type ipv4_addr; }']);
    await inNs(ns, 'nft', ['add', 'element', 'inet', 'keepme', 'friends', '{ 192.0.2.1 }']);
    await inNs(ns, 'nft', ['add', 'chain', 'inet', 'keepme', 'in', '{ type filter hook input priority 0; policy accept; }']);
    await inNs(ns, 'nft', ['add', 'rule', 'inet', 'keepme', 'in', 'ip', 'saddr', '@friends', 'accept']);
    await inNs(ns, 'nft', ['add', 'rule', 'inet', 'keepme', 'in', 'ip', 'saddr', '192.0.2.2', 'drop']);
  },
  async members(ns) {
    const out: string[] = [];
    for (const set of ['v4', 'v6', 'v4net', 'v6net']) {
      try {
        out.push(...(await nftSetMembers(ns, 'inet', 'blocker', set)));
      } catch {
        // not there (yet)
      }
    }
    return out;
  },
  addStranger: async (ns, ip) => void (await inNs(ns, 'nft', ['add', 'element', 'inet', 'blocker', ip.includes(':') ? 'v6' : 'v4', `{ ${ip} }`])),
});
