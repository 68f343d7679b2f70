import type { Ip } from '../net/address.js';
import { durationText } from './duration-text.js';
// The window is a ring of buckets, as a WindowCount's is.
import { BUCKETS, slotOf } from './window-count.js';
import { regrow } from '../net/columns.js';
import { KeyedRows, type RowColumns } from '../net/keyed-rows.js';

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

const SEEN_KEPT = 50_000;
const SWEEP_FROM = 1024;

export interface BreakerState {
  /** Per slot of the ring: which bucket it holds, and that bucket's counts. */
  readonly bucket: number[];
  readonly failures: number[];
  readonly certRejected: number[];
  /** How many addresses were last seen in each bucket: their sum over the window is the distinct count. */
  readonly lastSeenHere: number[];
  /** Each address and the bucket it was last seen in. */
  readonly seen: LastSeen;
  tripped: boolean;
  since: number | null;
  endedAt: number | null;
  /** The last time the storm condition held. */
  lastStormy: number;
  /** Entries (addresses, prefixes) whose ban was held back since the storm began. */
  held: number;
  /** Which entries, so each is reported once per storm. */
  readonly heldEntries: Set<string>;
  /** The newest time seen, so late lines do not move the window back. */
  clock: number;
  evidence: StormEvidence | null;
  /** The bucket `evidence` was measured in. */
  evidenceBucket: number;
  /** The oldest live bucket when `seen` was last swept. */
  sweptAt: number;
  /**
   * The counts summed over the live buckets (those from `liveFrom` on), kept
   * up to date as they change: adding the ring up again for every failure
   * cost more than counting it.
   */
  readonly live: { addresses: number; failures: number; certRejected: number };
  liveFrom: number;
}

export interface StormEvidence {
  addresses: number;
  failures: number;
  certRejected: number;
  window: string;
}

export function emptyBreaker(): BreakerState {
  return {
    bucket: new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY),
    failures: new Array<number>(BUCKETS).fill(0),
    certRejected: new Array<number>(BUCKETS).fill(0),
    lastSeenHere: new Array<number>(BUCKETS).fill(0),
    seen: new LastSeen(),
    tripped: false,
    since: null,
    endedAt: null,
    lastStormy: 0,
    held: 0,
    heldEntries: new Set(),
    clock: 0,
    evidence: null,
    evidenceBucket: Number.NEGATIVE_INFINITY,
    sweptAt: Number.NEGATIVE_INFINITY,
    live: { addresses: 0, failures: 0, certRejected: 0 },
    liveFrom: Number.NEGATIVE_INFINITY,
  };
}

function widthOf(rules: BreakerRules): number {
  return Math.max(1, Math.ceil(rules.window / BUCKETS));
}

/** Moves the start of the live range to `oldest`, taking the buckets that left it out of the sums. */
function retire(s: BreakerState, oldest: number): void {
  if (oldest <= s.liveFrom) return;
  for (let i = 0; i < BUCKETS; i++) {
    const b = s.bucket[i]!;
    if (b >= s.liveFrom && b < oldest) subtract(s, i);
  }
  s.liveFrom = oldest;
}

function subtract(s: BreakerState, i: number): void {
  s.live.addresses -= s.lastSeenHere[i]!;
  s.live.failures -= s.failures[i]!;
  s.live.certRejected -= s.certRejected[i]!;
}

/**
 * Counts one failure (every failure counts, protected or not, whatever its
 * weight). Constant work per failure: a flood is exactly when this runs most.
 */
export function countFailure(s: BreakerState, rules: BreakerRules, ip: Ip, certRejected: boolean, time: number): void {
  if (time > s.clock) s.clock = time;
  const w = widthOf(rules);
  const oldest = Math.floor(s.clock / w) - BUCKETS + 1;
  retire(s, oldest);
  const idx = Math.floor(time / w);
  if (idx < oldest) return; // older than the window
  const i = slotOf(idx);
  if (s.bucket[i] !== idx) {
    // What this slot held is older than the window already; exact all the same.
    if (s.bucket[i]! >= s.liveFrom) subtract(s, i);
    s.bucket[i] = idx;
    s.failures[i] = 0;
    s.certRejected[i] = 0;
    s.lastSeenHere[i] = 0;
  }
  s.failures[i]!++;
  s.live.failures++;
  if (certRejected) {
    s.certRejected[i]!++;
    s.live.certRejected++;
  }
  const r = s.seen.find(ip);
  if (r < 0) {
    // Addresses that left the window are swept out (at most once per bucket) once they
    // outnumber those still in it a few times over: the table stays about the
    // window's size, and so in cache, at little cost per failure. Past the cap (a
    // few times the threshold at least), more addresses change nothing but memory.
    if (s.seen.size >= Math.max(SWEEP_FROM, 4 * s.live.addresses)) sweep(s, oldest);
    const cap = Math.max(rules.maxAddresses * 4, SEEN_KEPT);
    if (s.seen.size >= cap) return;
    s.seen.add(ip, idx);
    s.lastSeenHere[i]!++;
    s.live.addresses++;
  } else {
    const last = s.seen.bucketOf(r);
    if (last < idx) {
      const j = slotOf(last);
      if (s.bucket[j] === last) {
        s.lastSeenHere[j]!--;
        if (last >= s.liveFrom) s.live.addresses--;
      }
      s.seen.setBucket(r, idx);
      s.lastSeenHere[i]!++;
      s.live.addresses++;
    }
  }
}

/** Forgets addresses last seen before the window; once per bucket at most, as it walks them all. */
function sweep(s: BreakerState, oldest: number): void {
  if (oldest === s.sweptAt) return;
  s.sweptAt = oldest;
  s.seen.forgetBefore(oldest);
}

/** Addresses and the bucket each was last seen in, keyed by family and words. */
export class LastSeen implements RowColumns {
  private readonly rows: KeyedRows;
  private bucketCol: Float64Array;

  constructor() {
    // Never smaller than a sweep leaves it to grow to again: with 256 rows at least, each sweep
    // shrank it and the next thousand addresses grew it back, three reallocations a sweep (a tenth
    // of a second over the bench's 1M lines).
    this.rows = new KeyedRows(5, this, 2 * SWEEP_FROM);
    this.bucketCol = new Float64Array(this.rows.capacity);
  }

  get size(): number {
    return this.rows.size;
  }

  /** The row of `ip`, or -1. */
  find(ip: Ip): number {
    return this.rows.find(ip.family, ip.w0, ip.w1, ip.w2, ip.w3);
  }

  add(ip: Ip, bucket: number): void {
    this.bucketCol[this.rows.insert(ip.family, ip.w0, ip.w1, ip.w2, ip.w3)] = bucket;
  }

  bucketOf(r: number): number {
    return this.bucketCol[r]!;
  }

  setBucket(r: number, bucket: number): void {
    this.bucketCol[r] = bucket;
  }

  forgetBefore(oldest: number): void {
    this.rows.retain((r) => this.bucketCol[r]! >= oldest);
  }

  resize(capacity: number): void {
    this.bucketCol = regrow(this.bucketCol, capacity, this.rows.size);
  }

  move(from: number, to: number): void {
    this.bucketCol[to] = this.bucketCol[from]!;
  }
}

function sum(s: BreakerState, rules: BreakerRules): BreakerState['live'] {
  retire(s, Math.floor(s.clock / widthOf(rules)) - BUCKETS + 1);
  return s.live;
}

export function measure(s: BreakerState, rules: BreakerRules): StormEvidence {
  const { addresses, failures, certRejected } = sum(s, rules);
  return { addresses, failures, certRejected, window: durationText(rules.window) };
}

function stormy(e: { addresses: number; failures: number; certRejected: number }, rules: BreakerRules): boolean {
  if (e.addresses >= rules.maxAddresses) return true;
  return e.failures >= rules.minFailures && e.certRejected / e.failures >= rules.certRejectedShare;
}

export type BreakerChange = 'tripped' | 'resumed' | null;

/** Re-evaluates at `now`: trips, stays, or resumes after `cooldown` of calm. */
export function evaluate(s: BreakerState, rules: BreakerRules, now: number): BreakerChange {
  if (now > s.clock) s.clock = now;
  if (stormy(sum(s, rules), rules)) {
    s.lastStormy = s.clock;
    if (s.tripped) {
      // Fresh evidence once per bucket is plenty: it is reported at most once an hour.
      const idx = Math.floor(s.clock / widthOf(rules));
      if (idx !== s.evidenceBucket) {
        s.evidence = measure(s, rules);
        s.evidenceBucket = idx;
      }
      return null;
    }
    s.evidence = measure(s, rules);
    s.evidenceBucket = Math.floor(s.clock / widthOf(rules));
    s.tripped = true;
    s.since = s.clock;
    s.endedAt = null;
    s.held = 0;
    s.heldEntries.clear();
    return 'tripped';
  }
  if (s.tripped && s.clock - s.lastStormy >= rules.cooldown) {
    s.tripped = false;
    s.endedAt = s.clock;
    s.heldEntries.clear();
    return 'resumed';
  }
  return null;
}

/** Forgets addresses that left the window (the daemon prunes now and then). */
export function pruneBreaker(s: BreakerState, rules: BreakerRules, now: number): void {
  if (now > s.clock) s.clock = now;
  sweep(s, Math.floor(s.clock / widthOf(rules)) - BUCKETS + 1);
}

/** "480 addresses failed within 1m (limit 300)" and the like, for logs and status. */
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
