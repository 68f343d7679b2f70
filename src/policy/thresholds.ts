import { formatDuration } from '../config/duration.js';
import { durationText } from './duration-text.js';
import { cidrContains, cidrOf, parseCidr, type Cidr, type Ip } from '../net/address.js';
import { prefixOf, prefixText } from '../net/prefix.js';
import type { Cause } from '../signatures/causes.js';
import { countFailure, describeStorm, emptyBreaker, evaluate, pruneBreaker, type BreakerRules, type BreakerState } from './breaker.js';
import { diagnose, emptyDiagnosis, pruneDiagnosis, type DiagnosisRules, type DiagnosisState } from './diagnosis.js';
import { banDuration, recentBans, type EscalationRules } from './escalation.js';
import { overlappingGroup, protectingGroup, sparedNote, type ProtectedRanges } from './protected.js';

/** IPv6 failures also count per prefix: a host rotating through its /64 is still one offender. */
export interface PrefixRules {
  readonly prefixLength: number;
  /** Failures (weighted) of the whole prefix within findTime that ban it … */
  readonly maxRetry: number;
  /** … or distinct failing addresses of the prefix within findTime. */
  readonly maxAddresses: number;
}

/**
 * The rules. The optional parts are off when absent; `policyRules(config)`
 * always fills them in from the config's defaults.
 */
export interface PolicyRules {
  readonly maxRetry: number;
  readonly findTime: number;
  readonly banTime: number;
  /** Never banned; the first group that holds an address names why. */
  readonly protect: readonly ProtectedRanges[];
  /** How many failures one failure of a cause counts as (default 1; 0: seen, never towards a ban). */
  readonly causeWeights?: Readonly<Record<string, number>>;
  readonly escalation?: EscalationRules;
  readonly ipv6?: PrefixRules;
  readonly breaker?: BreakerRules;
  readonly diagnosis?: DiagnosisRules;
}

interface PrefixWindow {
  times: number[];
  /**
   * Each failing address of the prefix and its latest failure, side by side.
   * Arrays, not a map: there are at most maxAddresses of them, and a flood can
   * bring one window per /64.
   */
  addresses: string[];
  lastFailed: number[];
}

/** Notes that `addr` failed at `time`, dropping addresses whose last failure left the window. */
function seeAddress(w: PrefixWindow, addr: string, time: number, from: number): void {
  const i = w.addresses.indexOf(addr);
  if (i < 0) {
    w.addresses.push(addr);
    w.lastFailed.push(time);
  } else if (w.lastFailed[i]! < time) w.lastFailed[i] = time;
  for (let j = w.addresses.length - 1; j >= 0; j--) {
    if (w.lastFailed[j]! < from) {
      w.addresses.splice(j, 1);
      w.lastFailed.splice(j, 1);
    }
  }
}

/** What the policy remembers between events. */
export interface PolicyState {
  /** Recent failure times per address (a weight-2 failure appears twice). */
  readonly windows: Map<string, number[]>;
  /** Bans in force per entry (address or network text). */
  readonly bannedUntil: Map<string, number>;
  readonly prefixes: Map<string, PrefixWindow>;
  /** Times of past bans per entry within rememberFor, for escalation. */
  readonly history: Map<string, number[]>;
  readonly breaker: BreakerState;
  readonly diagnosis: DiagnosisState;
}

export interface Observation {
  readonly ip: Ip;
  /** When the failure happened (the log's clock). */
  readonly time: number;
  readonly reason: string;
  /** The signature's classification (eof, cert-rejected, protocol-mismatch …), which sets the weight. */
  readonly cause?: Cause;
}

export type Decision =
  | {
      readonly kind: 'ban';
      /** The address whose failure decided it. */
      readonly ip: Ip;
      /** What is banned: the address, or its IPv6 prefix. */
      readonly net: Cidr;
      readonly failures: number;
      readonly at: number;
      readonly until: number;
      readonly reason: string;
      /** 1 for a first ban, n for the n-th within rememberFor. */
      readonly offence: number;
    }
  /** Reached the threshold but is protected (allow list, CDN, proxy, this host): reported, never banned. */
  | {
      readonly kind: 'spared';
      readonly ip: Ip;
      readonly net: Cidr;
      readonly failures: number;
      readonly at: number;
      readonly by: string;
      readonly note: string;
    }
  /** Reached the threshold during a storm: the breaker held the ban back. */
  | {
      readonly kind: 'held';
      readonly ip: Ip;
      readonly net: Cidr;
      readonly failures: number;
      readonly at: number;
      readonly reason: string;
    }
  /** Something the operator must fix, raised at most once per period per subject. */
  | {
      readonly kind: 'diagnosis';
      readonly code: 'proxy-protocol' | 'storm' | 'storm-over';
      readonly level: 'warn' | 'info';
      readonly subject: string;
      readonly message: string;
      readonly evidence: Record<string, number | string>;
      readonly at: number;
    };

const HOUR = 3_600_000;
/** Repeat offenders remembered in memory for escalation (the database keeps them all). */
export const MAX_HISTORY = 200_000;
/** Entries held during one storm that are remembered so as to be reported once; past that, each hold is reported. */
const MAX_HELD_REMEMBERED = 100_000;

export function emptyState(): PolicyState {
  return {
    windows: new Map(),
    bannedUntil: new Map(),
    prefixes: new Map(),
    history: new Map(),
    breaker: emptyBreaker(),
    diagnosis: emptyDiagnosis(),
  };
}

export function weightOf(rules: PolicyRules, cause: Cause | undefined): number {
  if (cause === undefined || !rules.causeWeights) return 1;
  return rules.causeWeights[cause] ?? 1;
}

/**
 * Feeds one failure to the policy and returns what it decided (often nothing).
 *
 * An address is banned at the failure that makes `maxRetry` (weighted)
 * failures within the last `findTime` (both ends inclusive); the ban wipes its
 * window, and failures while banned do not count. IPv6 failures also count for
 * their prefix, which is banned as one network when it crosses its own
 * threshold. Protected addresses are spared, bans during a storm are held,
 * and repeat offenders are banned for longer. `now` is when the decision is
 * taken (the log's clock in replay, the wall clock live).
 *
 * Deterministic and free of I/O; it updates `state` in place because a live
 * daemon feeds it millions of events and copying the maps each time would not do.
 */
export function observe(state: PolicyState, rules: PolicyRules, ev: Observation, now: number): Decision[] {
  const out: Decision[] = [];
  // Every failure is evidence for the diagnoses and the breaker, whatever its weight or origin.
  if (rules.diagnosis) {
    const d = diagnose(state.diagnosis, rules.diagnosis, ev);
    if (d) out.push({ kind: 'diagnosis', level: 'warn', ...d, at: now });
  }
  if (rules.breaker) {
    countFailure(state.breaker, rules.breaker, ev.ip.text, ev.cause === 'cert-rejected', ev.time);
    breakerDecisions(state, rules, rules.breaker, ev.time, now, out);
  }
  const weight = weightOf(rules, ev.cause);
  if (weight <= 0) return out;

  const prefix = ev.ip.family === 6 && rules.ipv6 && rules.ipv6.prefixLength < 128 ? prefixText(ev.ip, rules.ipv6.prefixLength) : null;
  if (prefix && stillBanned(state, prefix, ev.time)) return out;
  if (stillBanned(state, ev.ip.text, ev.time)) return out;
  if (prefix) {
    const d = countPrefix(state, rules, rules.ipv6!, prefix, ev, weight, now);
    if (d) out.push(d);
    // Inside a network banned just now: this failure is the ban's, not the address's.
    if (d?.kind === 'ban') return out;
  }
  const d = countAddress(state, rules, ev, weight, now);
  if (d) out.push(d);
  return out;
}

/**
 * Lets time pass without failures: the breaker resumes once the storm is
 * over even if no line arrives. Call it now and then (the daemon: every tick).
 */
export function advance(state: PolicyState, rules: PolicyRules, now: number): Decision[] {
  const out: Decision[] = [];
  if (rules.breaker) breakerDecisions(state, rules, rules.breaker, now, now, out);
  return out;
}

function stillBanned(state: PolicyState, key: string, time: number): boolean {
  const until = state.bannedUntil.get(key);
  if (until === undefined) return false;
  if (time < until) return true;
  state.bannedUntil.delete(key);
  return false;
}

function countAddress(state: PolicyState, rules: PolicyRules, ev: Observation, weight: number, now: number): Decision | null {
  const key = ev.ip.text;
  const from = ev.time - rules.findTime;
  let times = state.windows.get(key);
  if (!times) state.windows.set(key, (times = []));
  for (let i = 0; i < weight; i++) insertSorted(times, ev.time);
  keepRecent(times, from, rules.maxRetry);
  const inWindow = countInWindow(times, from, ev.time);
  if (inWindow < rules.maxRetry) return null;
  state.windows.delete(key);
  const what = () => `${inWindow} handshake failures within ${durationText(rules.findTime)} (last: ${ev.reason})`;
  return reach(state, rules, ev.ip, cidrOf(ev.ip), inWindow, what, now);
}

function countPrefix(
  state: PolicyState,
  rules: PolicyRules,
  p: PrefixRules,
  key: string,
  ev: Observation,
  weight: number,
  now: number,
): Decision | null {
  const from = ev.time - rules.findTime;
  let w = state.prefixes.get(key);
  if (!w) state.prefixes.set(key, (w = { times: [], addresses: [], lastFailed: [] }));
  for (let i = 0; i < weight; i++) insertSorted(w.times, ev.time);
  keepRecent(w.times, from, p.maxRetry);
  seeAddress(w, ev.ip.text, ev.time, from);
  const total = countInWindow(w.times, from, ev.time);
  let distinct = 0;
  for (const t of w.lastFailed) if (t <= ev.time) distinct++;
  if (total < p.maxRetry && distinct < p.maxAddresses) return null;
  state.prefixes.delete(key);
  const what = () =>
    `${distinct} address${distinct === 1 ? '' : 'es'} of ${key} failed ${total} handshake${total === 1 ? '' : 's'} ` +
    `within ${durationText(rules.findTime)} (last: ${ev.ip.text}, ${ev.reason})`;
  return reach(state, rules, ev.ip, prefixOf(ev.ip, p.prefixLength), total, what, now);
}

/**
 * An entry reached its threshold: spare it, hold it back, or ban it for as
 * long as its record says. During a storm each entry is held (and reported)
 * once; its later windows are wiped silently, so a storm of thousands of
 * clients does not become a flood of reports.
 */
function reach(state: PolicyState, rules: PolicyRules, ip: Ip, net: Cidr, failures: number, what: () => string, now: number): Decision | null {
  const single = net.prefix === (net.family === 4 ? 32 : 128);
  const group = single ? protectingGroup(rules.protect, ip) : overlappingGroup(rules.protect, net)?.group;
  if (group) return { kind: 'spared', ip, net, failures, at: now, by: group.label, note: sparedNote(group.label) };
  if (rules.breaker && state.breaker.tripped) {
    const b = state.breaker;
    if (b.heldEntries.has(net.text)) return null;
    if (b.heldEntries.size < MAX_HELD_REMEMBERED) b.heldEntries.add(net.text);
    b.held++;
    return { kind: 'held', ip, net, failures, at: now, reason: `${what()}; held back: the storm breaker is on` };
  }
  const esc = rules.escalation;
  let history = state.history.get(net.text);
  const offence = esc ? recentBans(history, esc.rememberFor, now) + 1 : 1;
  const duration = banDuration(rules.banTime, esc, offence);
  const until = now + duration;
  state.bannedUntil.set(net.text, until);
  if (esc) {
    if (!history) {
      // Bounded: past the cap the entry banned longest ago is forgotten (a flood of one-off addresses).
      if (state.history.size >= MAX_HISTORY) state.history.delete(state.history.keys().next().value!);
      state.history.set(net.text, (history = []));
    }
    history.push(now);
  }
  const repeat = offence > 1 ? `; ban ${offence} within ${formatDuration(esc!.rememberFor)}: ${formatDuration(duration)}` : '';
  return { kind: 'ban', ip, net, failures, at: now, until, reason: what() + repeat, offence };
}

function breakerDecisions(
  state: PolicyState,
  rules: PolicyRules,
  b: BreakerRules,
  time: number,
  now: number,
  out: Decision[],
): void {
  const s = state.breaker;
  const change = evaluate(s, b, time);
  if (change === null && !s.tripped) return;
  const period = rules.diagnosis?.period ?? HOUR;
  const evidence = () => ({ ...s.evidence!, held: s.held, since: new Date(s.since!).toISOString() });
  if (change === 'tripped' || (s.tripped && s.evidence && time - (state.diagnosis.lastRaised.get('storm') ?? 0) >= period)) {
    state.diagnosis.lastRaised.set('storm', time);
    out.push({
      kind: 'diagnosis',
      code: 'storm',
      level: 'warn',
      subject: 'breaker',
      message:
        `${change === 'tripped' ? 'storm' : 'storm continues'}: ${describeStorm(s.evidence!, b)}. ` +
        'The server is probably broken (an expired or wrong certificate, a TLS config change), not its clients: ' +
        `automatic bans are paused until it has been calm for ${formatDuration(b.cooldown)} (manual bans still work)`,
      evidence: evidence(),
      at: now,
    });
  } else if (change === 'resumed') {
    state.diagnosis.lastRaised.delete('storm');
    out.push({
      kind: 'diagnosis',
      code: 'storm-over',
      level: 'info',
      subject: 'breaker',
      message:
        `storm over after ${formatDuration(s.endedAt! - s.since!)}: automatic bans resume ` +
        `(${s.held} held back during it were not issued)`,
      evidence: evidence(),
      at: now,
    });
  }
}

/** Forgets what can no longer matter (windows out of reach, bans that ended, old history), so memory stays bounded. */
export function prune(state: PolicyState, rules: PolicyRules, now: number): void {
  const from = now - rules.findTime;
  for (const [key, times] of state.windows) if (times[times.length - 1]! < from) state.windows.delete(key);
  for (const [key, until] of state.bannedUntil) if (until <= now) state.bannedUntil.delete(key);
  for (const [key, w] of state.prefixes) {
    let newest = Number.NEGATIVE_INFINITY;
    for (const t of w.lastFailed) if (t > newest) newest = t;
    if (newest < from) state.prefixes.delete(key);
  }
  if (rules.escalation) {
    const since = now - rules.escalation.rememberFor;
    for (const [key, times] of state.history) {
      const kept = times.filter((t) => t > since);
      if (kept.length) state.history.set(key, kept);
      else state.history.delete(key);
    }
  }
  if (rules.diagnosis) pruneDiagnosis(state.diagnosis, rules.diagnosis, now);
  if (rules.breaker) pruneBreaker(state.breaker, rules.breaker, now);
}

/** Drops what the policy remembers about one entry (an unban forgets its failures). */
export function forget(state: PolicyState, key: string): void {
  state.windows.delete(key);
  state.bannedUntil.delete(key);
  state.prefixes.delete(key);
  state.history.delete(key);
}

/**
 * Drops what the policy remembers about every address and network inside
 * `net`: `blocker unban` lifts their bans, forgets their failures and forgives
 * their past bans.
 */
export function forgetWithin(state: PolicyState, net: Cidr): void {
  for (const map of [state.windows, state.bannedUntil, state.prefixes, state.history] as Map<string, unknown>[]) {
    for (const key of map.keys()) {
      const entry = parseCidr(key);
      if (entry && cidrContains(net, entry)) map.delete(key);
    }
  }
}

/**
 * Rebuilds memory after a restart: bans in force, counted past bans, and
 * the failures still in their window (each with its cause's weight).
 */
export function restore(
  state: PolicyState,
  rules: PolicyRules,
  data: {
    /** Bans in force; `since` lets failures from before an address's ban still count for its prefix. */
    bans: Iterable<{ net: Cidr; until: number | null; since?: number }>;
    history?: Map<string, number[]>;
    failures: Iterable<{ ip: Ip; at: number; cause?: Cause }>;
    /** Per entry, when its last ban ended: failures before that were wiped by it. */
    banEnds?: Map<string, number>;
  },
): void {
  const since = new Map<string, number>();
  for (const b of data.bans) {
    state.bannedUntil.set(b.net.text, b.until ?? Number.POSITIVE_INFINITY);
    if (b.since !== undefined) since.set(b.net.text, b.since);
  }
  if (data.history && rules.escalation) {
    // Oldest first, so that past the cap the most recent offenders are the ones kept.
    const entries = [...data.history].sort((a, b) => a[1][a[1].length - 1]! - b[1][b[1].length - 1]!);
    for (const [k, v] of entries.slice(-MAX_HISTORY)) state.history.set(k, [...v]);
  }
  for (const f of data.failures) {
    const weight = weightOf(rules, f.cause);
    if (weight <= 0) continue;
    const end = data.banEnds?.get(f.ip.text);
    if (end === undefined || f.at > end) {
      let times = state.windows.get(f.ip.text);
      if (!times) state.windows.set(f.ip.text, (times = []));
      for (let i = 0; i < weight; i++) insertSorted(times, f.at);
      if (times.length > rules.maxRetry) times.splice(0, times.length - rules.maxRetry);
    }
    const p = rules.ipv6;
    if (f.ip.family !== 6 || !p || p.prefixLength >= 128) continue;
    // Failures while the address itself was banned did not count for its prefix either.
    const banned = since.get(f.ip.text);
    if (banned !== undefined && f.at > banned && f.at < (state.bannedUntil.get(f.ip.text) ?? 0)) continue;
    const key = prefixText(f.ip, p.prefixLength);
    if ((data.banEnds?.get(key) ?? Number.NEGATIVE_INFINITY) >= f.at) continue;
    let w = state.prefixes.get(key);
    if (!w) state.prefixes.set(key, (w = { times: [], addresses: [], lastFailed: [] }));
    for (let i = 0; i < weight; i++) insertSorted(w.times, f.at);
    if (w.times.length > p.maxRetry) w.times.splice(0, w.times.length - p.maxRetry);
    seeAddress(w, f.ip.text, f.at, Number.NEGATIVE_INFINITY);
  }
}

function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  times.splice(i, 0, t);
}

/** Keeps the window and at most `cap` entries: older ones can never matter again. */
function keepRecent(times: number[], from: number, cap: number): void {
  let drop = 0;
  while (drop < times.length && times[drop]! < from) drop++;
  if (times.length - drop > cap) drop = times.length - cap;
  if (drop) times.splice(0, drop);
}

function countInWindow(times: number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t <= to) n++;
  return n;
}
