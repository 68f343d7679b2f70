import type { Readable } from 'node:stream';
import type { SourceConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import { FileSource } from './file.js';
import { JournaldSource } from './journald.js';
import { StdinSource } from './stdin.js';
import type { Source, SourceLogger } from './types.js';

export interface SourceContext {
  readonly store: Store;
  readonly log: SourceLogger;
  /** What a `stdin` source reads (the process's stdin by default). */
  readonly stdin?: Readable;
  /** The journalctl to run (tests put a recorded one in its place). */
  readonly journalctl?: string;
  /** `watch --once`: sources read what is there now and end (journald without --follow). */
  readonly once?: boolean;
  /** Overrides for file sources (tests and the bench tune timings). */
  readonly file?: { rotateGraceMs?: number; scanMs?: number; fsEvents?: boolean; clock?: () => number };
}

/** Builds the source a config entry describes, resuming from the position the store holds for it. */
export function createSource(cfg: SourceConfig, ctx: SourceContext): Source {
  switch (cfg.type) {
    case 'file':
      return new FileSource(
        { name: cfg.name, path: cfg.path, readFrom: cfg.readFrom, maxLineBytes: cfg.maxLineBytes, ...ctx.file },
        ctx.store.offsets.all(cfg.name),
        ctx.log,
      );
    case 'journald':
      return new JournaldSource(
        {
          name: cfg.name,
          units: cfg.units,
          identifiers: cfg.identifiers,
          readFrom: cfg.readFrom,
          maxLineBytes: cfg.maxLineBytes,
          follow: !ctx.once,
          ...(ctx.journalctl ? { command: ctx.journalctl } : {}),
        },
        ctx.store.cursors.get(cfg.name),
        ctx.log,
      );
    case 'stdin':
      return new StdinSource({ name: cfg.name, maxLineBytes: cfg.maxLineBytes }, ctx.stdin ?? process.stdin, ctx.log);
  }
}
