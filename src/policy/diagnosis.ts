import { formatDuration } from '../config/duration.js';
import { parseCidr, type Cidr, type Ip } from '../net/address.js';
import { netSet, type NetSet } from '../net/match.js';
import { addAt, countAt, windowCount, type WindowCount } from './window-count.js';

/**
 * The PROXY-protocol trap: a load balancer, frp node or tunnel in front of the
 * TLS server sends a PROXY header the server does not expect, so every
 * handshake through it fails, and all of them come from the proxy's address.
 * A tool that bans on those failures cuts off every user at once.
 */
export interface DiagnosisRules {
  readonly trustedProxies: readonly Cidr[];
  /** A diagnosis about one subject is raised at most once per period. */
  readonly period: number;
  /** The window over which failures are compared. */
  readonly window: number;
}

/** protocol-mismatch failures from one proxy-like address that raise the diagnosis … */
export const MISMATCH_EVIDENCE = 3;
/** … or this many failures of any cause, when they are at least half of all failures. */
export const MOSTLY_EVIDENCE = 10;

const PRIVATE_NETS = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'].map(
  (s) => parseCidr(s)!,
);
const PRIVATE = netSet(PRIVATE_NETS);
/** 1 for every first octet within PRIVATE's IPv4 networks (a table: a Set lookup per failure cost more). */
const PRIVATE_FIRST_OCTETS = new Uint8Array(256);
for (const net of PRIVATE_NETS) {
  if (net.family !== 4) continue;
  const first = net.network.w3 >>> 24;
  const span = net.prefix >= 8 ? 0 : 0xff >>> net.prefix;
  PRIVATE_FIRST_OCTETS.fill(1, first, first + span + 1);
}
const LOOPBACK = netSet(['127.0.0.0/8', '::1/128'].map((s) => parseCidr(s)!));

export type ProxyKind = 'trusted proxy' | 'loopback' | 'private address';

interface Tally {
  failures: WindowCount;
  mismatches: WindowCount;
}

export interface DiagnosisState {
  /** Every failure in the window, for the share. */
  all: WindowCount | null;
  suspects: Map<string, Tally>;
  lastRaised: Map<string, number>;
}

export function emptyDiagnosis(): DiagnosisState {
  return { all: null, suspects: new Map(), lastRaised: new Map() };
}

export interface Diagnosis {
  readonly code: 'proxy-protocol';
  readonly subject: string;
  readonly message: string;
  readonly evidence: Record<string, number | string>;
}

const trusted = new WeakMap<readonly Cidr[], NetSet>();
function trustedSet(rules: DiagnosisRules): NetSet {
  let s = trusted.get(rules.trustedProxies);
  if (!s) trusted.set(rules.trustedProxies, (s = netSet(rules.trustedProxies)));
  return s;
}

/** Why `ip` may stand for many clients: a trusted proxy, loopback (sslh, tunnels) or a private address. */
export function proxyKind(rules: DiagnosisRules, ip: Ip): ProxyKind | null {
  if (rules.trustedProxies.length && trustedSet(rules).has(ip)) return 'trusted proxy';
  // Most failures come from public addresses: settle those cheaply, by the words (an Ip made
  // from words writes its text only when asked). Private IPv6 (::1, fc00::/7, fe80::/10) is
  // ::1 or starts with an f nibble; private IPv4 (PRIVATE below) starts with one of six octets.
  if (ip.family === 6 && ip.w0 >>> 28 !== 0xf && !(ip.w0 === 0 && ip.w1 === 0 && ip.w2 === 0 && ip.w3 === 1)) return null;
  if (ip.family === 4 && PRIVATE_FIRST_OCTETS[ip.w3 >>> 24] === 0) return null;
  if (!PRIVATE.has(ip)) return null;
  return LOOPBACK.has(ip) ? 'loopback' : 'private address';
}

/**
 * Counts one failure and returns a diagnosis when this address now looks like
 * a proxy whose PROXY header the server rejects; at most once per period each.
 */
export function diagnose(
  s: DiagnosisState,
  rules: DiagnosisRules,
  ev: { ip: Ip; time: number; cause?: string | undefined },
): Diagnosis | null {
  const all = (s.all ??= windowCount(rules.window));
  addAt(all, ev.time);
  const kind = proxyKind(rules, ev.ip);
  if (!kind) return null;
  let t = s.suspects.get(ev.ip.text);
  if (!t) {
    // Thousands of private addresses failing is a scan of an internal network, not a proxy.
    if (s.suspects.size >= 1024) return null;
    s.suspects.set(ev.ip.text, (t = { failures: windowCount(rules.window), mismatches: windowCount(rules.window) }));
  }
  addAt(t.failures, ev.time);
  if (ev.cause === 'protocol-mismatch') addAt(t.mismatches, ev.time);

  const failures = countAt(t.failures, ev.time);
  const mismatches = countAt(t.mismatches, ev.time);
  const mismatch = mismatches >= MISMATCH_EVIDENCE;
  const share = failures / Math.max(1, countAt(all, ev.time));
  const mostly = failures >= MOSTLY_EVIDENCE && share >= 0.5;
  if (!mismatch && !mostly) return null;
  const key = `proxy-protocol:${ev.ip.text}`;
  const last = s.lastRaised.get(key);
  if (last !== undefined && ev.time - last < rules.period) return null;
  s.lastRaised.set(key, ev.time);

  const evidence = {
    address: ev.ip.text,
    kind,
    failures,
    protocolMismatch: mismatches,
    sharePercent: Math.round(share * 100),
    window: formatDuration(rules.window),
  };
  const seen = mismatch
    ? `${mismatches} handshakes from ${ev.ip.text} (${kind}) within ${evidence.window} were not TLS at all (protocol-mismatch)`
    : `${evidence.sharePercent}% of handshake failures within ${evidence.window} come from ${ev.ip.text} (${kind})`;
  let message =
    `${seen}: a proxy in front of this server is probably sending PROXY protocol (e.g. frp \`transport.proxyProtocolVersion\`) ` +
    'that the TLS server does not expect: enable proxy_protocol on the listener, or disable it on the proxy';
  if (kind === 'private address') message += `; add ${ev.ip.text} to policy.trustedProxies so it is never banned`;
  return { code: 'proxy-protocol', subject: ev.ip.text, message, evidence };
}

/** Forgets tallies that have left the window. */
export function pruneDiagnosis(s: DiagnosisState, rules: DiagnosisRules, now: number): void {
  if (s.all) countAt(s.all, now);
  for (const [k, t] of s.suspects) if (countAt(t.failures, now) === 0) s.suspects.delete(k);
  for (const [k, at] of s.lastRaised) if (now - at >= rules.period) s.lastRaised.delete(k);
}
