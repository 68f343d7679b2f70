import { statSync } from 'node:fs';
import { defaultWorkerCount, PARALLEL_FROM, prestartReplayWorkers } from '../pipeline/parallel-read.js';

/**
 * `blocker check` on a big file: starts its workers before the command's
 * own modules and config are loaded, so that they load theirs on the other
 * cores meanwhile (a tenth of a second of the whole run). Called with the
 * arguments after "check"; any that names a regular file big enough to be
 * read in pieces is enough. A worker started for a file that is read line
 * by line after all (`--format auto`, apache, postfix) costs CPU time on
 * another core, not time, and never keeps the process alive.
 */
export function warmUpCheck(args: readonly string[]): void {
  if (args.some(bigFile)) prestartReplayWorkers(defaultWorkerCount());
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
