import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { runChecks, type CheckResult, type CheckStatus } from '../doctor/checks.js';
import { systemEnv, type DoctorEnv } from '../doctor/env.js';
import { UserError } from '../errors.js';
import { configFrom, type CommonOptions } from './context.js';
import { plural, styleFor, type Style } from './human.js';
import type { Io } from './io.js';

function label(status: CheckStatus, s: Style): string {
  const text = status === 'fail' ? 'FAIL' : status;
  const padded = text.padEnd(4);
  return status === 'fail' ? s.red(padded) : status === 'warn' ? s.yellow(padded) : status === 'ok' ? s.green(padded) : s.dim(padded);
}

export function renderChecks(results: readonly CheckResult[], s: Style): string {
  const names = results.map((r) => (r.subject ? `${r.check} ${r.subject}` : r.check));
  const width = Math.min(32, Math.max(...names.map((n) => n.length)));
  const lines: string[] = [];
  results.forEach((r, i) => {
    lines.push(`${label(r.status, s)}  ${names[i]!.padEnd(width)}  ${r.message}`);
    if (r.fix && r.status !== 'ok') lines.push(`${' '.repeat(6 + width + 2)}${s.dim('fix:')} ${r.fix}`);
  });
  const fails = results.filter((r) => r.status === 'fail').length;
  const warns = results.filter((r) => r.status === 'warn').length;
  lines.push('', fails || warns ? `${plural(fails, 'problem')}, ${plural(warns, 'warning')}` : 'everything looks right');
  return lines.join('\n') + '\n';
}

/**
 * `blocker doctor`: checks what silently breaks such a tool (firewall and
 * capability, readable logs, nginx's log level, the database, the clock) and
 * prints a fix for each problem. Exit 1 when something fails, 2 when the
 * config itself does not validate.
 */
export async function doctorCommand(
  opts: CommonOptions & { json?: boolean; nginxConf?: string },
  io: Io,
  env: DoctorEnv = systemEnv(opts.nginxConf ? { nginxConf: opts.nginxConf } : {}),
): Promise<number> {
  let cfg: Config;
  const file = opts.config ?? DEFAULT_CONFIG_PATH;
  try {
    cfg = configFrom(opts);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const r: CheckResult = { check: 'config', subject: file, status: 'fail', message: err.message, fix: 'fix the keys named above; `blocker config check` shows the result' };
    io.out(opts.json ? JSON.stringify({ ok: false, checks: [r] }, null, 2) + '\n' : renderChecks([r], styleFor(io)));
    return 2;
  }
  const results: CheckResult[] = [
    { check: 'config', subject: null, status: 'ok', message: `${env.exists(file) ? file : `no ${file}: the defaults`} (${plural(cfg.sources.length, 'source')})`, fix: null },
    ...(await runChecks(cfg, env)),
  ];
  const ok = !results.some((r) => r.status === 'fail');
  io.out(opts.json ? JSON.stringify({ ok, checks: results }, null, 2) + '\n' : renderChecks(results, styleFor(io)));
  return ok ? 0 : 1;
}
