import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Tells V8 to keep the heap small rather than fast, for `blocker watch`: a
 * service that runs for months on a box with other work to do, and whose
 * memory a flood of a million scanners must not blow up. By default V8 lets
 * the heap grow to several times what is live while allocation is brisk, and
 * doubles its young generation up to 32 MB whenever objects survive in it
 * (every minute's firewall reconcile made them).
 *
 * Measured on the live bench (README, "Live-path benchmark"): RSS at the end
 * of the million-address flood 237–267 → about 150 MB, peak 267–278 → 158–168
 * MB, settled RSS unchanged; the flood is read at ~95–125k lines/s instead of
 * ~160k, still twice the 50k lines/s the daemon must keep up with. `blocker
 * check` keeps V8's defaults: there speed matters, and the process ends.
 *
 * V8 reads these flags as it goes, so setting them once the process runs
 * takes effect (the bench shows it); a flag a later V8 no longer knows would
 * only make it print a warning.
 */
export function favourMemoryOverSpeed(): void {
  setFlagsFromString('--optimize-for-size');
  setFlagsFromString('--semi-space-growth-factor=1');
  collect = exposeGc();
}

let collect: (() => void) | null = null;

/**
 * A full garbage collection, once favourMemoryOverSpeed() has run (else
 * nothing). For after the minute's firewall reconcile: it reads every ban
 * and compares it with every kernel member, and what it leaves behind
 * outlives V8's young generation, so it sat in the heap (9 MB with 15k bans)
 * until V8 got round to a full collection, which an idle daemon may not do
 * for minutes. One collection of the daemon's heap takes a few tens of
 * milliseconds, once a minute.
 */
export function collectGarbage(): void {
  collect?.();
}

/**
 * V8's own full collection, made reachable the only way Node allows: a flag,
 * then a fresh context's `gc`. Null where that does not work (a Node that
 * changed it): the daemon then runs as it would without, never fails for it.
 */
function exposeGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
