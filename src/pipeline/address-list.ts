import { CAUSES, type Cause } from '../signatures/causes.js';
import type { TallyView } from './address-tally.js';

/** One address of a report: its failures, in all and per cause. */
export interface IpSummary {
  ip: string;
  failures: number;
  causes: Partial<Record<Cause, number>>;
}

/**
 * Every address of a `blocker check` report, answered from the tally of
 * its failures per cause (a tally with CAUSE_COUNTERS). A big log has
 * tens of thousands of addresses, and the text report needs only their
 * number, the number per cause and the top few: making a summary and a text
 * for each, and sorting them all, was a tenth of a second of `check` on the
 * bench's log. Only `all()` (for --json) does that, once.
 *
 * The order everywhere: most failures first, then by address text.
 */
export class AddressList {
  private sorted: IpSummary[] | null = null;
  private readonly texts = new Map<number, string>();

  constructor(private readonly tally: TallyView) {}

  get size(): number {
    return this.tally.size;
  }

  /** How many addresses had at least one failure of each cause. */
  perCause(): Record<Cause, number> {
    const out = {} as Record<Cause, number>;
    for (let i = 0; i < CAUSES.length; i++) out[CAUSES[i]!] = this.tally.nonZero(i);
    return out;
  }

  /** The first `n` of all(), without making the others. */
  top(n: number): IpSummary[] {
    const size = this.tally.size;
    if (this.sorted || n >= size) return this.all().slice(0, n);
    if (n <= 0) return [];
    // The n-th highest count of failures: every address above it is in, and of those
    // at it, the first by text. Found by keeping the n highest seen so far (n is a few;
    // sorting every count was a few milliseconds at the very end of check).
    const highest = new Int32Array(n).fill(-1);
    for (let r = 0; r < size; r++) {
      const f = this.failures(r);
      if (f <= highest[n - 1]!) continue;
      let j = n - 1;
      for (; j > 0 && highest[j - 1]! < f; j--) highest[j] = highest[j - 1]!;
      highest[j] = f;
    }
    const bar = highest[n - 1]!;
    const picked: IpSummary[] = [];
    for (let r = 0; r < size; r++) if (this.failures(r) >= bar) picked.push(this.summary(r));
    return picked.sort(byFailuresThenText).slice(0, n);
  }

  /**
   * The address with the most failures of cause `c` and that number (the
   * first of all() among equals), or undefined when no address has one.
   */
  mostOf(c: Cause): { ip: string; count: number } | undefined {
    const i = CAUSES.indexOf(c);
    let best = -1;
    let most = 0;
    for (let r = 0; r < this.tally.size; r++) {
      const k = this.tally.count(r, i);
      if (k < most || k === 0) continue;
      if (k > most || this.before(r, best)) {
        best = r;
        most = k;
      }
    }
    return best < 0 ? undefined : { ip: this.text(best), count: most };
  }

  /** Every address, most failures first (made once, then kept). */
  all(): IpSummary[] {
    if (this.sorted) return this.sorted;
    const out = new Array<IpSummary>(this.tally.size);
    for (let r = 0; r < out.length; r++) out[r] = this.summary(r);
    return (this.sorted = out.sort(byFailuresThenText));
  }

  private failures(r: number): number {
    return this.tally.count(r, CAUSES.length);
  }

  /** True when row `r` comes before row `other` in all()'s order. */
  private before(r: number, other: number): boolean {
    const d = this.failures(r) - this.failures(other);
    return d !== 0 ? d > 0 : this.text(r) < this.text(other);
  }

  private text(r: number): string {
    let t = this.texts.get(r);
    if (t === undefined) this.texts.set(r, (t = this.tally.ip(r).text));
    return t;
  }

  private summary(r: number): IpSummary {
    const causes: Partial<Record<Cause, number>> = {};
    for (let i = 0; i < CAUSES.length; i++) {
      const k = this.tally.count(r, i);
      if (k) causes[CAUSES[i]!] = k;
    }
    // Not kept: all() makes one for every address, and only mostOf() asks for the same text twice.
    return { ip: this.texts.get(r) ?? this.tally.ip(r).text, failures: this.failures(r), causes };
  }
}

function byFailuresThenText(a: IpSummary, b: IpSummary): number {
  return b.failures - a.failures || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);
}
