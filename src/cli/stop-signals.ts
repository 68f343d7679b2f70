/**
 * SIGTERM and SIGINT for `blocker watch`, which must stop cleanly (exit 0)
 * whenever they come: also while the program is still loading, before there
 * is a daemon to stop. The `blocker` binary catches them first thing
 * (bin.ts); the daemon claims them once it exists and is told at once about
 * one that came before.
 */
let installed = false;
let caught = false;
let listener: (() => void) | null = null;

function onSignal(): void {
  caught = true;
  listener?.();
}

/** From now on SIGTERM and SIGINT are remembered instead of ending the process. */
export function catchStopSignals(): void {
  if (installed) return;
  installed = true;
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Calls `stop` at each SIGTERM or SIGINT, and at once if one was caught
 * already. Returns the release, which gives both signals back to Node's
 * default (ending the process).
 */
export function onStopSignal(stop: () => void): () => void {
  catchStopSignals();
  listener = stop;
  if (caught) stop();
  return () => {
    if (listener === stop) listener = null;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    installed = false;
    caught = false;
  };
}
