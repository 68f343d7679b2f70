import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_CONFIG_PATH } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import type { TelemetrySnapshot } from '../metrics/telemetry.js';
import { CAUSES, causeOf } from '../signatures/causes.js';
import { HEARTBEAT_MS } from '../status/heartbeat.js';
import { configFrom, type CommonOptions } from './context.js';
import { ago, iso, plural, styleFor, table, type Style } from './human.js';
import type { Io } from './io.js';
import { openReadStore, type ReadStore } from './read-store.js';

const HOUR = 3_600_000;
const DIAGNOSES_SHOWN_MS = 24 * HOUR;
/** A heartbeat older than this means the daemon is gone or stuck. */
const STALE_AFTER_MS = 3 * HEARTBEAT_MS;

type DaemonState = 'running' | 'stopped' | 'not responding' | 'never started';

interface FileLag {
  path: string;
  offset: number;
  /** Bytes written after the stored position; null when the file cannot be looked at. */
  lagBytes: number | null;
  note: string | null;
  positionSavedAt: string;
}

/** Everything `blocker status` knows, as printed by `--json`. */
export interface Status {
  now: string;
  config: { path: string; found: boolean };
  database: { path: string; found: boolean };
  daemon: {
    state: DaemonState;
    pid: number | null;
    host: string | null;
    version: string | null;
    startedAt: string | null;
    lastSeenAt: string | null;
    stoppedAt: string | null;
  };
  sources: {
    name: string;
    type: string;
    format: string;
    files: FileLag[];
    /** Journald: when the cursor was last saved. */
    cursorSavedAt: string | null;
    lastLineAt: string | null;
    lastFailureAt: string | null;
    /** Since the daemon started (null when no daemon has reported). */
    lines: number | null;
    failures: number | null;
    errors: number | null;
    lastError: string | null;
    failing: boolean;
  }[];
  failures: { windowMs: number; total: number; byCause: Record<string, number>; bySource: Record<string, number> };
  bans: {
    active: number;
    auto: number;
    manual: number;
    networks: number;
    permanent: number;
    issuedLastHour: number;
    endedLastHour: number;
  };
  breaker: {
    enabled: boolean;
    tripped: boolean;
    since: string | null;
    endedAt: string | null;
    held: number;
    evidence: Record<string, unknown>;
  } | null;
  diagnoses: { kind: string; subject: string; message: string; firstAt: string; lastAt: string; count: number }[];
  firewall: {
    backend: string;
    table: string;
    failing: boolean | null;
    errors: number | null;
    lastError: string | null;
    lastErrorAt: string | null;
    lastSyncAt: string | null;
    lastReconcile: { at: string; added: number; removed: number; refreshed: number; recreated: boolean } | null;
  };
  /** What status cannot show because nothing records it yet. */
  notRecorded: string[];
}

function daemonOf(store: ReadStore, now: number): Status['daemon'] & { report: TelemetrySnapshot | null } {
  const row = store.daemonStatus?.get() ?? null;
  if (!row) {
    return { state: 'never started', pid: null, host: null, version: null, startedAt: null, lastSeenAt: null, stoppedAt: null, report: null };
  }
  let state: DaemonState;
  if (row.stoppedAt !== null) state = 'stopped';
  else if (now - row.heartbeatAt > STALE_AFTER_MS || !alive(row.pid, row.host)) state = 'not responding';
  else state = 'running';
  return {
    state,
    pid: row.pid,
    host: row.host,
    version: row.version,
    startedAt: iso(row.startedAt),
    lastSeenAt: iso(row.heartbeatAt),
    stoppedAt: iso(row.stoppedAt),
    report: row.report as unknown as TelemetrySnapshot,
  };
}

/** A daemon on this host whose process is gone crashed (kill -9, OOM) without saying so. */
function alive(pid: number, host: string): boolean {
  if (host !== hostname()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it just is not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileLag(p: { path: string | null; offset: number | null; dev: number | null; ino: number | null; updatedAt: number }): FileLag {
  const base = { path: p.path!, offset: p.offset!, positionSavedAt: iso(p.updatedAt)! };
  try {
    const st = statSync(p.path!);
    if (st.ino !== p.ino || st.dev !== p.dev) {
      return { ...base, lagBytes: null, note: 'rotated: the file now at this path has not been read yet' };
    }
    return { ...base, lagBytes: Math.max(0, st.size - p.offset!), note: st.size < p.offset! ? 'truncated since' : null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...base, lagBytes: null, note: code === 'ENOENT' ? 'gone (rotated away or deleted)' : `cannot look at it: ${code ?? (err as Error).message}` };
  }
}

export function collectStatus(cfg: Config, configPath: string, now: number): Status {
  const notRecorded: string[] = [];
  const store = openReadStore(cfg.database);
  const base = {
    now: iso(now)!,
    config: { path: configPath, found: existsSync(configPath) },
    database: { path: cfg.database, found: store !== null },
  };
  const windowMs = Math.min(HOUR, cfg.policy.findTime);
  const firewallBase = { backend: cfg.firewall.backend, table: cfg.firewall.table };
  if (!store) {
    return {
      ...base,
      daemon: { state: 'never started', pid: null, host: null, version: null, startedAt: null, lastSeenAt: null, stoppedAt: null },
      sources: cfg.sources.map((s) => ({
        name: s.name, type: s.type, format: s.format, files: [], cursorSavedAt: null, lastLineAt: null, lastFailureAt: null,
        lines: null, failures: null, errors: null, lastError: null, failing: false,
      })),
      failures: { windowMs, total: 0, byCause: Object.fromEntries(CAUSES.map((c) => [c, 0])), bySource: {} },
      bans: { active: 0, auto: 0, manual: 0, networks: 0, permanent: 0, issuedLastHour: 0, endedLastHour: 0 },
      breaker: null,
      diagnoses: [],
      firewall: { ...firewallBase, failing: null, errors: null, lastError: null, lastErrorAt: null, lastSyncAt: null, lastReconcile: null },
      notRecorded,
    };
  }
  try {
    const { report, ...daemon } = daemonOf(store, now);
    if (!store.daemonStatus) notRecorded.push('the daemon status row (database from before it existed): restart blocker watch');
    const positions = store.reports.positions();
    const lastFailure = store.reports.lastFailureBySource();
    const byCause: Record<string, number> = Object.fromEntries(CAUSES.map((c) => [c, 0]));
    const bySource: Record<string, number> = {};
    let total = 0;
    for (const r of store.reports.reasonsSince(now - windowMs)) {
      const cause = causeOf(r.reason);
      byCause[cause] = (byCause[cause] ?? 0) + r.count;
      bySource[r.source] = (bySource[r.source] ?? 0) + r.count;
      total += r.count;
    }
    const sources = cfg.sources.map((s) => {
      const mine = positions.filter((p) => p.source === s.name);
      const rep = report?.sources[s.name];
      const journal = mine.find((p) => p.kind === 'journald');
      return {
        name: s.name,
        type: s.type,
        format: s.format,
        files: mine.filter((p) => p.kind === 'file').map(fileLag),
        cursorSavedAt: journal ? iso(journal.updatedAt) : null,
        lastLineAt: iso(rep?.lastLineAt ?? null),
        lastFailureAt: iso(lastFailure.get(s.name) ?? null),
        lines: rep?.lines ?? null,
        failures: rep?.failures ?? null,
        errors: rep?.errors ?? null,
        lastError: rep?.lastError ?? null,
        failing: rep?.failing ?? false,
      };
    });
    const counts = store.reports.activeCounts(now);
    const sum = (f: (c: (typeof counts)[number]) => boolean) => counts.filter(f).reduce((n, c) => n + c.count, 0);
    const issued = store.reports.bansSince(now - HOUR);
    const ended = store.reports.endedSince(now - HOUR);
    const b = store.diagnoses.breaker();
    const fw = report?.firewall;
    if (!fw?.lastReconcile) {
      notRecorded.push('the last reconcile of kernel and database: shown once the firewall backend reports one');
    }
    return {
      ...base,
      daemon,
      sources,
      failures: { windowMs, total, byCause, bySource },
      bans: {
        active: sum(() => true),
        auto: sum((c) => c.origin === 'auto'),
        manual: sum((c) => c.origin === 'manual'),
        networks: sum((c) => c.network),
        permanent: sum((c) => c.permanent),
        issuedLastHour: issued.auto + issued.manual,
        endedLastHour: ended.expired + ended.unbanned,
      },
      breaker: b
        ? { enabled: cfg.policy.breaker.enabled, tripped: b.tripped, since: iso(b.since), endedAt: iso(b.endedAt), held: b.held, evidence: b.evidence }
        : null,
      diagnoses: store.diagnoses.since(now - DIAGNOSES_SHOWN_MS).map((d) => ({
        kind: d.kind,
        subject: d.subject,
        message: d.message,
        firstAt: iso(d.firstAt)!,
        lastAt: iso(d.lastAt)!,
        count: d.count,
      })),
      firewall: {
        ...firewallBase,
        failing: fw ? fw.failing : null,
        errors: fw ? fw.errors : null,
        lastError: fw?.lastError ?? null,
        lastErrorAt: iso(fw?.lastErrorAt ?? null),
        lastSyncAt: iso(fw?.lastSyncAt ?? null),
        lastReconcile: fw?.lastReconcile ? { ...fw.lastReconcile, at: iso(fw.lastReconcile.at)! } : null,
      },
      notRecorded,
    };
  } finally {
    store.close();
  }
}

const t = (s: string | null) => (s === null ? null : Date.parse(s));

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function renderStatus(st: Status, s: Style, now: number): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`${s.bold(label.padEnd(10))} ${text}`);
  const d = st.daemon;
  const daemonText =
    d.state === 'running'
      ? `${s.green('running')}  pid ${d.pid} on ${d.host}, up ${formatDuration(now - t(d.startedAt)!)}, last seen ${ago(t(d.lastSeenAt), now)} (v${d.version})`
      : d.state === 'stopped'
        ? `${s.yellow('stopped')} ${ago(t(d.stoppedAt), now)} (pid ${d.pid} on ${d.host})`
        : d.state === 'not responding'
          ? `${s.red('not responding')}: last seen ${ago(t(d.lastSeenAt), now)} (pid ${d.pid} on ${d.host}); check \`systemctl status blocker\``
          : `${s.yellow('never started')} with this database`;
  row('daemon', daemonText);
  row('config', `${st.config.path}${st.config.found ? '' : ' (not found: defaults)'}`);
  row('database', `${st.database.path}${st.database.found ? '' : ' (not created yet)'}`);
  const fw = st.firewall;
  let fwText = `${fw.backend} (table inet ${fw.table})`;
  if (fw.failing === true) fwText += `  ${s.red('failing')}: ${fw.lastError} (${ago(t(fw.lastErrorAt), now)})`;
  else if (fw.failing === false) fwText += `  ${s.green('ok')}, last full sync ${ago(t(fw.lastSyncAt), now)}`;
  if (fw.lastReconcile) {
    const r = fw.lastReconcile;
    fwText += `; last reconcile ${ago(t(r.at), now)}: ${r.added} added, ${r.removed} removed, ${r.refreshed} refreshed${r.recreated ? ', table recreated' : ''}`;
  }
  row('firewall', fwText);
  const b = st.bans;
  row(
    'bans',
    `${plural(b.active, 'active ban')} (${b.auto} auto, ${b.manual} manual; ${plural(b.networks, 'network')}, ${b.permanent} permanent); ` +
      `last hour: ${b.issuedLastHour} issued, ${b.endedLastHour} ended`,
  );
  const br = st.breaker;
  let brText: string;
  if (br === null) brText = 'never tripped';
  else if (br.tripped) brText = `${s.red('TRIPPED')} ${ago(t(br.since), now)}: automatic bans held back (${br.held} so far); ${JSON.stringify(br.evidence)}`;
  else brText = `off; last storm ${ago(t(br.since), now)}, ended ${ago(t(br.endedAt), now)}, ${plural(br.held, 'ban')} held back`;
  if (br && !br.enabled) brText += ' (policy.breaker.enabled is false now)';
  row('breaker', brText);
  out.push('');
  const f = st.failures;
  const causes = Object.entries(f.byCause)
    .filter(([, n]) => n > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([c, n]) => `${c} ${n}`);
  // Failures older than findTime are pruned by the daemon, so a short findTime shortens this window.
  const pruned = f.windowMs < HOUR ? s.dim(' [older ones are pruned after policy.findTime]') : '';
  out.push(`${s.bold(`failures in the last ${formatDuration(f.windowMs)}`)}: ${f.total}${causes.length ? `  (${causes.join(', ')})` : ''}${pruned}`);
  out.push('');
  if (st.sources.length === 0) {
    out.push('no sources configured');
  } else {
    out.push(
      table(
        ['SOURCE', 'TYPE', 'FORMAT', 'LAST LINE', 'LAST FAILURE', 'LAG', 'LINES', 'FAILURES', 'ERRORS'].map(s.bold),
        st.sources.map((src) => {
          const lags = src.files.map((x) => x.lagBytes).filter((n): n is number => n !== null);
          const lag =
            src.type === 'journald'
              ? src.cursorSavedAt
                ? `cursor ${ago(t(src.cursorSavedAt), now)}`
                : '-'
              : lags.length
                ? bytes(lags.reduce((a, n) => a + n, 0))
                : src.files.length
                  ? (src.files[0]!.note ?? '-')
                  : 'no position yet';
          return [
            src.name,
            src.type,
            src.format,
            ago(t(src.lastLineAt), now),
            ago(t(src.lastFailureAt), now),
            lag,
            src.lines ?? '-',
            src.failures ?? '-',
            src.failing ? s.red(`${src.errors}: ${src.lastError}`) : (src.errors ?? '-'),
          ];
        }),
      ).trimEnd(),
    );
  }
  if (st.diagnoses.length) {
    out.push('', s.bold('diagnoses (last 24h)'));
    for (const dg of st.diagnoses) {
      out.push(`  ${s.yellow(dg.kind)} ${dg.subject}: ${dg.message} (${plural(dg.count, 'time')}, last ${ago(t(dg.lastAt), now)})`);
    }
  }
  if (st.notRecorded.length) {
    out.push('', s.dim('not shown, as nothing records it yet:'));
    for (const n of st.notRecorded) out.push(s.dim(`  - ${n}`));
  }
  return out.join('\n') + '\n';
}

/** `blocker status`: what the daemon is doing, from what it stored. */
export async function statusCommand(opts: CommonOptions & { json?: boolean }, io: Io, now = Date.now()): Promise<number> {
  const cfg = configFrom(opts);
  const st = collectStatus(cfg, opts.config ?? DEFAULT_CONFIG_PATH, now);
  io.out(opts.json ? JSON.stringify(st, null, 2) + '\n' : renderStatus(st, styleFor(io), now));
  return 0;
}
