import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/blocker/config.yaml';

/** Validates a parsed document; errors name the file and each offending key. */
export function parseConfig(doc: unknown, origin: string): Config {
  const result = configSchema.safeParse(doc ?? {});
  if (result.success) return result.data;
  throw new UserError(`invalid config ${origin}:\n${formatIssues(result.error.issues)}`, 2);
}

function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const key = issue.path.length ? issue.path.join('.') : '(top level)';
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
      return `  ${key}: ${message}`;
    })
    .join('\n');
}

/**
 * Reads YAML (JSON is YAML too). A missing file at the default path yields the
 * defaults, so `blocker list` works before anything is configured; a missing
 * file that the user named is an error.
 */
export function loadConfig(path: string | undefined): { config: Config; path: string | null } {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path === undefined) return { config: parseConfig({}, '(defaults)'), path: null };
    throw new UserError(`cannot read config ${file}: ${(err as Error).message}`, 2);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new UserError(`config ${file} is not valid YAML/JSON: ${(err as Error).message}`, 2);
  }
  return { config: parseConfig(doc, file), path: file };
}
