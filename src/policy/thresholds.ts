import { formatDuration } from '../config/duration.js';
import type { Ip } from '../net/address.js';
import { protectedBy, type ProtectedRanges } from './protected.js';

export interface PolicyRules {
  readonly maxRetry: number;
  readonly findTime: number;
  readonly banTime: number;
  readonly protect: readonly ProtectedRanges[];
}

/** What the policy remembers between events: recent failure times and current bans, per address. */
export interface PolicyState {
  readonly windows: Map<string, number[]>;
  readonly bannedUntil: Map<string, number>;
}

export interface Observation {
  readonly ip: Ip;
  /** When the failure happened (the log's clock). */
  readonly time: number;
  readonly reason: string;
}

export type Decision =
  | {
      readonly kind: 'ban';
      readonly ip: Ip;
      readonly failures: number;
      readonly at: number;
      readonly until: number;
      readonly reason: string;
    }
  /** Reached the threshold but is protected (allow list, CDN): reported, never banned. */
  | { readonly kind: 'spared'; readonly ip: Ip; readonly failures: number; readonly at: number; readonly by: string };

export function emptyState(): PolicyState {
  return { windows: new Map(), bannedUntil: new Map() };
}

/**
 * Feeds one failure to the policy. An address is banned at the failure that
 * makes `maxRetry` failures within the last `findTime` (both ends inclusive);
 * the ban wipes its window, and failures while banned do not count. `now` is
 * when the decision is taken (the log's clock in replay, the wall clock live).
 *
 * Deterministic and free of I/O; it updates `state` in place because a live
 * daemon feeds it millions of events and copying the maps each time would not do.
 */
export function observe(state: PolicyState, rules: PolicyRules, ev: Observation, now: number): Decision | null {
  const key = ev.ip.text;
  const until = state.bannedUntil.get(key);
  if (until !== undefined) {
    if (ev.time < until) return null;
    state.bannedUntil.delete(key);
  }
  const from = ev.time - rules.findTime;
  let times = state.windows.get(key);
  if (!times) {
    times = [];
    state.windows.set(key, times);
  }
  insertSorted(times, ev.time);
  // Keep only what can still matter: the window, and at most maxRetry entries.
  let drop = 0;
  while (drop < times.length && times[drop]! < from) drop++;
  if (times.length - drop > rules.maxRetry) drop = times.length - rules.maxRetry;
  if (drop) times.splice(0, drop);
  const inWindow = countInWindow(times, from, ev.time);
  if (inWindow < rules.maxRetry) return null;

  state.windows.delete(key);
  const by = protectedBy(rules.protect, ev.ip);
  if (by) return { kind: 'spared', ip: ev.ip, failures: inWindow, at: now, by };
  const banUntil = now + rules.banTime;
  state.bannedUntil.set(key, banUntil);
  return {
    kind: 'ban',
    ip: ev.ip,
    failures: inWindow,
    at: now,
    until: banUntil,
    reason: `${inWindow} handshake failures within ${formatDuration(rules.findTime)} (last: ${ev.reason})`,
  };
}

/** Forgets windows that can no longer reach the threshold and bans that ended, so memory stays bounded. */
export function prune(state: PolicyState, rules: PolicyRules, now: number): void {
  const from = now - rules.findTime;
  for (const [key, times] of state.windows) if (times[times.length - 1]! < from) state.windows.delete(key);
  for (const [key, until] of state.bannedUntil) if (until <= now) state.bannedUntil.delete(key);
}

/** Drops what the policy remembers about `ip` (an unban forgets its failures). */
export function forget(state: PolicyState, key: string): void {
  state.windows.delete(key);
  state.bannedUntil.delete(key);
}

function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1]! > t) i--;
  times.splice(i, 0, t);
}

function countInWindow(times: number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t <= to) n++;
  return n;
}
