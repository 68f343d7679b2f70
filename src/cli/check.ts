import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { diagnose, type Diagnosis } from '../pipeline/diagnose.js';
import { replay, type ReplayReport } from '../pipeline/replay.js';
import { startWorkers } from '../pipeline/replay-read.js';
import { policyRules, storedPolicyData } from '../pipeline/rules.js';
import { CAUSE_HELP, CAUSES, isCause } from '../signatures/causes.js';
import { FORMAT_NAMES, type FormatName, type SignatureSpec } from '../signatures/index.js';
import { compileUserPattern } from '../signatures/regex.js';
import { takeEarlyStart } from './check-warmup.js';
import type { CommonOptions } from './config-from.js';
import { iso, table, thousands } from './human.js';
import { processIo, type Io } from './io.js';

export interface CheckOptions extends CommonOptions {
  format?: string;
  pattern?: string;
  cause?: string;
  json?: boolean;
  top?: string;
}

export async function checkCommand(files: string[], opts: CheckOptions, io: Io, stdin?: Readable): Promise<number> {
  const spec = specFrom(opts);
  if (files.length === 0) throw new UserError('name at least one log file to check (or - for stdin)', 2);
  for (const f of files) if (f !== '-' && !existsSync(f)) throw new UserError(`log file ${f} does not exist`, 2);
  const top = opts.top === undefined ? 10 : Number(opts.top);
  if (!Number.isInteger(top) || top < 0) throw new UserError(`--top: expected a whole number, got "${opts.top}"`, 2);
  // Matching needs no config: big files' workers start now and match the first pieces while
  // this thread loads the config's modules (the schema library alone takes a tenth of a second),
  // unless they were started with the program (bin.ts) for these very files and format.
  const early = takeEarlyStart(files, spec);
  const now = early?.now ?? Date.now();
  const workers = early?.workers ?? startWorkers(files, spec, now);
  const rules = (async () => {
    const { configFrom } = await import('./config-from.js');
    const cfg = configFrom(opts);
    // The database's allow list and fetched CDN lists count too (read-only; none when it does not exist).
    return policyRules(cfg, storedPolicyData(cfg.database, (m) => io.err(`blocker: note: ${m}\n`)));
  })();
  const progress = io === processIo && process.stderr.isTTY ? progressLine() : null;
  let report: ReplayReport;
  try {
    report = await replay(files, {
      rules,
      spec,
      now,
      workers,
      ...(stdin ? { stdin } : {}),
      ...(progress ? { onProgress: progress.update } : {}),
    });
  } catch (err) {
    await workers?.close();
    throw err;
  } finally {
    progress?.done();
  }
  const diagnoses = diagnosesOf(report, spec.format);
  io.out(opts.json ? JSON.stringify(checkJson(report, diagnoses), null, 2) + '\n' : checkText(report, diagnoses, top));
  // Stopped meanwhile (readMatches began it): awaited only now, so the report did not wait for it.
  await workers?.close();
  return 0;
}

function specFrom(opts: CheckOptions): SignatureSpec {
  const format = opts.format ?? (opts.pattern !== undefined ? 'regex' : 'auto');
  if (!(FORMAT_NAMES as readonly string[]).includes(format)) {
    throw new UserError(`--format: expected one of ${FORMAT_NAMES.join(', ')}, got "${format}"`, 2);
  }
  if (opts.cause !== undefined && !isCause(opts.cause)) {
    throw new UserError(`--cause: expected one of ${CAUSES.join(', ')}, got "${opts.cause}"`, 2);
  }
  if (format === 'regex') {
    if (opts.pattern === undefined) throw new UserError('--format regex needs --pattern \'^… (?<ip>…) …\'', 2);
    const re = compileUserPattern(opts.pattern);
    if (typeof re === 'string') throw new UserError(`--pattern ${re}`, 2);
    return { format, pattern: opts.pattern, cause: opts.cause as SignatureSpec['cause'] };
  }
  if (opts.pattern !== undefined) throw new UserError('--pattern goes with --format regex', 2);
  return { format: format as FormatName };
}

/** Findings from the numbers, then the policy's own (PROXY protocol, storms) that say something new. */
export function diagnosesOf(r: ReplayReport, format?: string): Diagnosis[] {
  const out: { code: string; message: string }[] = diagnose({ ...r, format });
  for (const n of r.notes) if (!out.some((d) => d.code === n.code)) out.push({ code: n.code, message: n.message });
  return out as Diagnosis[];
}

export function checkJson(r: ReplayReport, diagnoses: readonly Diagnosis[]) {
  return {
    lines: r.lines,
    matched: r.matched,
    unparsable: r.unparsable,
    untrusted: r.untrusted,
    undated: r.undated,
    bans: r.bans.map((b) => ({ ip: b.ip, failures: b.failures, at: iso(b.at), until: iso(b.until), reason: b.reason })),
    spared: r.spared.map((s) => ({ ip: s.ip, by: s.by, failures: s.failures, at: iso(s.at), note: s.note })),
    held: r.held.map((h) => ({ ip: h.ip, failures: h.failures, at: iso(h.at), reason: h.reason })),
    byCause: r.byCause,
    formats: r.formats,
    diagnoses,
    ips: r.addresses.all(),
  };
}

const n = thousands;

export function checkText(r: ReplayReport, diagnoses: readonly Diagnosis[], top = 10): string {
  let out = `read ${n(r.lines)} lines: ${n(r.matched)} handshake failures from ${n(r.addresses.size)} addresses, ${n(r.unparsable)} unparsable`;
  out += r.untrusted ? ` (${n(r.untrusted)} not trusted)\n` : '\n';
  const formats = Object.entries(r.formats).filter(([, c]) => c.matched || c.unparsable);
  if (formats.length) out += `formats: ${formats.map(([f, c]) => `${f} ${n(c.matched)}${c.unparsable ? ` (+${n(c.unparsable)} unparsable)` : ''}`).join(', ')}\n`;
  if (r.from !== null && r.to !== null) out += `log time: ${iso(r.from)} … ${iso(r.to)}\n`;
  if (r.undated) out += `${n(r.undated)} failure lines had no timestamp and took the time of the line before\n`;

  if (r.matched) {
    out += '\nby cause:\n';
    const addresses = r.addresses.perCause();
    const rows = CAUSES.filter((c) => r.byCause[c] > 0).map((c) => {
      return [c, n(r.byCause[c]), `${((100 * r.byCause[c]) / r.matched).toFixed(1)}%`, n(addresses[c]), CAUSE_HELP[c]];
    });
    out += table(['CAUSE', 'FAILURES', 'SHARE', 'ADDRESSES', 'MEANING'], rows);
    if (top > 0) {
      out += `\ntop offenders:\n`;
      out += table(
        ['IP', 'FAILURES', 'CAUSES'],
        r.addresses.top(top).map((x) => [x.ip, n(x.failures), Object.entries(x.causes).map(([c, k]) => `${c} ${k}`).join(', ')]),
      );
    }
  }

  if (r.bans.length === 0) out += '\nwould ban no one\n';
  else {
    out += `\nwould issue ${n(r.bans.length)} ban(s):\n`;
    out += capped(['IP', 'FAILURES', 'AT', 'UNTIL', 'REASON'], r.bans, (b) => [b.ip, b.failures, iso(b.at)!, iso(b.until)!, b.reason]);
  }
  if (r.spared.length) {
    out += `\nreached the threshold but protected (never banned):\n`;
    out += capped(['IP', 'FAILURES', 'AT', 'PROTECTED BY', 'NOTE'], r.spared, (s) => [s.ip, s.failures, iso(s.at)!, s.by, s.note]);
  }
  if (r.held.length) {
    out += `\nheld back by the circuit breaker (would have been banned):\n`;
    out += capped(['IP', 'FAILURES', 'AT', 'REASON'], r.held, (h) => [h.ip, h.failures, iso(h.at)!, h.reason]);
  }
  if (diagnoses.length) {
    out += '\ndiagnosis:\n';
    for (const d of diagnoses) out += `- ${d.message}\n`;
  }
  return out;
}

/** A table of the first LIST_MAX rows; a terminal is no place for ten thousand (--json has them all). */
function capped<T>(head: string[], rows: readonly T[], row: (x: T) => (string | number)[]): string {
  let out = table(head, rows.slice(0, LIST_MAX).map(row));
  if (rows.length > LIST_MAX) out += `… and ${n(rows.length - LIST_MAX)} more (--json lists them all)\n`;
  return out;
}

const LIST_MAX = 50;

/** "reading: 120.5 MB, 812,000 lines, 1,030,000 lines/s" on one rewritten stderr line. */
function progressLine(): { update: (bytes: number, lines: number) => void; done: () => void } {
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(bytes, lines) {
      const t = Date.now();
      if (t - last < 200) return;
      last = t;
      shown = true;
      const rate = Math.round(lines / Math.max((t - started) / 1000, 0.001));
      process.stderr.write(`\rreading: ${(bytes / 1e6).toFixed(1)} MB, ${n(lines)} lines, ${n(rate)} lines/s\x1b[K`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
