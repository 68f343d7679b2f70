import type { Logger } from '../log.js';
import { cidrContains, isSingleAddress } from '../net/address.js';
import type { Decision, PolicyState } from '../policy/thresholds.js';
import type { Ban, NewBan } from '../store/bans.js';
import type { BreakerRecord } from '../store/diagnoses.js';
import type { Store } from '../store/store.js';

type DiagnosisDecision = Extract<Decision, { kind: 'diagnosis' }>;

/**
 * What the daemon does with the policy's decisions: logs at once what the
 * operator must see (protected addresses, held bans, diagnoses), hands bans
 * back for the tick's transaction, and writes diagnoses and the breaker's
 * state there too, for `blocker status` and across restarts.
 */
export class DecisionSink {
  private diagnoses: DiagnosisDecision[] = [];
  private lastBreaker = '';

  constructor(private readonly log: Logger) {}

  /** Logs `d`; returns the ban to record when it is one. */
  take(d: Decision): NewBan | null {
    switch (d.kind) {
      case 'ban':
        return { ip: d.net, reason: d.reason, failures: d.failures, origin: 'auto', bannedAt: d.at, expiresAt: d.until };
      case 'spared':
        this.log.info('not banned: protected', { ip: d.net.text, by: d.by, failures: d.failures, note: d.note });
        return null;
      case 'held':
        this.log.info('ban held back: storm breaker on', { ip: d.net.text, failures: d.failures, reason: d.reason });
        return null;
      case 'diagnosis':
        this.log[d.level](`diagnosis ${d.code}`, { subject: d.subject, ...d.evidence, message: d.message });
        this.diagnoses.push(d);
        return null;
    }
  }

  /** Call inside the tick's transaction: diagnoses raised, and the breaker's state when it changed. */
  flush(store: Store, state: PolicyState, now: number): void {
    for (const d of this.diagnoses) {
      store.diagnoses.record({ kind: d.code, subject: d.subject, message: d.message, evidence: d.evidence, at: d.at });
    }
    this.diagnoses = [];
    const b = breakerRecord(state, now);
    const key = JSON.stringify({ ...b, updatedAt: 0 });
    if (key !== this.lastBreaker && b.since !== null) {
      store.diagnoses.saveBreaker(b);
      this.lastBreaker = key;
    }
  }
}

/**
 * Records automatic bans (call inside a transaction). A network ban replaces
 * the bans it covers (nft interval sets refuse overlapping members); a ban
 * inside a network already banned is dropped, as the kernel drops its packets anyway.
 */
export function recordBans(store: Store, bans: readonly NewBan[], now: number): { recorded: Ban[]; replaced: Ban[] } {
  const recorded: Ban[] = [];
  const replaced: Ban[] = [];
  if (bans.length === 0) return { recorded, replaced };
  // Only network bans can cover another entry, and there are few of them; reading
  // every active ban here would cost a flood with 100k bans most of a second a tick.
  let networks = store.bans.activeNetworks(now);
  for (const nb of bans) {
    if (networks.some((b) => b.ip.text !== nb.ip.text && cidrContains(b.ip, nb.ip))) continue;
    // A network ban is rare: only then are all active bans read, for the ones it covers.
    const covered = isSingleAddress(nb.ip)
      ? []
      : store.bans.active(now).filter((b) => b.ip.text !== nb.ip.text && cidrContains(nb.ip, b.ip));
    for (const b of covered) store.bans.unban(b, nb.bannedAt);
    replaced.push(...covered);
    const ban = store.bans.record(nb);
    recorded.push(ban);
    if (!isSingleAddress(ban.ip)) {
      const gone = new Set(covered.map((b) => b.id));
      networks = [...networks.filter((b) => b.ip.text !== ban.ip.text && !gone.has(b.id)), ban];
    }
  }
  // Ids, not objects: a ban recorded earlier in this batch comes back as a new object when read again.
  const replacedIds = new Set(replaced.map((b) => b.id));
  const recordedIds = new Set(recorded.map((b) => b.id));
  return {
    recorded: recorded.filter((b) => !replacedIds.has(b.id)),
    replaced: replaced.filter((b) => !recordedIds.has(b.id)),
  };
}

export function breakerRecord(state: PolicyState, now: number): BreakerRecord {
  const s = state.breaker;
  return {
    tripped: s.tripped,
    since: s.since,
    endedAt: s.endedAt,
    held: s.held,
    evidence: s.evidence ? { ...s.evidence } : {},
    updatedAt: now,
  };
}
