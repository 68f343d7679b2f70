import { GO_MARKER, parseGoMessage } from './go.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import type { MatchResult, Signature } from './types.js';

/**
 * Caddy's structured log. Go's handshake errors reach it through the
 * `http.stdlib` logger, at debug level only:
 *   {"level":"debug","ts":1732243211.52,"logger":"http.stdlib","msg":"http: TLS handshake error from 198.51.100.2:50000: EOF"}
 *
 * The line is parsed as JSON, never searched: a client's SNI or path inside
 * another field cannot be mistaken for the message, and JSON escapes newlines.
 */
export function createCaddyJsonSignature(opts: SignatureOptions): Signature {
  const syslog = syslogPrefixParser(opts.now);
  return {
    name: 'caddy-json',
    match(line: string): MatchResult {
      if (line.indexOf(GO_MARKER) < 0 || line.indexOf('http.stdlib') < 0) return null;
      let json = line;
      if (line.charCodeAt(0) !== 123) {
        const p = syslog(line);
        if (!p) return null;
        json = line.slice(p.length);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(json);
      } catch {
        return null;
      }
      if (typeof doc !== 'object' || doc === null) return null;
      const { logger, msg, ts } = doc as { logger?: unknown; msg?: unknown; ts?: unknown };
      if (logger !== 'http.stdlib' || typeof msg !== 'string') return null;
      return parseGoMessage(msg, timeOf(ts));
    },
  };
}

/** Caddy writes `ts` as Unix seconds (a float) by default, or as a string with `time_format`. */
function timeOf(ts: unknown): number | null {
  if (typeof ts === 'number' && Number.isFinite(ts)) return Math.round(ts * 1000);
  if (typeof ts === 'string') {
    const t = Date.parse(ts);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}
