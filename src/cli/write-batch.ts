/**
 * A writer that gathers what is written during one turn of the event loop and
 * hands it on as one write. Under a flood the daemon logs a ban line for each
 * of hundreds of bans per tick; one write per line was one system call each
 * (stderr to a pipe or journald is written synchronously).
 *
 * `flush` writes what is pending at once: call it before exiting. Whatever is
 * still pending when the process exits anyway is written by the exit handler.
 */
export function batchWrites(write: (text: string) => void): { write(text: string): void; flush(): void; close(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    write(text);
  };
  process.on('exit', flush);
  return {
    write(text) {
      pending.push(text);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    close() {
      flush();
      process.off('exit', flush);
    },
  };
}
