import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Compressed rotations (`error.log.2.gz`) are never followed: they are not text and never grow. */
const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip|Z)$/;

export interface PathPattern {
  readonly dir: string;
  /** Null for a plain file path. */
  readonly name: RegExp | null;
  readonly text: string;
}

/**
 * A file path whose last part may hold `*`, `?` and `[...]` (as in
 * `/var/log/nginx/*error.log`). Only the file name is a pattern: log folders
 * are fixed, and keeping it so lets one directory listing answer the question.
 */
export function pathPattern(path: string): PathPattern {
  const name = basename(path);
  if (!/[*?[]/.test(name)) return { dir: dirname(path), name: null, text: path };
  let re = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = name.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = name.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return { dir: dirname(path), name: new RegExp(`^${re}$`), text: path };
}

/** The paths that match now, sorted. A missing folder matches nothing (it may appear later). */
export function matchingPaths(p: PathPattern): string[] {
  if (p.name === null) return [p.text];
  let names: string[];
  try {
    names = readdirSync(p.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => p.name!.test(n) && !COMPRESSED.test(n))
    .sort()
    .map((n) => join(p.dir, n));
}
