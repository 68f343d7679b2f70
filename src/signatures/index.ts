import { createApacheSignature } from './apache.js';
import { createAutoSignature } from './auto.js';
import { createCaddyJsonSignature } from './caddy-json.js';
import type { Cause } from './causes.js';
import { createDovecotSignature } from './dovecot.js';
import { createGoSignature } from './go.js';
import { createHaproxySignature } from './haproxy.js';
import { createNginxSignature } from './nginx.js';
import type { SignatureOptions } from './options.js';
import { createPostfixSignature } from './postfix.js';
import { compileUserPattern, createRegexSignature } from './regex.js';
import type { Signature } from './types.js';

/** The formats that need nothing but their name. */
export const BUILTIN_FORMATS = ['nginx', 'go', 'caddy-json', 'haproxy', 'apache', 'postfix', 'dovecot'] as const;
export type BuiltinFormat = (typeof BUILTIN_FORMATS)[number];

/** Every `format:` value: the built-ins, `regex` (a user pattern) and `auto` (each built-in per line). */
export const FORMAT_NAMES = [...BUILTIN_FORMATS, 'regex', 'auto'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

/** What a source's config says about its format. */
export interface SignatureSpec {
  readonly format: FormatName;
  /** `regex` only. */
  readonly pattern?: string | undefined;
  readonly cause?: Cause | undefined;
  /** nginx only; the caller gives `isNginxWorker` in the options (signatures do no I/O). */
  readonly checkPid?: boolean | undefined;
}

const FACTORIES: Record<BuiltinFormat, (o: SignatureOptions) => Signature> = {
  nginx: createNginxSignature,
  go: createGoSignature,
  'caddy-json': createCaddyJsonSignature,
  haproxy: createHaproxySignature,
  apache: createApacheSignature,
  postfix: createPostfixSignature,
  dovecot: createDovecotSignature,
};

/**
 * A fresh signature for one stream (some remember a few earlier lines, so one
 * per source). `options.now` dates syslog stamps that carry no year; it
 * defaults to the current time.
 */
export function createSignature(spec: FormatName | SignatureSpec, options: Partial<SignatureOptions> = {}): Signature {
  const s: SignatureSpec = typeof spec === 'string' ? { format: spec } : spec;
  const opts: SignatureOptions = { ...options, now: options.now ?? Date.now() };
  if (s.format === 'auto') return createAutoSignature(BUILTIN_FORMATS.map((f) => FACTORIES[f](opts)));
  if (s.format === 'regex') {
    if (s.pattern === undefined) throw new Error('format regex needs a pattern');
    return createRegexSignature(opts, { pattern: s.pattern, cause: s.cause });
  }
  return FACTORIES[s.format](opts);
}

export type { Cause } from './causes.js';
export { CAUSES } from './causes.js';

/** What is wrong with a source's format settings (for the config loader), or null. */
export function specProblem(spec: SignatureSpec): { key: 'pattern' | 'cause' | 'checkPid'; message: string } | null {
  if (spec.format === 'regex') {
    if (spec.pattern === undefined) return { key: 'pattern', message: 'format regex needs a pattern, e.g. \'^(?<time>\\S+ \\S+) .* from <HOST>: handshake failed$\'' };
    const re = compileUserPattern(spec.pattern);
    return typeof re === 'string' ? { key: 'pattern', message: `the pattern ${re}` } : null;
  }
  if (spec.checkPid && spec.format !== 'nginx') return { key: 'checkPid', message: `checkPid is only for format nginx (this source is ${spec.format})` };
  if (spec.pattern !== undefined) return { key: 'pattern', message: `pattern is only for format regex (this source is ${spec.format})` };
  if (spec.cause !== undefined) return { key: 'cause', message: `cause is only for format regex (${spec.format} classifies each line itself)` };
  return null;
}
