import type { Readable } from 'node:stream';
import { emptyState, observe, prune, type Decision, type PolicyRules } from '../policy/thresholds.js';
import { causeIndex, CAUSES, type Cause } from '../signatures/causes.js';
import type { FormatName, SignatureSpec } from '../signatures/index.js';
import { parseIp, type Ip } from '../net/address.js';
import { AddressList } from './address-list.js';
import { AddressTally, CAUSE_COUNTERS, type TallyView } from './address-tally.js';
import type { ReplayWorkers } from './parallel-read.js';
import { readMatches, type MatchSink } from './replay-read.js';

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
  /** Every address with at least one failure (most failures first). */
  addresses: AddressList;
  notes: PolicyNote[];
  /** Log time of the first and last dated failure (null when none). */
  from: number | null;
  to: number | null;
}

export interface ReplayOptions {
  /** Format (and pattern) to read with; default `auto`. */
  spec?: FormatName | SignatureSpec;
  /** The policy; a promise lets matching start before it is known. */
  rules: PolicyRules | Promise<PolicyRules>;
  stdin?: Readable;
  /** Dates syslog stamps that have no year (default: now). */
  now?: number;
  /** Workers started beforehand for these files (replay-read.ts, startWorkers), with the same spec and `now`. */
  workers?: ReplayWorkers | null;
  /** Called now and then with the bytes and lines read so far. */
  onProgress?: (bytes: number, lines: number) => void;
}

/**
 * Pruned every this many findTimes of log time: each prune walks the tables, and doing it every
 * findTime cost a tenth of a second over the bench's 1M lines. Keeping more never changes a result
 * (a window forgets what is older than findTime by itself); it only holds more addresses.
 */
const PRUNE_EVERY = 4;

/** What the reused observation holds before the first failure. */
const NO_IP = parseIp('0.0.0.0')!;

/**
 * Offline replay for `blocker check`: the same signatures and policy as the
 * daemon, with the log's own timestamps as the clock; no database, no firewall.
 * Files are read one after another, each line in order; each line is matched
 * knowing the line after it, as the daemon does within a batch.
 */
export async function replay(files: readonly string[], opts: ReplayOptions): Promise<ReplayReport> {
  // The rules may still be on their way (check reads its config while the first pieces are matched).
  const counting = Promise.resolve(opts.rules).then(replayCounter);
  const progress = opts.onProgress;
  const sink = counting.then((c): MatchSink => (progress ? { ...c.sink, bytes: (b: number) => progress(b, c.lines()) } : c.sink));
  const { tally } = await readMatches(files, opts.spec ?? 'auto', opts.now ?? Date.now(), sink, { stdin: opts.stdin, workers: opts.workers ?? null });
  return (await counting).report(tally);
}

/**
 * The counting half of a replay: a sink that counts what the reading half
 * finds and runs the policy on each failure at its own time, and the report
 * once everything has been read, with the reading half's tally per address.
 */
export function replayCounter(rules: PolicyRules): { sink: MatchSink; lines: () => number; report: (tally: TallyView) => ReplayReport } {
  const byCause = new Array<number>(CAUSES.length).fill(0);
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
    addresses: new AddressList(new AddressTally(CAUSE_COUNTERS)),
    notes: [],
    from: null,
    to: null,
  };
  const state = emptyState();
  let clock = 0;
  // The policy forgets what can no longer matter, as the daemon does every tick, so its
  // tables hold a few findTimes of addresses rather than the whole log's (and stay in
  // cache). A findTime of margin keeps what a line somewhat out of order may still need.
  let newest = Number.NEGATIVE_INFINITY;
  let prunedAt = Number.NEGATIVE_INFINITY;

  // Formats change rarely (one per file, or per line with auto): the last one's counts are kept at hand.
  let format = '';
  let counts: FormatCounts = { matched: 0, unparsable: 0, untrusted: 0 };
  const countsFor = (name: string): FormatCounts => {
    if (name !== format) {
      format = name;
      counts = formats[name] ??= { matched: 0, unparsable: 0, untrusted: 0 };
    }
    return counts;
  };

  const unparsable = (name: string, untrusted: boolean): void => {
    const c = countsFor(name);
    report.unparsable++;
    c.unparsable++;
    if (untrusted) {
      report.untrusted++;
      c.untrusted++;
    }
  };

  // One observation, filled anew for each failure: observe() keeps none, and a million of them were a fifth of this thread's garbage.
  const ev: { ip: Ip; time: number; reason: string; cause: Cause } = { ip: NO_IP, time: 0, reason: '', cause: 'other' };

  /** A failure, counted and handed to the policy at its own time. */
  const failure = (name: string, time: number | null, ip: Ip, reason: string, cause: Cause): void => {
    report.matched++;
    countsFor(name).matched++;
    if (time === null) report.undated++;
    else {
      clock = time;
      if (report.from === null || time < report.from) report.from = time;
      if (report.to === null || time > report.to) report.to = time;
    }
    byCause[causeIndex(cause)]!++;
    const at = time ?? clock;
    ev.ip = ip;
    ev.time = at;
    ev.reason = reason;
    ev.cause = cause;
    const decided = observe(state, rules, ev, at);
    for (let i = 0; i < decided.length; i++) record(report, decided[i]!);
    if (at > newest) {
      newest = at;
      if (newest - prunedAt >= PRUNE_EVERY * rules.findTime) {
        prune(state, rules, newest, rules.findTime);
        prunedAt = newest;
      }
    }
  };

  const finish = (tally: TallyView): ReplayReport => {
    for (const [i, c] of CAUSES.entries()) report.byCause[c] = byCause[i]!;
    report.addresses = new AddressList(tally);
    return report;
  };

  return { sink: { lines: (n) => void (report.lines += n), failure, unparsable }, lines: () => report.lines, report: finish };
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
