import { parseIp } from '../net/address.js';
import { apacheTimeParser, clfTimeParser } from './bracket-time.js';
import { causeOf, type Cause } from './causes.js';
import { slashedLocalTimeParser } from './log-time.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, type MatchResult, type Signature } from './types.js';

/** What a `format: regex` source adds to its config. */
export interface UserPattern {
  /** JavaScript regular expression, anchored with ^, with a named group `ip` or the `<HOST>` placeholder. */
  readonly pattern: string;
  /** Cause of every match; without it, the cause is read from a `reason` group, else `other`. */
  readonly cause?: Cause | undefined;
}

/** fail2ban's placeholder: an address, IPv6 optionally in brackets. */
const HOST = '\\[?(?<ip>[0-9A-Fa-f:.]{2,45})\\]?';

/**
 * Compiles a user pattern, or says in one sentence what is wrong with it (the
 * config loader shows that next to the key).
 */
export function compileUserPattern(pattern: string): RegExp | string {
  if (pattern.split('<HOST>').length > 2) return 'has <HOST> more than once; the client address is one field';
  const source = pattern.replaceAll('<HOST>', HOST);
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  if (!source.startsWith('^')) {
    return 'must be anchored at the start of the line (begin it with ^), so that text a client controls later in a line can never match';
  }
  const groups = [...source.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((g) => g[1]);
  if (!groups.includes('ip')) return 'needs a named group (?<ip>...) or the <HOST> placeholder for the client address';
  if (groups.filter((g) => g === 'ip').length > 1) return 'has more than one (?<ip>...) group (or <HOST>)';
  const unknown = groups.filter((g) => g !== 'ip' && g !== 'time' && g !== 'reason');
  if (unknown.length) return `has named group(s) ${unknown.join(', ')}; only ip, time and reason are used`;
  return re;
}

/**
 * A signature from a user's pattern. The optional `time` group may hold any
 * of the stamps the built-in formats know (2026/11/22 02:40:11,
 * 22/Nov/2026:02:40:11, ISO 8601, Nov 22 02:40:11, Unix seconds); a syslog or
 * journald prefix is tried when the pattern does not match the line as is.
 */
export function createRegexSignature(opts: SignatureOptions, user: UserPattern): Signature {
  const compiled = compileUserPattern(user.pattern);
  // The config loader has validated the pattern already; this is for other callers.
  if (typeof compiled === 'string') throw new Error(`regex format: pattern ${compiled}`);
  const re = compiled;
  const syslog = syslogPrefixParser(opts.now);
  const parseTime = anyTimeParser(opts.now);
  return {
    name: 'regex',
    match(line: string): MatchResult {
      let m = re.exec(line);
      let prefixTime: number | null = null;
      if (!m) {
        const p = syslog(line);
        if (!p) return null;
        m = re.exec(line.slice(p.length));
        if (!m) return null;
        prefixTime = p.time;
      }
      const g = m.groups ?? {};
      const ip = g.ip === undefined ? null : parseIp(g.ip);
      if (!ip) return UNPARSABLE;
      const reason = g.reason?.trim() || 'matched pattern';
      const time = g.time !== undefined ? parseTime(g.time) : prefixTime;
      return { time, ip, reason, cause: user.cause ?? (g.reason ? causeOf(g.reason) : 'other') };
    },
  };
}

function anyTimeParser(now: number): (stamp: string) => number | null {
  const slashed = slashedLocalTimeParser();
  const clf = clfTimeParser();
  const apache = apacheTimeParser();
  const bsd = syslogPrefixParser(now);
  return (stamp) => {
    const s = stamp.trim();
    if (/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/.test(s)) return slashed(s.slice(0, 19));
    if (/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d/.test(s)) return clf(s.slice(0, 20));
    if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(s)) {
      const t = Date.parse(s.replace(' ', 'T').replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
      return Number.isNaN(t) ? null : t;
    }
    if (/^\d{9,10}(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
    if (/^[A-Z][a-z]{2} [A-Z][a-z]{2} /.test(s)) return apache(s);
    if (/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d/.test(s)) return bsd(`${s.slice(0, 15)} x x: `)?.time ?? null;
    return null;
  };
}
