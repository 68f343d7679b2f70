/**
 * The ipset backend against the real kernel, in network namespaces, once with
 * iptables-nft and once with iptables-legacy: bans, expiry, CIDR ranges,
 * healing after `iptables -F` + `ipset destroy`, and `blocker flush` restoring
 * everything exactly. See ./firewall-scenario.ts.
 */
import { firewallSuite, inNs } from './firewall-scenario.js';
import { requireE2E } from './netns.js';

const describeE2E = await requireE2E();

for (const flavour of ['nft', 'legacy'] as const) {
  const ipt = `iptables-${flavour}`;
  const ip6t = `ip6tables-${flavour}`;
  firewallSuite(describeE2E, {
    label: `ipset + ${ipt}`,
    firewall: { backend: 'ipset', table: 'blocker', iptables: flavour },
    commands: ['ipset', ipt, ip6t, 'setpriv'],
    async snapshot(ns) {
      const parts = [
        await inNs(ns, 'nft', ['list', 'ruleset']),
        await inNs(ns, ipt, ['-w', '-S']),
        await inNs(ns, ip6t, ['-w', '-S']),
        await inNs(ns, 'ipset', ['list', '-n']),
      ];
      const sets = parts[3]!.split('\n').filter(Boolean);
      for (const set of sets) parts.push(await inNs(ns, 'ipset', ['list', set]));
      return parts.join('\n---\n');
    },
    async wipe(ns) {
      await inNs(ns, ipt, ['-w', '-F']);
      await inNs(ns, ip6t, ['-w', '-F']);
      await inNs(ns, 'ipset', ['destroy']);
    },
    async addUnrelated(ns) {
      await inNs(ns, 'ipset', ['create', 'keepme', 'hash:ip']);
      await inNs(ns, 'ipset', ['add', 'keepme', '192.0.2.1']);
      await inNs(ns, ipt, ['-w', '-A', 'INPUT', '-m', 'set', '--match-set', 'keepme', 'src', '-j', 'ACCEPT']);
      await inNs(ns, ipt, ['-w', '-A', 'INPUT', '-s', '192.0.2.2', '-j', 'DROP']);
      await inNs(ns, ip6t, ['-w', '-A', 'INPUT', '-s', '2001:db8:ffff::2', '-j', 'DROP']);
      await inNs(ns, 'nft', ['add', 'table', 'inet', 'keepme']);
      await inNs(ns, 'nft', ['add', 'chain', 'inet', 'keepme', 'in', '{ type filter hook input priority 0; policy accept; }']);
      await inNs(ns, 'nft', ['add', 'rule', 'inet', 'keepme', 'in', 'ip', 'saddr', '192.0.2.3', 'drop']);
    },
    async members(ns) {
      const out: string[] = [];
      for (const set of ['blocker_v4', 'blocker_v6']) {
        const r = await inNs(ns, 'ipset', ['save', set]).catch(() => '');
        for (const line of r.split('\n')) {
          const w = line.split(' ');
          if (w[0] === 'add') out.push(w[2]!);
        }
      }
      return out;
    },
    addStranger: async (ns, ip) => void (await inNs(ns, 'ipset', ['add', ip.includes(':') ? 'blocker_v6' : 'blocker_v4', ip])),
  });
}
