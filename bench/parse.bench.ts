import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readMatches } from '../src/pipeline/replay-read.js';
import { createSignature } from '../src/signatures/index.js';
import { BYTES_DEFER, BYTES_FAILURE, BYTES_NONE, type ByteFailure, type Signature } from '../src/signatures/types.js';
import { generateLog, type BenchFormat, type GeneratedLog } from './logs.js';
import { measureChild, onPath, type ChildRun } from './measure.js';
import type { BenchContext, BenchModule } from './types.js';

/**
 * `blocker check` on generated nginx and Go logs (BENCH_LINES lines each,
 * default 1,000,000), run as a child process the way an admin runs it: lines/s
 * and peak RSS. Then, when `fail2ban-regex` is installed, the same files
 * through it with an equivalent filter, and the ratio. Also the matching core
 * alone, in process, in ns per line.
 */
export const parseBench: BenchModule = {
  name: 'parse',
  description: 'blocker check on 1M-line nginx and Go logs (lines/s, peak RSS), against fail2ban-regex when installed',
  async run(ctx) {
    const lines = Number(process.env.BENCH_LINES ?? 1_000_000);
    // Wall-clock figures mean little on a machine busy with other work: say how busy it was.
    ctx.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${cpus().length} cores)`);
    const config = join(ctx.tmpDir, 'config.yaml');
    // Defaults, stated so that no /etc/blocker/config.yaml on this machine changes the result.
    writeFileSync(config, 'policy: { maxRetry: 5, findTime: 10m, banTime: 1h }\n');
    const results: { format: BenchFormat; log: GeneratedLog; ours: ChildRun }[] = [];
    for (const format of ['nginx', 'go'] as const) {
      const t0 = Date.now();
      const log = generateLog(join(ctx.tmpDir, `${format}.log`), format, lines);
      ctx.log(`${format}: generated ${fmt(log.lines)} lines (${(log.bytes / 1e6).toFixed(0)} MB, ${fmt(log.failures)} failures) in ${Date.now() - t0} ms`);
      ctx.log(
        `${format}: matching core in process: ${bytePathNsPerLine(log.path, format).toFixed(0)} ns/line (${format}, read in place as check's workers do), ` +
          `${coreNsPerLine(log.path, format).toFixed(0)} ns/line (${format}, each line decoded), ${coreNsPerLine(log.path, 'auto').toFixed(0)} ns/line (auto)`,
      );
      ctx.log(`${format}: ${await readingHalf(log, format)}`);
      const runs: ChildRun[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await measureChild(process.execPath, [ctx.cli, 'check', '-c', config, '--format', format, '--top', '0', log.path]);
        if (r.exitCode !== 0) throw new Error(`blocker check exited ${r.exitCode}: ${r.stderr}`);
        const seen = /read ([\d,]+) lines: ([\d,]+) handshake failures/.exec(r.stdout);
        if (!seen || num(seen[1]!) !== log.lines || num(seen[2]!) !== log.failures) {
          throw new Error(`blocker check read the ${format} log wrong: ${r.stdout.split('\n')[0]} (expected ${log.lines} lines, ${log.failures} failures)`);
        }
        runs.push(r);
      }
      runs.sort((a, b) => a.seconds - b.seconds);
      const median = runs[1]!;
      const peak = Math.max(...runs.map((r) => r.peakRss));
      const cpu = median.cpuSeconds === null ? '' : `; ${fmt(Math.round(log.lines / median.cpuSeconds))} lines per CPU-second`;
      ctx.log(
        `${format}: blocker check: ${fmt(Math.round(log.lines / median.seconds))} lines/s (median of 3: ${median.seconds.toFixed(2)} s, ` +
          `best ${runs[0]!.seconds.toFixed(2)} s${cpu}), peak RSS ${mb(peak)} (${median.rssBy})`,
      );
      results.push({ format, log, ours: median });
    }
    await compareWithFail2ban(ctx, results);
  },
};

/**
 * The reading half of check alone: readMatches as check calls it (workers,
 * for a file this big), into a sink that only counts, so the reading and the
 * policy's shares of check's time can be told apart. Median of three, in
 * process; CPU-seconds over all threads.
 */
async function readingHalf(log: GeneratedLog, format: BenchFormat): Promise<string> {
  const runs: { seconds: number; cpu: number }[] = [];
  for (let i = 0; i < 3; i++) {
    let lines = 0;
    let results = 0;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await readMatches([log.path], format, Date.now(), {
      lines: (n) => void (lines += n),
      failure: () => void results++,
      unparsable: () => void results++,
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (lines !== log.lines || results < log.failures) throw new Error(`readMatches read the ${format} log wrong: ${lines} lines, ${results} results`);
    runs.push({ seconds, cpu: (cpu.user + cpu.system) / 1e6 });
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  const m = runs[1]!;
  return (
    `reading+matching alone (readMatches, counting sink): ${fmt(Math.round(log.lines / m.seconds))} lines/s ` +
    `(median of 3: ${m.seconds.toFixed(2)} s; ${fmt(Math.round(log.lines / m.cpu))} lines per CPU-second)`
  );
}

/**
 * The file's first 200k lines, already in memory, as their starts in one
 * buffer (the last start is where the last line's newline ends).
 */
function firstLines(path: string): { buf: Buffer; starts: number[] } {
  const buf = readFileSync(path).subarray(0, 64 << 20);
  const starts: number[] = [];
  for (let i = 0; starts.length <= 200_000; ) {
    starts.push(i);
    const nl = buf.indexOf(10, i);
    if (nl < 0) break;
    i = nl + 1;
  }
  return { buf, starts };
}

/**
 * ns per line of `matchAll` (which answers how many lines matched), best of
 * three passes, each with a fresh signature: the first also pays for the JIT.
 */
function bestNsPerLine(path: string, format: BenchFormat | 'auto', lines: number, matchAll: (sig: Signature) => number): number {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const sig = createSignature(format, { now: Date.now() });
    const t0 = process.hrtime.bigint();
    const n = matchAll(sig);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / lines);
    if (n === 0) throw new Error(`${format} matched nothing in ${path}`);
  }
  return best;
}

/** The signature alone over the file's lines, already in memory: what the pre-filter and regexes cost. */
function coreNsPerLine(path: string, format: BenchFormat | 'auto'): number {
  // Each line decoded on its own as `blocker check` does for small files (slices of one
  // big string would be slower to match, and not what check sees).
  const { buf, starts } = firstLines(path);
  const lines: string[] = [];
  for (let k = 0; k + 1 < starts.length; k++) lines.push(buf.toString('utf8', starts[k]!, starts[k + 1]! - 1));
  return bestNsPerLine(path, format, lines.length, (sig) => {
    let n = 0;
    for (let i = 0; i < lines.length; i++) if (sig.match(lines[i]!, lines[i + 1]) !== null) n++;
    return n;
  });
}

/**
 * The signature's byte path over the same first 200k lines, still in their
 * buffer, as check's workers run it (a line it leaves is decoded and matched
 * as text, as there): what matching costs a worker, without the reading.
 */
function bytePathNsPerLine(path: string, format: BenchFormat): number {
  const { buf, starts } = firstLines(path);
  const lines = starts.length - 1;
  const out: ByteFailure = { time: null, family: 4, w0: 0, w1: 0, w2: 0, w3: 0, reason: '', cause: 'other' };
  return bestNsPerLine(path, format, lines, (sig) => {
    let n = 0;
    for (let k = 0; k < lines; k++) {
      const s = starts[k]!;
      const e = starts[k + 1]! - 1;
      const ns = k + 1 < lines ? starts[k + 1]! : -1;
      let code = sig.matchBytes!(buf, s, e, ns, ns < 0 ? -1 : starts[k + 2]! - 1, out);
      if (code === BYTES_DEFER) code = sig.match(buf.toString('utf8', s, e), ns < 0 ? undefined : buf.toString('utf8', ns, starts[k + 2]! - 1)) === null ? BYTES_NONE : BYTES_FAILURE;
      if (code !== BYTES_NONE) n++;
    }
    return n;
  });
}

const FAIL2BAN_FILTERS: Record<BenchFormat, string> = {
  nginx: [
    '[Definition]',
    'failregex = ^\\s*\\[\\w+\\] \\d+#\\d+: (?:\\*\\d+ )?.+ while SSL handshaking, client: <HOST>, server: \\S+$',
    'datepattern = ^%%Y/%%m/%%d %%H:%%M:%%S',
    '',
  ].join('\n'),
  go: ['[Definition]', 'failregex = ^\\s*http: TLS handshake error from <HOST>:\\d+: ', 'datepattern = ^%%Y/%%m/%%d %%H:%%M:%%S', ''].join('\n'),
};

async function compareWithFail2ban(ctx: BenchContext, results: { format: BenchFormat; log: GeneratedLog; ours: ChildRun }[]): Promise<void> {
  const f2b = onPath('fail2ban-regex');
  if (!f2b) {
    ctx.log('fail2ban-regex: not installed, comparison skipped (Debian: apt-get install fail2ban)');
    return;
  }
  if (process.env.BENCH_FAIL2BAN === '0') {
    ctx.log('fail2ban-regex: skipped (BENCH_FAIL2BAN=0)');
    return;
  }
  for (const { format, log, ours } of results) {
    const filter = join(ctx.tmpDir, `blocker-${format}.conf`);
    writeFileSync(filter, FAIL2BAN_FILTERS[format]);
    const r = await measureChild(f2b, [log.path, filter]);
    const m = /Lines: (\d+) lines, \d+ ignored, (\d+) matched/.exec(r.stdout);
    if (r.exitCode !== 0 || !m) {
      ctx.log(`${format}: fail2ban-regex failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`);
      continue;
    }
    const theirs = log.lines / r.seconds;
    const mine = log.lines / ours.seconds;
    const cpu = r.cpuSeconds === null ? '' : `, ${fmt(Math.round(log.lines / r.cpuSeconds))} lines per CPU-second`;
    ctx.log(
      `${format}: fail2ban-regex: ${fmt(Math.round(theirs))} lines/s (${r.seconds.toFixed(1)} s${cpu}, matched ${fmt(Number(m[2]))}), ` +
        `peak RSS ${mb(r.peakRss)} → blocker check is ${(mine / theirs).toFixed(0)}× faster with ${(r.peakRss / Math.max(ours.peakRss, 1)).toFixed(1)}× less memory`,
    );
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const num = (s: string) => Number(s.replaceAll(',', ''));
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
