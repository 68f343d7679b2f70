import { formatDuration } from '../config/duration.js';
import { durationText } from './duration-text.js';
import { cidrContains, cidrOf, parseCidr, type Cidr, type Ip } from '../net/address.js';
import { prefixOf, prefixText } from '../net/prefix.js';
import { BanTable } from './ban-table.js';
import { FailureWindows } from './failure-windows.js';
import { PrefixWindows } from './prefix-windows.js';
import { causeIndex, CAUSES, type Cause } from '../signatures/causes.js';
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

/** What the policy remembers between events. */
export interface PolicyState {
  /** Recent failure times per address (a weight-2 failure appears twice). */
  readonly windows: FailureWindows;
  /** Bans in force per entry (address or network). */
  readonly bannedUntil: BanTable;
  /** Recent failures per IPv6 prefix, and which of its addresses failed. */
  readonly prefixes: PrefixWindows;
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
const NONE: readonly Decision[] = Object.freeze([]);
/** Repeat offenders remembered in memory for escalation (the database keeps them all). */
export const MAX_HISTORY = 200_000;
/** Entries held during one storm that are remembered so as to be reported once; past that, each hold is reported. */
const MAX_HELD_REMEMBERED = 100_000;

export function emptyState(): PolicyState {
  return {
    windows: new FailureWindows(),
    bannedUntil: new BanTable(),
    prefixes: new PrefixWindows(),
    history: new Map(),
    breaker: emptyBreaker(),
    diagnosis: emptyDiagnosis(),
  };
}

export function weightOf(rules: PolicyRules, cause: Cause | undefined): number {
  const weights = rules.causeWeights;
  if (cause === undefined || !weights) return 1;
  // Looked up as an object's key, the cause made a megamorphic load for every failure; the
  // weights are read once per weights object into a list by cause instead (a memo: same answers).
  if (weights !== weightsRead) {
    weightsRead = weights;
    weightList = CAUSES.map((c) => weights[c] ?? 1);
  }
  return weightList[causeIndex(cause)]!;
}

let weightsRead: Readonly<Record<string, number>> | undefined;
let weightList: number[] = [];

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
 * It keeps no reference to `ev`, so a caller may fill one object for every failure.
 */
export function observe(state: PolicyState, rules: PolicyRules, ev: Observation, now: number): readonly Decision[] {
  // Most failures decide nothing: they share one empty list rather than each allocating one.
  let out = NONE;
  // Every failure is evidence for the diagnoses and the breaker, whatever its weight or origin.
  if (rules.diagnosis) {
    const d = diagnose(state.diagnosis, rules.diagnosis, ev);
    if (d) out = [{ kind: 'diagnosis', level: 'warn', ...d, at: now }];
  }
  if (rules.breaker) {
    countFailure(state.breaker, rules.breaker, ev.ip, ev.cause === 'cert-rejected', ev.time);
    const b = breakerDecision(state, rules, rules.breaker, ev.time, now);
    if (b) out = out === NONE ? [b] : [...out, b];
  }
  const weight = weightOf(rules, ev.cause);
  if (weight <= 0) return out;

  // The IPv6 prefix this failure also counts for (0: none).
  const len = ev.ip.family === 6 && rules.ipv6 && rules.ipv6.prefixLength < 128 ? rules.ipv6.prefixLength : 0;
  // Failures while banned do not count; a lapsed ban is forgotten.
  if (len) {
    const until = state.bannedUntil.untilOfPrefix(ev.ip, len);
    if (until !== undefined) {
      if (ev.time < until) return out;
      state.bannedUntil.delete(prefixOf(ev.ip, len));
    }
  }
  const until = state.bannedUntil.untilOfIp(ev.ip);
  if (until !== undefined) {
    if (ev.time < until) return out;
    state.bannedUntil.delete(cidrOf(ev.ip));
  }
  if (len) {
    const d = countPrefix(state, rules, rules.ipv6!, len, ev, weight, now);
    if (d) out = out === NONE ? [d] : [...out, d];
    // Inside a network banned just now: this failure is the ban's, not the address's.
    if (d?.kind === 'ban') return out;
  }
  const d = countAddress(state, rules, ev, weight, now);
  if (d) out = out === NONE ? [d] : [...out, d];
  return out;
}

/**
 * Lets time pass without failures: the breaker resumes once the storm is
 * over even if no line arrives. Call it now and then (the daemon: every tick).
 */
export function advance(state: PolicyState, rules: PolicyRules, now: number): readonly Decision[] {
  const d = rules.breaker ? breakerDecision(state, rules, rules.breaker, now, now) : null;
  return d ? [d] : NONE;
}

function countAddress(state: PolicyState, rules: PolicyRules, ev: Observation, weight: number, now: number): Decision | null {
  const from = ev.time - rules.findTime;
  const inWindow = state.windows.add(ev.ip, ev.time, weight, from, rules.maxRetry);
  if (inWindow < rules.maxRetry) return null;
  state.windows.delete(ev.ip);
  return reach(state, rules, ev.ip, cidrOf(ev.ip), inWindow, addressReason(rules, ev, inWindow), now);
}

// The reasons are made by functions of their own: a closure written inside countAddress or
// countPrefix made V8 allocate its captured variables on every call, decision or not.

function addressReason(rules: PolicyRules, ev: Observation, inWindow: number): () => string {
  return () => `${inWindow} handshake failures within ${durationText(rules.findTime)} (last: ${ev.reason})`;
}

function countPrefix(
  state: PolicyState,
  rules: PolicyRules,
  p: PrefixRules,
  len: number,
  ev: Observation,
  weight: number,
  now: number,
): Decision | null {
  const from = ev.time - rules.findTime;
  const total = state.prefixes.add(ev.ip, len, ev.time, weight, from, p.maxRetry);
  const distinct = state.prefixes.distinct;
  if (total < p.maxRetry && distinct < p.maxAddresses) return null;
  state.prefixes.deletePrefix(ev.ip, len);
  return reach(state, rules, ev.ip, prefixOf(ev.ip, len), total, prefixReason(rules, ev, len, total, distinct), now);
}

function prefixReason(rules: PolicyRules, ev: Observation, len: number, total: number, distinct: number): () => string {
  return () =>
    `${distinct} address${distinct === 1 ? '' : 'es'} of ${prefixText(ev.ip, len)} failed ${total} handshake${total === 1 ? '' : 's'} ` +
    `within ${durationText(rules.findTime)} (last: ${ev.ip.text}, ${ev.reason})`;
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
  state.bannedUntil.set(net, until);
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

function breakerDecision(state: PolicyState, rules: PolicyRules, b: BreakerRules, time: number, now: number): Decision | null {
  const s = state.breaker;
  const change = evaluate(s, b, time);
  if (change === null && !s.tripped) return null;
  const period = rules.diagnosis?.period ?? HOUR;
  const evidence = () => ({ ...s.evidence!, held: s.held, since: new Date(s.since!).toISOString() });
  if (change === 'tripped' || (s.tripped && s.evidence && time - (state.diagnosis.lastRaised.get('storm') ?? 0) >= period)) {
    state.diagnosis.lastRaised.set('storm', time);
    return {
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
    };
  }
  if (change === 'resumed') {
    state.diagnosis.lastRaised.delete('storm');
    return {
      kind: 'diagnosis',
      code: 'storm-over',
      level: 'info',
      subject: 'breaker',
      message:
        `storm over after ${formatDuration(s.endedAt! - s.since!)}: automatic bans resume ` +
        `(${s.held} held back during it were not issued)`,
      evidence: evidence(),
      at: now,
    };
  }
  return null;
}

/**
 * Forgets what can no longer matter (windows out of reach, bans that ended,
 * old history), so memory stays bounded.
 */
export function prune(state: PolicyState, rules: PolicyRules, now: number, lateBy = 0): void {
  // What a failure up to `lateBy` older than `now` may still need is kept (offline replay
  // reads lines that are not quite in order). The diagnosis and breaker rings keep their
  // own window of the newest time, so they are pruned at `now` itself.
  const from = now - lateBy - rules.findTime;
  state.windows.prune(from);
  state.bannedUntil.prune(now - lateBy);
  state.prefixes.prune(from);
  if (rules.escalation) {
    const since = now - lateBy - rules.escalation.rememberFor;
    // forEach, not for…of: this runs at every prune over every past offender, and for…of made a [key, times] array each.
    state.history.forEach((times, key) => {
      // Usually in order, so nothing to copy; an old time left behind costs memory only (recentBans counts its own window).
      if (times[0]! > since) return;
      const kept = times.filter((t) => t > since);
      if (kept.length) state.history.set(key, kept);
      else state.history.delete(key);
    });
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
  state.windows.deleteWithin(net);
  state.bannedUntil.deleteWithin(net);
  state.prefixes.deleteWithin(net);
  for (const key of state.history.keys()) {
    const entry = parseCidr(key);
    if (entry && cidrContains(net, entry)) state.history.delete(key);
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
    state.bannedUntil.set(b.net, b.until ?? Number.POSITIVE_INFINITY);
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
    if (end === undefined || f.at > end) state.windows.add(f.ip, f.at, weight, Number.NEGATIVE_INFINITY, rules.maxRetry);
    const p = rules.ipv6;
    if (f.ip.family !== 6 || !p || p.prefixLength >= 128) continue;
    // Failures while the address itself was banned did not count for its prefix either.
    const banned = since.get(f.ip.text);
    if (banned !== undefined && f.at > banned && f.at < (state.bannedUntil.untilOfIp(f.ip) ?? 0)) continue;
    if (data.banEnds && (data.banEnds.get(prefixText(f.ip, p.prefixLength)) ?? Number.NEGATIVE_INFINITY) >= f.at) continue;
    state.prefixes.restore(f.ip, p.prefixLength, f.at, weight, p.maxRetry);
  }
}
