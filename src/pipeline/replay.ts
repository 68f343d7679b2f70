import type { Readable } from 'node:stream';
import { emptyState, observe, prune, type Decision, type Observation, type PolicyRules } from '../policy/thresholds.js';
import { CAUSES, type Cause } from '../signatures/causes.js';
import type { FormatName, SignatureSpec } from '../signatures/index.js';
import type { MatchResult } from '../signatures/types.js';
import { AddressTally } from './address-tally.js';
import { readMatches } from './replay-read.js';

export interface ReplayBan {
  ip: string;
  failures: number;
  at: number;
  until: number;
  reason: string;
}

/** Lines one format recognised. */
export interface FormatCounts {
  matched: number;
  /** Failure lines whose client field is not a valid address. */
  unparsable: number;
  /** Failure lines not trusted to be the server's own (see Signature.match). */
  untrusted: number;
}

export interface IpSummary {
  ip: string;
  failures: number;
  causes: Partial<Record<Cause, number>>;
}

/** A finding the policy raised while replaying (PROXY protocol, storm …). */
export interface PolicyNote {
  code: string;
  message: string;
  at: number;
}

export interface ReplayReport {
  lines: number;
  matched: number;
  /** Failure lines counted but not used: invalid address, or not trusted. */
  unparsable: number;
  /** Of `unparsable`, the lines not trusted to be the server's own record. */
  untrusted: number;
  /** Matched lines without a timestamp of their own: they take the time of the line before. */
  undated: number;
  bans: ReplayBan[];
  /** Protected entries that reached the threshold, with what the operator should know (e.g. restrict the origin to the CDN). */
  spared: { ip: string; by: string; failures: number; at: number; note: string }[];
  /** Bans the policy's circuit breaker held back. */
  held: { ip: string; failures: number; at: number; reason: string }[];
  byCause: Record<Cause, number>;
  formats: Record<string, FormatCounts>;
  /** Every address with at least one failure, most failures first. */
  ips: IpSummary[];
  notes: PolicyNote[];
  /** Log time of the first and last dated failure (null when none). */
  from: number | null;
  to: number | null;
}

export interface ReplayOptions {
  /** Format (and pattern) to read with; default `auto`. */
  spec?: FormatName | SignatureSpec;
  rules: PolicyRules;
  stdin?: Readable;
  /** Dates syslog stamps that have no year (default: now). */
  now?: number;
  /** Called now and then with the bytes and lines read so far. */
  onProgress?: (bytes: number, lines: number) => void;
}

const CAUSE_INDEX = Object.fromEntries(CAUSES.map((c, i) => [c, i])) as Record<Cause, number>;
/** Per address: a failure count per cause, then the total. */
const ROW = CAUSES.length + 1;

/**
 * Offline replay for `blocker check`: the same signatures and policy as the
 * daemon, with the log's own timestamps as the clock; no database, no firewall.
 * Files are read one after another, each line in order; each line is matched
 * knowing the line after it, as the daemon does within a batch.
 */
export async function replay(files: readonly string[], opts: ReplayOptions): Promise<ReplayReport> {
  const byCause = new Array<number>(CAUSES.length).fill(0);
  const tally = new AddressTally(ROW);
  const formats: Record<string, FormatCounts> = {};
  const report: ReplayReport = {
    lines: 0,
    matched: 0,
    unparsable: 0,
    untrusted: 0,
    undated: 0,
    bans: [],
    spared: [],
    held: [],
    byCause: {} as Record<Cause, number>,
    formats,
    ips: [],
    notes: [],
    from: null,
    to: null,
  };
  const state = emptyState();
  const spec = opts.spec ?? 'auto';
  const now = opts.now ?? Date.now();
  let clock = 0;
  // The policy forgets what can no longer matter, as the daemon does every tick, so its
  // tables hold about a findTime of addresses rather than the whole log's (and stay in
  // cache). A findTime of margin keeps what a line somewhat out of order may still need.
  let newest = Number.NEGATIVE_INFINITY;
  let prunedAt = Number.NEGATIVE_INFINITY;

  const countsFor = (name: string): FormatCounts => (formats[name] ??= { matched: 0, unparsable: 0, untrusted: 0 });

  /** One recognised line: counted, and a failure handed to the policy at its own time. */
  const consume = (format: string, r: Exclude<MatchResult, null>): void => {
    const counts = countsFor(format);
    if ('unparsable' in r) {
      report.unparsable++;
      counts.unparsable++;
      if (r.untrusted) {
        report.untrusted++;
        counts.untrusted++;
      }
      return;
    }
    report.matched++;
    counts.matched++;
    if (r.time === null) report.undated++;
    else {
      clock = r.time;
      if (report.from === null || r.time < report.from) report.from = r.time;
      if (report.to === null || r.time > report.to) report.to = r.time;
    }
    const ci = CAUSE_INDEX[r.cause];
    byCause[ci]!++;
    tally.bump(r.ip, ci, ROW - 1);
    const at = r.time ?? clock;
    // A dated failure is already an observation: one object fewer per failure.
    const ev: Observation = r.time !== null ? (r as Observation) : { ip: r.ip, time: at, reason: r.reason, cause: r.cause };
    const decided = observe(state, opts.rules, ev, at);
    for (let i = 0; i < decided.length; i++) record(report, decided[i]!);
    if (at > newest) {
      newest = at;
      if (newest - prunedAt >= opts.rules.findTime) {
        prune(state, opts.rules, newest, opts.rules.findTime);
        prunedAt = newest;
      }
    }
  };

  const progress = opts.onProgress;
  await readMatches(
    files,
    spec,
    now,
    {
      line: () => void report.lines++,
      result: consume,
      ...(progress ? { bytes: (b: number) => progress(b, report.lines) } : {}),
    },
    { stdin: opts.stdin },
  );

  for (const [i, c] of CAUSES.entries()) report.byCause[c] = byCause[i]!;
  report.ips = [...tally.entries()].map(([ip, counts]) => {
    const causes: Partial<Record<Cause, number>> = {};
    for (const [i, c] of CAUSES.entries()) if (counts[i]) causes[c] = counts[i];
    return { ip: ip.text, failures: counts[ROW - 1]!, causes };
  });
  report.ips.sort((a, b) => b.failures - a.failures || (a.ip < b.ip ? -1 : 1));
  return report;
}

function record(report: ReplayReport, d: Decision): void {
  switch (d.kind) {
    case 'ban':
      report.bans.push({ ip: d.net.text, failures: d.failures, at: d.at, until: d.until, reason: d.reason });
      break;
    case 'spared':
      report.spared.push({ ip: d.net.text, by: d.by, failures: d.failures, at: d.at, note: d.note });
      break;
    case 'held':
      report.held.push({ ip: d.ip.text, failures: d.failures, at: d.at, reason: d.reason });
      break;
    case 'diagnosis':
      report.notes.push({ code: d.code, message: d.message, at: d.at });
      break;
  }
}
