import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { matchingPaths, pathPattern } from '../sources/glob.js';

/** nginx's error_log levels, most verbose first. */
export const NGINX_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'] as const;

export interface ErrorLogDirective {
  /** The config file and line it is written at. */
  readonly file: string;
  readonly line: number;
  /** Where it writes: a path, `stderr`, `syslog:…` or `memory:…`. */
  readonly target: string;
  /** The level written, or nginx's default `error` when none is given. */
  readonly level: string;
  /** Enclosing blocks, e.g. ["http", "server"]. */
  readonly context: readonly string[];
}

interface Statement {
  readonly words: string[];
  readonly line: number;
  readonly context: readonly string[];
}

/**
 * Splits an nginx config into statements: words up to `;`, with the blocks
 * they sit in. Quotes, escapes and `#` comments are honoured; anything it
 * cannot make sense of is skipped rather than thrown (this only advises).
 */
export function statements(text: string): Statement[] {
  const out: Statement[] = [];
  const stack: string[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let line = 1;
  let startLine = 1;
  const endWord = () => {
    if (inWord) {
      if (words.length === 0) startLine = line;
      words.push(word);
    }
    word = '';
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
      line++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = line;
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        if (text[j] === '\n') line++;
        s += text[j];
        j++;
      }
      if (!inWord && words.length === 0) startLine = start;
      word += s;
      inWord = true;
      i = j;
      continue;
    }
    if (/\s/.test(c)) {
      endWord();
      continue;
    }
    if (c === ';') {
      endWord();
      if (words.length) out.push({ words, line: startLine, context: [...stack] });
      words = [];
      continue;
    }
    if (c === '{') {
      endWord();
      stack.push(words[0] ?? '');
      words = [];
      continue;
    }
    if (c === '}') {
      endWord();
      words = [];
      stack.pop();
      continue;
    }
    if (!inWord && words.length === 0) startLine = line;
    word += c;
    inWord = true;
  }
  return out;
}

/**
 * Every error_log directive of the nginx config at `main`, following
 * `include` (relative to the main file's folder, globs in the file name).
 */
export function nginxErrorLogs(main: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): {
  directives: ErrorLogDirective[];
  files: string[];
  unreadable: { file: string; error: string }[];
} {
  const prefix = dirname(main);
  const directives: ErrorLogDirective[] = [];
  const files: string[] = [];
  const unreadable: { file: string; error: string }[] = [];
  const seen = new Set<string>();
  const visit = (file: string, outer: readonly string[]) => {
    if (seen.has(file) || seen.size > 500) return;
    seen.add(file);
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      unreadable.push({ file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      return;
    }
    files.push(file);
    for (const st of statements(text)) {
      const context = [...outer, ...st.context];
      const [name, ...args] = st.words;
      if (name === 'error_log' && args[0]) {
        directives.push({ file, line: st.line, target: args[0], level: args[1] ?? 'error', context });
      } else if (name === 'include' && args[0]) {
        const pattern = isAbsolute(args[0]) ? args[0] : join(prefix, args[0]);
        let paths: string[];
        try {
          paths = matchingPaths(pathPattern(pattern));
        } catch {
          paths = [];
        }
        for (const p of paths) visit(p, context);
      }
    }
  };
  visit(main, []);
  return { directives, files, unreadable };
}

/** True when nginx at `level` writes what it logs at info (where most client handshake failures are). */
export function seesInfo(level: string): boolean {
  const i = NGINX_LEVELS.indexOf(level as (typeof NGINX_LEVELS)[number]);
  return i >= 0 && i <= 1;
}
