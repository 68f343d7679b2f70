import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { UserError } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import { DEFAULT_CONFIG_PATH, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { configFrom, type CommonOptions } from './context.js';
import type { Io } from './io.js';

type Doc = unknown;

/** Cidr objects as their text; everything else as it is. */
function plain(v: unknown): Doc {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    if ('text' in v && 'prefix' in v && 'network' in v) return (v as { text: string }).text;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function setAt(doc: Doc, path: readonly (string | number)[], value: unknown): Doc {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(doc)) return doc.map((x, i) => (i === head ? setAt(x, rest, value) : x));
  const o = doc as Record<string, unknown>;
  return { ...o, [head!]: setAt(o[head!], rest, value) };
}

function getAt(doc: Doc, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((d, k) => (d as Record<string | number, unknown>)[k], doc);
}

const SIZE_UNITS = [
  [1024 * 1024, 'MiB'],
  [1024, 'KiB'],
] as const;

function formatSize(n: number): string | null {
  for (const [size, unit] of SIZE_UNITS) if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return null;
}

/**
 * The config in its own words: durations as `10m` rather than 600000, sizes
 * as `64KiB`. Which numbers are durations is asked of the schema itself: a
 * number is written as a duration when the config, with that value written
 * so, still parses to the same number there. So keys added later are covered
 * without a list to keep up to date.
 */
export function effectiveDocument(cfg: Config): Doc {
  let doc = plain(cfg);
  const numbers: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'number') numbers.push(path);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  for (const path of numbers) {
    const n = getAt(doc, path) as number;
    for (const text of [formatDuration(n), formatSize(n)]) {
      if (text === null || n === 0) continue;
      const trial = setAt(doc, path, text);
      try {
        if (getAt(plain(parseConfig(trial, '(check)')), path) === n) {
          doc = trial;
          break;
        }
      } catch {
        // Not a duration (or size) there: keep the number.
      }
    }
  }
  return doc;
}

/** `blocker config check`: validates the config and prints it with every default filled in. */
export async function configCheckCommand(opts: CommonOptions & { json?: boolean }, io: Io): Promise<number> {
  if (opts.config === undefined && !existsSync(DEFAULT_CONFIG_PATH)) {
    throw new UserError(`no config at ${DEFAULT_CONFIG_PATH}: copy one of the examples there (examples/*.yaml), or name one with -c`, 2);
  }
  const cfg = configFrom(opts);
  const doc = effectiveDocument(cfg);
  const file = opts.config ?? DEFAULT_CONFIG_PATH;
  if (opts.json) {
    io.out(JSON.stringify(doc, null, 2) + '\n');
  } else {
    io.out(`# ${file}: valid. The effective configuration, with defaults filled in and paths made absolute:\n`);
    io.out(stringify(doc, { lineWidth: 0 }));
  }
  if (cfg.sources.length === 0) io.err('note: no sources configured: `blocker watch` will refuse to start\n');
  if (cfg.firewall.backend === 'dry-run') io.err('note: firewall.backend is dry-run: nothing will be banned in the kernel\n');
  return 0;
}
