import { parseIp, type Ip } from '../net/address.js';
import { causeOf, type Cause } from './causes.js';
import { addressInterner, memo, memoParseIp } from './memo.js';
import { slashedLocalTimeParser } from './log-time.js';
import { serverWrittenPart, startsWithSlashedStamp, type SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, UNTRUSTED, type Failure, type MatchResult, type Signature } from './types.js';

/**
 * Go net/http's server error log, as Hysteria, Caddy (stdlib log), Traefik, Xray
 * and many others print it:
 *   2026/11/01 00:00:00 http: TLS handshake error from 172.68.47.133:9825: EOF
 *   2026/11/01 00:00:00.123456 server.go:3215: http: TLS handshake error from [2001:db8::2]:50000: EOF
 *   [hysteria] http: TLS handshake error from 198.51.100.2:4000: tls: first record does not look like a TLS handshake
 *
 * Anchored at the start: up to three program-prefix tokens (`file.go:N:`,
 * `[name]`, `name:`), none of which can contain a space, then Go's own
 * "http: TLS handshake error from", then the address. So the address is the
 * one Go wrote, never text later in the reason (which may quote a client's
 * SNI or ALPN values).
 */
const LINE =
  /^(?:(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d)(?:\.\d{1,9})? )?(?:(?:[\w.-]{1,64}\.go:\d{1,6}:|\[[\w.:/-]{1,64}\]|[\w./-]{1,64}:) ){0,3}http: TLS handshake error from (\[[^\]\s]{1,64}\]|[^\s:[\]]{1,64}):(\d{1,5}): ([^\n]{0,1000})$/;

export const GO_MARKER = 'http: TLS handshake error from ';
const MESSAGE = /^http: TLS handshake error from (\[[^\]\s]{1,64}\]|[^\s:[\]]{1,64}):(\d{1,5}): ([^\n]{0,1000})$/;

export function createGoSignature(opts: SignatureOptions): Signature {
  const parseTime = slashedLocalTimeParser();
  const syslog = syslogPrefixParser(opts.now);
  const ipOf = memoParseIp();
  const internIp = addressInterner();
  const causeOfReason = memo(reasonCause);

  /**
   * The address right after the marker at 20, then ":port: reason" to the end of the line;
   * the same grammar as LINE. undefined: not this shape after all, let LINE decide.
   */
  function fast(line: string): MatchResult | undefined {
    const from = 20 + GO_MARKER.length;
    let hostEnd: number;
    if (line.charCodeAt(from) === 91) {
      const close = line.indexOf(']', from);
      if (close < 0 || close - from > 65 || close === from + 1) return undefined;
      for (let i = from + 1; i < close; i++) if (line.charCodeAt(i) <= 32) return undefined;
      hostEnd = close + 1;
    } else {
      hostEnd = line.indexOf(':', from);
      if (hostEnd <= from || hostEnd - from > 64) return undefined;
      for (let i = from; i < hostEnd; i++) {
        const c = line.charCodeAt(i);
        if (c <= 32 || c === 91 || c === 93) return undefined;
      }
    }
    if (line.charCodeAt(hostEnd) !== 58) return undefined;
    let i = hostEnd + 1;
    const portStart = i;
    while (i - portStart < 5 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
    if (i === portStart || line.charCodeAt(i) !== 58 || line.charCodeAt(i + 1) !== 32) return undefined;
    if (line.length - (i + 2) > 1000) return undefined;
    const ip = line.charCodeAt(from) === 91 ? internIp(line, from + 1, hostEnd - 1) : internIp(line, from, hostEnd);
    if (!ip) return UNPARSABLE;
    const reason = line.slice(i + 2).trim() || 'unknown';
    return { time: parseTime(line), ip, reason, cause: causeOfReason(reason) };
  }

  return {
    name: 'go',
    match(line: string, next?: string): MatchResult {
      // The common shape, "YYYY/MM/DD HH:MM:SS http: TLS handshake error from …", parsed by hand.
      if (startsWithSlashedStamp(line) && line.startsWith(GO_MARKER, 20)) {
        const r = fast(line);
        if (r !== undefined) {
          if (r !== null && next !== undefined && !startsLikeRecord(next) && !syslog(next)) return UNTRUSTED;
          return r;
        }
      }
      const at = line.indexOf(GO_MARKER);
      if (at < 0) return null;
      let record = line;
      let prefixTime: number | null = null;
      let dated = startsWithSlashedStamp(line);
      if (!dated && at > 0) {
        const p = syslog(line);
        if (p) {
          record = line.slice(p.length);
          prefixTime = p.time;
          dated = true;
        }
      }
      const m = LINE.exec(record);
      if (!m) return null;
      // In a dated log every record starts with a date (Go's log package, or the program's own
      // logger: ISO 8601, JSON): a line that does not continues the one before.
      if (dated && next !== undefined && !startsLikeRecord(next) && !syslog(next)) return UNTRUSTED;
      const host = m[2]!;
      const ip = ipOf(host.charCodeAt(0) === 91 ? host.slice(1, -1) : host);
      if (!ip) return UNPARSABLE;
      const reason = m[4]!.trim() || 'unknown';
      return { time: m[1] ? parseTime(m[1]) : prefixTime, ip, reason, cause: causeOfReason(reason) };
    },
  };
}

const ISO_DATE = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/;

function startsLikeRecord(line: string): boolean {
  return startsWithSlashedStamp(line) || ISO_DATE.test(line) || line.charCodeAt(0) === 123;
}

/** The message alone ("http: TLS handshake error from …"), as Caddy's JSON log carries it. */
export function parseGoMessage(msg: string, time: number | null): MatchResult {
  const m = MESSAGE.exec(msg);
  if (!m) return null;
  return fromAddress(m[1]!, m[3]!, time);
}

function fromAddress(host: string, rawReason: string, time: number | null): Failure | typeof UNPARSABLE {
  const ip: Ip | null = parseIp(host.startsWith('[') ? host.slice(1, -1) : host);
  if (!ip) return UNPARSABLE;
  const reason = rawReason.trim() || 'unknown';
  return { time, ip, reason, cause: reasonCause(reason) };
}

/** The cause, read only from what Go wrote itself (see serverWrittenPart). */
function reasonCause(reason: string): Cause {
  // "read tcp 198.51.100.1:443->198.51.100.2:4000: read: connection reset by peer": the
  // addresses make every such reason unique; the cause is in what follows them.
  const io = /^(?:read|write) (?:tcp|udp) \S{1,120}: /.exec(reason);
  return causeOf(serverWrittenPart(io ? reason.slice(io[0].length) : reason));
}
