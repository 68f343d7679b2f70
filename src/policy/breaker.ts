import { formatDuration } from '../config/duration.js';

/**
 * The storm breaker: when, within `window`, handshakes fail from more distinct
 * addresses than `maxAddresses`, or a large share of failures are the clients
 * refusing our certificate, the server is broken, not the clients, and
 * automatic bans stop until it has been calm for `cooldown`.
 */
export interface BreakerRules {
  readonly window: number;
  readonly maxAddresses: number;
  /** Share (0–1) of cert-rejected failures within the window that trips it … */
  readonly certRejectedShare: number;
  /** … once the window holds at least this many failures. */
  readonly minFailures: number;
  readonly cooldown: number;
}

const BUCKETS = 10;

interface Bucket {
  failures: number;
  certRejected: number;
  addresses: Set<string>;
}

export interface BreakerState {
  buckets: Map<number, Bucket>;
  /** In how many live buckets each address appears: its size is the distinct count. */
  seen: Map<string, number>;
  tripped: boolean;
  since: number | null;
  endedAt: number | null;
  /** The last time the storm condition held. */
  lastStormy: number;
  /** Bans held back since the storm began. */
  held: number;
  /** The newest time seen, so late lines do not move the window back. */
  clock: number;
  evidence: StormEvidence | null;
}

export interface StormEvidence {
  addresses: number;
  failures: number;
  certRejected: number;
  window: string;
}

export function emptyBreaker(): BreakerState {
  return { buckets: new Map(), seen: new Map(), tripped: false, since: null, endedAt: null, lastStormy: 0, held: 0, clock: 0, evidence: null };
}

function widthOf(rules: BreakerRules): number {
  return Math.max(1, Math.ceil(rules.window / BUCKETS));
}

function evict(s: BreakerState, rules: BreakerRules, now: number): void {
  const oldest = Math.floor(now / widthOf(rules)) - BUCKETS + 1;
  for (const [idx, b] of s.buckets) {
    if (idx >= oldest) continue;
    for (const a of b.addresses) {
      const n = s.seen.get(a)! - 1;
      if (n <= 0) s.seen.delete(a);
      else s.seen.set(a, n);
    }
    s.buckets.delete(idx);
  }
}

/** Counts one failure (every failure counts, protected or not, whatever its weight). */
export function countFailure(s: BreakerState, rules: BreakerRules, key: string, certRejected: boolean, time: number): void {
  if (time > s.clock) s.clock = time;
  evict(s, rules, s.clock);
  const idx = Math.floor(time / widthOf(rules));
  if (idx <= Math.floor(s.clock / widthOf(rules)) - BUCKETS) return; // older than the window
  let b = s.buckets.get(idx);
  if (!b) s.buckets.set(idx, (b = { failures: 0, certRejected: 0, addresses: new Set() }));
  b.failures++;
  if (certRejected) b.certRejected++;
  // Past a few times the threshold, more addresses change nothing but memory.
  if (!b.addresses.has(key) && s.seen.size < rules.maxAddresses * 4) {
    b.addresses.add(key);
    s.seen.set(key, (s.seen.get(key) ?? 0) + 1);
  }
}

export function measure(s: BreakerState, rules: BreakerRules): StormEvidence {
  let failures = 0;
  let certRejected = 0;
  for (const b of s.buckets.values()) {
    failures += b.failures;
    certRejected += b.certRejected;
  }
  return { addresses: s.seen.size, failures, certRejected, window: formatDuration(rules.window) };
}

function stormy(e: StormEvidence, rules: BreakerRules): boolean {
  if (e.addresses >= rules.maxAddresses) return true;
  return e.failures >= rules.minFailures && e.certRejected / e.failures >= rules.certRejectedShare;
}

export type BreakerChange = 'tripped' | 'resumed' | null;

/** Re-evaluates at `now`: trips, stays, or resumes after `cooldown` of calm. */
export function evaluate(s: BreakerState, rules: BreakerRules, now: number): BreakerChange {
  if (now > s.clock) s.clock = now;
  evict(s, rules, s.clock);
  const e = measure(s, rules);
  if (stormy(e, rules)) {
    s.lastStormy = s.clock;
    s.evidence = e;
    if (s.tripped) return null;
    s.tripped = true;
    s.since = s.clock;
    s.endedAt = null;
    s.held = 0;
    return 'tripped';
  }
  if (s.tripped && s.clock - s.lastStormy >= rules.cooldown) {
    s.tripped = false;
    s.endedAt = s.clock;
    return 'resumed';
  }
  return null;
}

/** "480 addresses failed within 1m (≥ 300 trips the breaker)" and the like, for logs and status. */
export function describeStorm(e: StormEvidence, rules: BreakerRules): string {
  const parts: string[] = [];
  if (e.addresses >= rules.maxAddresses) {
    parts.push(`${e.addresses} different addresses failed handshakes within ${e.window} (limit ${rules.maxAddresses})`);
  }
  if (e.failures > 0 && e.certRejected / e.failures >= rules.certRejectedShare && e.failures >= rules.minFailures) {
    parts.push(`${Math.round((100 * e.certRejected) / e.failures)}% of ${e.failures} failures within ${e.window} are clients rejecting the certificate`);
  }
  return parts.join('; ') || `${e.addresses} addresses, ${e.failures} failures within ${e.window}`;
}
