import type { FilePosition } from '../store/offsets.js';

/** How far a source has read, saved in the same transaction as the failures read before it. */
export type Checkpoint =
  /** A file read up to `position.offset`. */
  | { readonly kind: 'file'; readonly position: FilePosition }
  /** A file the source is done with (a rotated file read to its end, or one that is gone). */
  | { readonly kind: 'file-done'; readonly dev: number; readonly ino: number }
  /** A journald entry: everything up to and including it has been read. */
  | { readonly kind: 'cursor'; readonly cursor: string };

/** Complete lines read by one poll, and where the source stands after them. */
export interface SourceBatch {
  readonly lines: string[];
  readonly checkpoints: Checkpoint[];
}

/**
 * A log source, pulled by the daemon once per tick. Sources that are pushed
 * to (a process's output, stdin) buffer a bounded number of lines between polls.
 */
export interface Source {
  readonly name: string;
  /**
   * Lines that arrived since the last poll, with the checkpoints after them;
   * null when nothing is new. Throws when the source cannot be read at all
   * (the daemon logs it and tries again later).
   */
  poll(): SourceBatch | null;
  /** The last poll stopped at its size limit: more is waiting right now. */
  readonly behind: boolean;
  /** Nothing more will ever come (stdin reached its end). */
  readonly ended: boolean;
  /** Lines cut at maxLineBytes since the source started. */
  readonly cutLines: number;
  /** `wake` is called when new data may be waiting, so the daemon need not wait for its next poll. */
  onActivity(wake: () => void): void;
  close(): void;
}

/** Sources log problems at `warn`, and routine events (rotations) at `debug`, so the daemon stays quiet. */
export interface SourceLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}
