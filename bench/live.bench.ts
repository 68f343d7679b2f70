/**
 * The live path, measured: a writer appends failure lines at fixed rates to a
 * file that `blocker watch --dry-run` (the real CLI, a child process) follows,
 * and we time each ban from the write of the line that caused it to the
 * watcher's `info ban` log line. Then a million distinct addresses go through
 * it for the memory figure. Prints one table; asserts nothing (`npm run bench`).
 *
 * Lines are Go-style handshake errors (`http: TLS handshake error from IP:PORT: EOF`)
 * without a timestamp, so each counts when read. Nine lines in ten come from
 * an address seen once (noise: IPv4 from 100.64.0.0/10, IPv6 from
 * 2001:db8::/32 with a /64 each); one in ten from an attacker that fails five
 * times (maxRetry 5; IPv4 from 198.18.0.0/15, IPv6 from 2001:db8:ffff::/48)
 * and is banned at its fifth line. Addresses are scattered over their ranges
 * as real clients are (a bijection of the line number, so each noise address
 * still comes once): counted in order, they would make every index insert an
 * append and hide what random addresses cost. The addresses are only
 * text in a temporary file: no packet is sent and the firewall is dry-run.
 * The storm breaker is off, as a million scanners would trip it by design.
 */
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { BenchModule } from './types.js';

const DEFAULT_CLI = fileURLToPath(new URL('../blocker/bin.js', import.meta.url));
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface Phase {
  label: string;
  rate: number | null;
  lines: number;
  seconds: number;
  sustained: number;
  lagAtEnd: number;
  p50: number | null;
  p99: number | null;
  bans: number;
  cpu: number;
  rssMb: number;
  peakRssMb: number;
}

/** Line `n` of the stream: every tenth line belongs to an attacker (five lines each), the rest are noise seen once. */
function lineFor(n: number): { text: string; attacker: string | null; fifth: boolean } {
  if (n % 10 === 0) {
    const k = n / 10;
    const id = Math.floor(k / 5);
    const s = scatter(id);
    const ip = id % 4 === 0 ? `[2001:db8:ffff:${(s & 0xffff).toString(16)}::${((id >> 16) + 1).toString(16)}]` : v4(0xc6120000 + (s & 0x1ffff));
    return { text: `http: TLS handshake error from ${ip}:${1024 + (n % 60000)}: EOF\n`, attacker: ip.replace(/^\[|\]$/g, ''), fifth: k % 5 === 4 };
  }
  // Noise: 100.64.0.0/10 and 2001:db8::/32 (a /64 each), each address once.
  const s = scatter(n);
  const ip = n % 4 === 1 ? `[2001:db8:${(s >>> 16).toString(16)}:${(s & 0xffff).toString(16)}::1]` : v4(0x64400000 + (s & 0x3fffff));
  return { text: `http: TLS handshake error from ${ip}:${1024 + (n % 60000)}: EOF\n`, attacker: null, fifth: false };
}

/** A bijection of 32-bit numbers (and of their low k bits, for any k): an odd multiplier. */
function scatter(n: number): number {
  return Math.imul(n, 0x2c1b3c6d) >>> 0;
}

function v4(x: number): string {
  return `${(x >>> 24) & 255}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

function procStat(pid: number): { cpuTicks: number; rssMb: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpuTicks, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Watcher {
  readonly proc: ResultPromise;
  /** Attacker address → when its ban line arrived. */
  readonly banSeen = new Map<string, number>();
  private db: Database.Database | null = null;
  private buffered = '';

  constructor(cli: string, config: string, private readonly database: string) {
    this.proc = execa(process.execPath, [cli, 'watch', '--dry-run', '-c', config], {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      buffer: false,
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      const now = performance.now();
      this.buffered += d.toString();
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const m = /^info ban ip=(\S+)/.exec(line);
        if (m) this.banSeen.set(m[1]!, now);
        else if (!/^info /.test(line)) process.stderr.write(`  watcher: ${line}\n`);
      }
    });
  }

  get pid(): number {
    if (this.proc.exitCode !== null && this.proc.exitCode !== undefined) {
      throw new Error(`blocker watch exited early with ${this.proc.exitCode}`);
    }
    return this.proc.pid!;
  }

  /** Failures recorded so far (the highest row id: cheap on a big table). */
  counted(): number {
    try {
      this.db ??= new Database(this.database, { readonly: true, fileMustExist: true });
      return (this.db.prepare('SELECT coalesce(max(id), 0) AS n FROM failures').get() as { n: number }).n;
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.db?.close();
    this.proc.kill('SIGTERM');
    await this.proc;
  }
}

/**
 * Appends lines at `rate` per second for `seconds` (or, with rate null, as
 * fast as the watcher takes them, never more than `maxLag` ahead), then waits
 * until the watcher has counted them all.
 */
async function phase(
  w: Watcher,
  fd: number,
  from: number,
  opts: { label: string; rate: number | null; seconds?: number; lines?: number; maxLag?: number },
): Promise<{ result: Phase; next: number }> {
  const writes = new Map<string, number>();
  const startStat = procStat(w.pid);
  const start = performance.now();
  let n = from;
  const total = opts.lines ?? Math.round((opts.rate ?? 0) * (opts.seconds ?? 0));
  const end = from + total;
  while (n < end) {
    const elapsed = (performance.now() - start) / 1000;
    let due = opts.rate === null ? Math.min(end, w.counted() + (opts.maxLag ?? 50_000)) : Math.min(end, from + Math.floor(elapsed * opts.rate));
    if (opts.rate === null) due = Math.max(due, n);
    if (due > n) {
      let chunk = '';
      const now = performance.now();
      for (; n < due; n++) {
        const l = lineFor(n);
        chunk += l.text;
        if (l.fifth && l.attacker) writes.set(l.attacker, now);
      }
      writeSync(fd, chunk);
    }
    await sleep(opts.rate === null ? 20 : 2);
  }
  const writtenAt = performance.now();
  const lagAtEnd = end - w.counted();
  while (w.counted() < end) await sleep(5);
  const done = performance.now();
  await sleep(100); // the last ban lines
  const stat = procStat(w.pid);
  const seconds = (done - start) / 1000;
  const latencies: number[] = [];
  for (const [ip, t] of writes) {
    const seen = w.banSeen.get(ip);
    if (seen !== undefined) latencies.push(seen - t);
  }
  latencies.sort((a, b) => a - b);
  void writtenAt;
  return {
    next: end,
    result: {
      label: opts.label,
      rate: opts.rate,
      lines: total,
      seconds,
      sustained: total / seconds,
      lagAtEnd,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      bans: latencies.length,
      cpu: (stat.cpuTicks - startStat.cpuTicks) / CLOCK_TICKS / seconds,
      rssMb: stat.rssMb,
      peakRssMb: stat.peakRssMb,
    },
  };
}

export async function run(
  options: { seconds?: number; distinct?: number; dir?: string; cli?: string; log?: (line: string) => void } = {},
): Promise<Phase[]> {
  const seconds = options.seconds ?? 5;
  const distinct = options.distinct ?? 1_000_000;
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), 'blocker-bench-live-'));
  const log = join(dir, 'flood.log');
  const database = join(dir, 'blocker.db');
  const config = join(dir, 'blocker.yaml');
  writeFileSync(log, '');
  writeFileSync(
    config,
    JSON.stringify({
      database,
      sources: [{ name: 'flood', type: 'file', path: log, format: 'go', readFrom: 'start' }],
      policy: { maxRetry: 5, findTime: '10m', banTime: '1h', allow: ['127.0.0.0/8', '::1'], cdn: [], breaker: { enabled: false } },
      firewall: { backend: 'dry-run' },
    }),
  );
  const w = new Watcher(options.cli ?? DEFAULT_CLI, config, database);
  const fd = openSync(log, 'a');
  const phases: Phase[] = [];
  let settled: { rssMb: number; seconds: number } | null = null;
  let after: { low: number; high: number } | null = null;
  try {
    await sleep(1000);
    let n = 0;
    for (const rate of [1_000, 10_000, 50_000]) {
      const r = await phase(w, fd, n, { label: `${rate / 1000}k lines/s`, rate, seconds });
      phases.push(r.result);
      n = r.next;
    }
    // Up to a million distinct addresses seen: 9 in 10 lines are noise seen once.
    const more = Math.max(0, Math.ceil((distinct - n * 0.92) / 0.92));
    if (more > 0) {
      const r = await phase(w, fd, n, { label: `${(distinct / 1e6).toFixed(1)}M addresses`, rate: null, lines: more });
      phases.push(r.result);
      settled = await settle(w, Number(process.env.BENCH_SETTLE ?? 120));
      after = await watchRss(w, 65);
    }
  } finally {
    closeSync(fd);
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out = options.log ?? ((line: string) => console.log(line));
  print(phases, out);
  if (settled) {
    out(
      `after the last phase, with no more lines: RSS ${settled.rssMb.toFixed(0)} MB ${settled.seconds.toFixed(0)} s later ` +
        '(V8 gives back the heap it grew during the flood once the process has been idle a while; the addresses are all still remembered)',
    );
  }
  if (after) {
    out(
      `over the next 65 s, still idle: RSS between ${after.low.toFixed(0)} and ${after.high.toFixed(0)} MB ` +
        "(the firewall reconcile each minute reads every ban back; the watcher collects its garbage a second later)",
    );
  }
  return phases;
}

/**
 * Waits, with no lines coming, for the watcher's RSS to fall (V8 shrinks its
 * heap only after some idle time, about a minute here) and then hold for 15 s,
 * or `maxSeconds`: what a daemon holds once a flood is over, as opposed to the
 * heap V8 grew during it.
 */
async function settle(w: Watcher, maxSeconds: number): Promise<{ rssMb: number; seconds: number }> {
  const start = performance.now();
  const first = procStat(w.pid).rssMb;
  let low = first;
  let lowAt = start;
  while (performance.now() - start < maxSeconds * 1000) {
    await sleep(1000);
    const rss = procStat(w.pid).rssMb;
    if (rss < low - 1) {
      low = rss;
      lowAt = performance.now();
    }
    if (low < first * 0.9 && performance.now() - lowAt > 15_000) break;
  }
  return { rssMb: low, seconds: (lowAt - start) / 1000 };
}

/** The lowest and highest RSS seen, once a second for `seconds`. */
async function watchRss(w: Watcher, seconds: number): Promise<{ low: number; high: number }> {
  let low = Infinity;
  let high = 0;
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const rss = procStat(w.pid).rssMb;
    low = Math.min(low, rss);
    high = Math.max(high, rss);
  }
  return { low, high };
}

function print(phases: Phase[], log: (line: string) => void): void {
  const rows = [
    ['live path (blocker watch --dry-run)', 'lines', 'lines/s kept', 'lag at end', 'p50 ms', 'p99 ms', 'bans', 'CPU', 'RSS MB', 'peak MB'],
    ...phases.map((p) => [
      p.label,
      String(p.lines),
      String(Math.round(p.sustained)),
      String(p.lagAtEnd),
      p.p50 === null ? '-' : p.p50.toFixed(1),
      p.p99 === null ? '-' : p.p99.toFixed(1),
      String(p.bans),
      `${Math.round(p.cpu * 100)}%`,
      p.rssMb.toFixed(0),
      p.peakRssMb.toFixed(0),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/** For `npm run bench` (bench/run.ts). BENCH_SECONDS and BENCH_DISTINCT shorten it. */
export const liveBench: BenchModule = {
  name: 'live',
  description:
    'blocker watch --dry-run following a file written at 1k/10k/50k lines/s: lines/s kept, line-to-ban p50/p99, CPU, RSS; then 1M distinct addresses',
  async run(ctx) {
    await run({
      seconds: Number(process.env.BENCH_SECONDS ?? 5),
      distinct: Number(process.env.BENCH_DISTINCT ?? 1_000_000),
      dir: ctx.tmpDir,
      cli: ctx.cli,
      log: ctx.log,
    });
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const distinct = Number(process.env.BENCH_DISTINCT ?? 1_000_000);
  await run({ seconds, distinct });
}
