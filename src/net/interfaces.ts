import { networkInterfaces } from 'node:os';
import { cidrOf, parseIp, type Cidr } from './address.js';

type InterfaceTable = ReturnType<typeof networkInterfaces>;

/**
 * This host's own addresses (each as a single address, not its subnet): a
 * ban of one of them would cut the host off from itself. Read at start and on
 * reload, since addresses come and go (DHCP, VPNs).
 */
export function ownAddresses(read: () => InterfaceTable = networkInterfaces): Cidr[] {
  const out = new Map<string, Cidr>();
  for (const list of Object.values(read())) {
    for (const a of list ?? []) {
      // Link-local addresses come with a zone ("fe80::1%eth0"); the address itself is what a log would show.
      const ip = parseIp(a.address.split('%')[0]!);
      if (ip) out.set(ip.text, cidrOf(ip));
    }
  }
  return [...out.values()];
}
