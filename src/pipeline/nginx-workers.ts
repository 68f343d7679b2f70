import { readFileSync } from 'node:fs';

const REMEMBER_MS = 10_000;

/**
 * `sources[].checkPid` for nginx: is `pid` a running nginx process on this
 * host? A forged log line names whatever pid its author chose; a record from a
 * pid that is not nginx is not trusted. Answers are remembered for a few
 * seconds (pids are reused, so not for long).
 */
export function nginxWorkerCheck(
  commOf: (pid: number) => string = (pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
  clock: () => number = Date.now,
): (pid: number) => boolean {
  const seen = new Map<number, { ok: boolean; at: number }>();
  return (pid) => {
    const now = clock();
    const hit = seen.get(pid);
    if (hit && now - hit.at < REMEMBER_MS) return hit.ok;
    let ok = false;
    try {
      ok = commOf(pid) === 'nginx';
    } catch {
      // no such process (or no /proc): not trusted
    }
    if (seen.size >= 4096) seen.clear();
    seen.set(pid, { ok, at: now });
    return ok;
  };
}
