import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { replay, type ReplayReport } from '../pipeline/replay.js';
import { policyRules } from '../pipeline/rules.js';
import { FORMAT_NAMES, type FormatName } from '../signatures/index.js';
import { configFrom, type CommonOptions } from './context.js';
import { iso, table } from './human.js';
import type { Io } from './io.js';

export async function checkCommand(
  files: string[],
  opts: CommonOptions & { format?: string; json?: boolean },
  io: Io,
  stdin?: Readable,
): Promise<number> {
  if (opts.format !== undefined && !(FORMAT_NAMES as readonly string[]).includes(opts.format)) {
    throw new UserError(`--format: expected one of ${FORMAT_NAMES.join(', ')}, got "${opts.format}"`, 2);
  }
  if (files.length === 0) throw new UserError('name at least one log file to check (or - for stdin)', 2);
  for (const f of files) if (f !== '-' && !existsSync(f)) throw new UserError(`log file ${f} does not exist`, 2);
  const cfg = configFrom(opts);
  const report = await replay(files, {
    rules: policyRules(cfg),
    ...(opts.format ? { format: opts.format as FormatName } : {}),
    ...(stdin ? { stdin } : {}),
  });
  io.out(opts.json ? JSON.stringify(checkJson(report), null, 2) + '\n' : checkText(report));
  return 0;
}

export function checkJson(r: ReplayReport) {
  return {
    lines: r.lines,
    matched: r.matched,
    unparsable: r.unparsable,
    undated: r.undated,
    bans: r.bans.map((b) => ({ ip: b.ip, failures: b.failures, at: iso(b.at), until: iso(b.until), reason: b.reason })),
    spared: r.spared.map((s) => ({ ip: s.ip, by: s.by, failures: s.failures, at: iso(s.at) })),
  };
}

export function checkText(r: ReplayReport): string {
  let out = `read ${r.lines} lines: ${r.matched} handshake failures, ${r.unparsable} unparsable\n`;
  if (r.undated) out += `${r.undated} failure lines had no timestamp and took the time of the line before\n`;
  if (r.bans.length === 0) out += '\nwould ban no one\n';
  else {
    out += `\nwould issue ${r.bans.length} ban(s):\n`;
    out += table(
      ['IP', 'FAILURES', 'AT', 'UNTIL', 'REASON'],
      r.bans.map((b) => [b.ip, b.failures, iso(b.at)!, iso(b.until)!, b.reason]),
    );
  }
  if (r.spared.length) {
    out += `\nreached the threshold but protected (never banned):\n`;
    out += table(['IP', 'FAILURES', 'AT', 'PROTECTED BY'], r.spared.map((s) => [s.ip, s.failures, iso(s.at)!, s.by]));
  }
  return out;
}
