import type { Readable } from 'node:stream';
import { emptyState, observe, type PolicyRules } from '../policy/thresholds.js';
import { createSignature, FORMAT_NAMES, type FormatName } from '../signatures/index.js';
import { isFailure, type MatchResult, type Signature } from '../signatures/types.js';
import { forEachLine } from '../sources/read-lines.js';

export interface ReplayBan {
  ip: string;
  failures: number;
  at: number;
  until: number;
  reason: string;
}

export interface ReplayReport {
  lines: number;
  matched: number;
  unparsable: number;
  /** Matched lines without a timestamp of their own: they take the time of the line before. */
  undated: number;
  bans: ReplayBan[];
  spared: { ip: string; by: string; failures: number; at: number }[];
}

/**
 * Offline replay for `blocker check`: the same signatures and policy as the
 * daemon, with the log's own timestamps as the clock; no database, no firewall.
 * Files are read one after another, each line in order.
 */
export async function replay(
  files: readonly string[],
  opts: { format?: FormatName; rules: PolicyRules; stdin?: Readable },
): Promise<ReplayReport> {
  const report: ReplayReport = { lines: 0, matched: 0, unparsable: 0, undated: 0, bans: [], spared: [] };
  const state = emptyState();
  let clock = 0;
  for (const file of files) {
    const match = matcherFor(opts.format);
    await forEachLine(
      file,
      (line) => {
        report.lines++;
        const r = match(line);
        if (r === null) return;
        if (!isFailure(r)) {
          report.unparsable++;
          return;
        }
        report.matched++;
        if (r.time === null) report.undated++;
        else clock = r.time;
        const d = observe(state, opts.rules, { ip: r.ip, time: r.time ?? clock, reason: r.reason }, r.time ?? clock);
        if (d?.kind === 'ban') {
          report.bans.push({ ip: d.ip.text, failures: d.failures, at: d.at, until: d.until, reason: d.reason });
        } else if (d?.kind === 'spared') {
          report.spared.push({ ip: d.ip.text, by: d.by, failures: d.failures, at: d.at });
        }
      },
      opts.stdin,
    );
  }
  return report;
}

/** One format, or every built-in tried in turn (each rejects foreign lines on a cheap substring test). */
function matcherFor(format: FormatName | undefined): (line: string) => MatchResult {
  if (format) {
    const sig = createSignature(format);
    return (line) => sig.match(line);
  }
  const sigs: Signature[] = FORMAT_NAMES.map(createSignature);
  return (line) => {
    for (const s of sigs) {
      const r = s.match(line);
      if (r !== null) return r;
    }
    return null;
  };
}
