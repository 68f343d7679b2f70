import { statSync } from 'node:fs';
import { defaultWorkerCount, PARALLEL_FROM, prestartReplayWorkers, type ReplayWorkers } from '../pipeline/parallel-read.js';
import type { FormatName, SignatureSpec } from '../signatures/index.js';

/** check's options that take a value (as main.ts declares them): their values are not files. */
const VALUE_OPTIONS = new Set(['-c', '--config', '--format', '--pattern', '--cause', '--top']);
const FLAGS = new Set(['--json']);

/** Workers started by warmUpCheck for a command line that named its format, with their `now`. */
let early: { format: string; files: readonly string[]; now: number; workers: ReplayWorkers } | null = null;

/**
 * `blocker check` on a big file: starts its work before the command's own
 * modules and config are loaded (bin.ts calls this first thing), on the
 * other core meanwhile. Called with the arguments after "check".
 *
 * When an argument names a regular file big enough to be read in pieces,
 * the workers are started at once (each takes a tenth of a second to load).
 * With `--format` on the command line, they are also given the first pieces
 * of the first file they will read as soon as this module's own imports are
 * in; checkCommand takes them (takeEarlyStart) if its files and format turn
 * out the same, and stops them otherwise. A worker started for a file that
 * is read line by line after all (`--format auto`, apache, postfix) costs CPU
 * time on another core, not time. A worker only started never keeps the
 * process alive; one given pieces does until it is taken or stopped, and a
 * check that fails before that (a bad argument) ends with process.exit.
 */
export async function warmUpCheck(args: readonly string[]): Promise<void> {
  if (!args.some(bigFile)) return;
  prestartReplayWorkers(defaultWorkerCount());
  const line = readCheckArgs(args);
  const format = line?.format;
  // A regex needs its --pattern, and auto is read line by line.
  if (!line || format === undefined || format === 'regex' || format === 'auto') return;
  const { startWorkers } = await import('../pipeline/replay-read.js');
  const now = Date.now();
  // An unknown format starts nothing (createSignature throws, startWorkers skips): checkCommand says what is wrong.
  const workers = startWorkers(line.files, format as FormatName, now);
  if (workers) early = { format, files: line.files, now, workers };
}

/**
 * The workers warmUpCheck started, and the `now` they match with, when they
 * were started for these files and this spec; else null (and any it started
 * are stopped). Taken once.
 */
export function takeEarlyStart(files: readonly string[], spec: SignatureSpec): { workers: ReplayWorkers; now: number } | null {
  const e = early;
  early = null;
  if (!e) return null;
  if (spec.pattern === undefined && spec.format === e.format && files.length === e.files.length && files.every((f, i) => f === e.files[i])) {
    return { workers: e.workers, now: e.now };
  }
  void e.workers.close();
  return null;
}

/**
 * check's format and files as commander will read them, or null when the
 * arguments hold anything else (then nothing is started early).
 */
export function readCheckArgs(args: readonly string[]): { format?: string; files: string[] } | null {
  const files: string[] = [];
  let format: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      files.push(...args.slice(i + 1));
      break;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (VALUE_OPTIONS.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) return null;
      if (name === '--format') format = value;
    } else if (FLAGS.has(a)) continue;
    else if (a.startsWith('-') && a !== '-') return null;
    else files.push(a);
  }
  return format === undefined ? { files } : { format, files };
}

function bigFile(arg: string): boolean {
  if (arg.startsWith('-')) return false;
  try {
    const st = statSync(arg, { throwIfNoEntry: false });
    return st !== undefined && st.isFile() && st.size >= PARALLEL_FROM;
  } catch {
    return false;
  }
}
