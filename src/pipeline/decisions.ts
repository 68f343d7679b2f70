import type { Logger } from '../log.js';
import { cidrContains, isSingleAddress } from '../net/address.js';
import type { PolicyState, Decision } from '../policy/thresholds.js';
import type { Ban, NewBan } from '../store/bans.js';
import type { BreakerRecord } from '../store/diagnoses.js';
import type { Store } from '../store/store.js';

type DiagnosisDecision = Extract<Decision, { kind: 'diagnosis' }>;

/**
 * Collects what the policy decided during one daemon tick: logs what the
 * operator must see at once (protected addresses, held bans, diagnoses) and
 * writes bans, diagnoses and the breaker's state in the tick's transaction.
 */
export class DecisionSink {
  private bans: NewBan[] = [];
  private diagnoses: DiagnosisDecision[] = [];
  private lastBreaker = '';

  constructor(private readonly log: Logger) {}

  take(d: Decision): void {
    switch (d.kind) {
      case 'ban':
        this.bans.push({ ip: d.net, reason: d.reason, failures: d.failures, origin: 'auto', bannedAt: d.at, expiresAt: d.until });
        break;
      case 'spared':
        this.log.info('not banned: protected', { ip: d.net.text, by: d.by, failures: d.failures, note: d.note });
        break;
      case 'held':
        this.log.warn('ban held back: storm breaker on', { ip: d.net.text, failures: d.failures, reason: d.reason });
        break;
      case 'diagnosis':
        this.log[d.level](`diagnosis ${d.code}`, { subject: d.subject, ...d.evidence, message: d.message });
        this.diagnoses.push(d);
        break;
    }
  }

  /** True when there is something to write even if no line was read. */
  get pending(): boolean {
    return this.bans.length > 0 || this.diagnoses.length > 0;
  }

  /**
   * Call inside the tick's transaction. A network ban replaces the bans it
   * covers (nft interval sets refuse overlapping members); a ban inside a
   * network already banned is dropped, since the kernel drops its packets anyway.
   */
  commit(store: Store, state: PolicyState, now: number): { recorded: Ban[]; replaced: Ban[] } {
    const recorded: Ban[] = [];
    const replaced: Ban[] = [];
    if (this.bans.length) {
      let active = store.bans.active(now);
      for (const nb of this.bans) {
        if (active.some((b) => !isSingleAddress(b.ip) && b.ip.text !== nb.ip.text && cidrContains(b.ip, nb.ip))) continue;
        if (!isSingleAddress(nb.ip)) {
          for (const b of active) {
            if (b.ip.text !== nb.ip.text && cidrContains(nb.ip, b.ip)) {
              store.bans.unban(b, nb.bannedAt);
              replaced.push(b);
            }
          }
        }
        const ban = store.bans.record(nb);
        recorded.push(ban);
        active = [...active.filter((b) => b.ip.text !== ban.ip.text && !replaced.includes(b)), ban];
      }
    }
    for (const d of this.diagnoses) store.diagnoses.record({ kind: d.code, subject: d.subject, message: d.message, evidence: d.evidence, at: d.at });
    const b = breakerRecord(state, now);
    const key = JSON.stringify({ ...b, updatedAt: 0 });
    if (key !== this.lastBreaker && (b.tripped || b.since !== null)) {
      store.diagnoses.saveBreaker(b);
      this.lastBreaker = key;
    }
    this.bans = [];
    this.diagnoses = [];
    return { recorded, replaced };
  }
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
