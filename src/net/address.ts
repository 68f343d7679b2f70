import ipaddr from 'ipaddr.js';
import { formatV6, isV4Mapped, plainV6Words } from './v6.js';

declare const normalised: unique symbol;

/**
 * A client address parsed and normalised by {@link parseIp}: IPv4-mapped IPv6
 * is folded to IPv4, IPv6 is in RFC 5952 form. Only this module makes them, so
 * any `Ip` that reaches the store or the firewall has been through the parser.
 */
export interface Ip {
  readonly family: 4 | 6;
  readonly text: string;
  /**
   * The address as four 32-bit words (signed, so V8 keeps them small
   * integers), most significant first; IPv4 in `w3` with the others 0. Tables
   * that key millions of addresses use these instead of the text.
   */
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly [normalised]: true;
}

/** A network (a single address is a /32 or /128). `text` omits the full-length prefix. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly network: Ip;
  readonly prefix: number;
  readonly text: string;
  readonly [normalised]: true;
}

// Strict forms only: ipaddr.js also accepts "1", "0x7f.1" or octal parts,
// which never appear as a client address in a server log.
const V4_STRICT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const V6_CHARS = /^[0-9a-fA-F:.]{2,45}$/;

function makeIp(addr: ipaddr.IPv4 | ipaddr.IPv6): Ip {
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return makeIp(v6.toIPv4Address());
    const p = v6.parts;
    return newIp(6, v6.toRFC5952String(), (p[0]! << 16) | p[1]!, (p[2]! << 16) | p[3]!, (p[4]! << 16) | p[5]!, (p[6]! << 16) | p[7]!);
  }
  const o = (addr as ipaddr.IPv4).octets;
  return v4Ip(addr.toString(), ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) | 0);
}

function v4Ip(text: string, n: number): Ip {
  return newIp(4, text, 0, 0, 0, n);
}

/**
 * Every Ip is made by this class's constructor, not by an object literal: V8
 * tracks where literals' objects end up and, once it decides they outlive
 * the young generation (a check of a big log keeps tens of thousands of
 * Ips), throws away all optimised code that makes them, in the middle of
 * the run, to compile it again. It does no such thing for a constructor.
 *
 * An Ip made from its words writes its text when first asked: `blocker
 * check` makes one for each of a log's tens of thousands of addresses and
 * names only the few it reports.
 */
class Address {
  #text: string | undefined;

  constructor(
    readonly family: 4 | 6,
    text: string | undefined,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
  ) {
    this.#text = text;
  }

  get text(): string {
    return (this.#text ??= this.family === 4 ? v4Text(this.w3) : v6Text(this.w0, this.w1, this.w2, this.w3));
  }
}

function newIp(family: 4 | 6, text: string | undefined, w0: number, w1: number, w2: number, w3: number): Ip {
  return new Address(family, text, w0 | 0, w1 | 0, w2 | 0, w3 | 0) as unknown as Ip;
}

function v4Text(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function v6Text(w0: number, w1: number, w2: number, w3: number): string {
  return formatV6([w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff]);
}

/** The IPv4 address whose number is `n` (as a signed or unsigned 32-bit integer). */
export function ipv4FromNumber(n: number): Ip {
  return newIp(4, undefined, 0, 0, 0, n);
}

/**
 * The address with these words (see Ip), in the canonical text parseIp gives.
 * For tables keyed by words that must name their entries again.
 */
export function ipFromWords(family: 4 | 6, w0: number, w1: number, w2: number, w3: number): Ip {
  return family === 4 ? newIp(4, undefined, 0, 0, 0, w3) : newIp(6, undefined, w0, w1, w2, w3);
}

/** The words plainV6Words read last, for parseIp. */
const WORDS = new Int32Array(4);

/** Parses one address as servers write it; returns null for anything else (never throws). */
export function parseIp(input: string): Ip | null {
  // V4_STRICT admits no leading zeros, so the input is already canonical.
  if (V4_STRICT.test(input)) {
    let n = 0;
    let part = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c === 46) {
        n = (n << 8) | part;
        part = 0;
      } else part = part * 10 + c - 48;
    }
    return v4Ip(input, (n << 8) | part);
  }
  // Plain hex groups (nearly every IPv6 address) without ipaddr.js, which leaves about
  // 3 KB of garbage per address: the daemon reads every ban back each minute to
  // reconcile the firewall (12 MB for 4,000 IPv6 bans, enough to grow the heap by 40 MB).
  if (plainV6Words(input, 0, input.length, WORDS)) {
    // ::ffff:a.b.c.d in hex: folded to the IPv4 address, as below.
    if (isV4Mapped(WORDS[0]!, WORDS[1]!, WORDS[2]!)) return ipv4FromNumber(WORDS[3]!);
    return ipFromWords(6, WORDS[0]!, WORDS[1]!, WORDS[2]!, WORDS[3]!);
  }
  // Zone ids (fe80::1%eth0) identify a link, not a remote host: not an address we can ban.
  if (!V6_CHARS.test(input) || !input.includes(':')) return null;
  try {
    return makeIp(ipaddr.IPv6.parse(input));
  } catch {
    return null;
  }
}

/** Parses `addr` or `addr/len`; the network part is masked (10.1.2.3/8 → 10.0.0.0/8). */
export function parseCidr(input: string): Cidr | null {
  const slash = input.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(input);
    return ip ? cidrOf(ip) : null;
  }
  const ip = parseIp(input.slice(0, slash));
  const lenText = input.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return null;
  let prefix = Number(lenText);
  // An IPv4-mapped network written in IPv6 form (::ffff:10.0.0.0/104) folds like its address.
  if (ip.family === 4 && input.slice(0, slash).includes(':')) prefix -= 96;
  const max = ip.family === 4 ? 32 : 128;
  if (prefix < 0 || prefix > max) return null;
  const parsed = ipaddr.parse(ip.text);
  const bytes = parsed.toByteArray();
  for (let bit = prefix; bit < max; bit++) {
    const i = bit >> 3;
    bytes[i] = bytes[i]! & ~(0x80 >> (bit & 7));
  }
  const network = makeIp(ipaddr.fromByteArray(bytes));
  return {
    family: ip.family,
    network,
    prefix,
    text: prefix === max ? network.text : `${network.text}/${prefix}`,
  } as Cidr;
}

/** The single-address network of `ip`. */
export function cidrOf(ip: Ip): Cidr {
  return { family: ip.family, network: ip, prefix: ip.family === 4 ? 32 : 128, text: ip.text } as Cidr;
}

export function isSingleAddress(c: Cidr): boolean {
  return c.prefix === (c.family === 4 ? 32 : 128);
}

/** True when `net` contains every address of `inner` (an Ip or a Cidr). */
export function cidrContains(net: Cidr, inner: Ip | Cidr): boolean {
  if (net.family !== inner.family) return false;
  const innerNet = 'prefix' in inner ? inner : cidrOf(inner);
  if (innerNet.prefix < net.prefix) return false;
  const a = ipaddr.parse(innerNet.network.text);
  const b = ipaddr.parse(net.network.text);
  return (a as ipaddr.IPv4).match(b as ipaddr.IPv4, net.prefix);
}

/** True when the two networks share at least one address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}
