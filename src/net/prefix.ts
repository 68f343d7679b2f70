import { parseCidr, type Cidr, type Ip } from './address.js';

/** The network of `len` bits that holds `ip` (2001:db8:77:1::5, 64 → 2001:db8:77:1::/64). */
export function prefixOf(ip: Ip, len: number): Cidr {
  const net = parseCidr(`${ip.text}/${len}`);
  // ip went through the parser and len is checked by the config schema, so this cannot fail.
  if (!net) throw new Error(`invalid prefix length ${len} for ${ip.text}`);
  return net;
}
