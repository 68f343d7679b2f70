import { parseCidr, type Cidr, type Ip } from './address.js';
import { formatV6, v6Groups } from './v6.js';

// Addresses fail again and again: remember recent answers (bounded).
const texts = new Map<string, string>();
const nets = new Map<string, Cidr>();
const MEMO = 8192;

/** The network of `len` bits that holds `ip` (2001:db8:77:1::5, 64 → 2001:db8:77:1::/64). */
export function prefixOf(ip: Ip, len: number): Cidr {
  const text = prefixText(ip, len);
  let net = nets.get(text);
  if (!net) {
    const parsed = parseCidr(text);
    // ip went through the parser and len is checked by the config schema, so this cannot fail.
    if (!parsed) throw new Error(`invalid prefix length ${len} for ${ip.text}`);
    if (nets.size >= MEMO) nets.clear();
    nets.set(text, (net = parsed));
  }
  return net;
}

/**
 * The same network's canonical text ("2001:db8:77:1::/64"), computed without a
 * general parser: the policy keys every IPv6 failure by it. IPv6 only.
 */
export function prefixText(ip: Ip, len: number): string {
  if (len >= 128) return ip.text;
  const key = `${len} ${ip.text}`;
  const hit = texts.get(key);
  if (hit !== undefined) return hit;
  const g = v6Groups(ip.text);
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, len - i * 16));
    g[i] = keep === 0 ? 0 : g[i]! & ((0xffff << (16 - keep)) & 0xffff);
  }
  const text = `${formatV6(g)}/${len}`;
  if (texts.size >= MEMO) texts.clear();
  texts.set(key, text);
  return text;
}
