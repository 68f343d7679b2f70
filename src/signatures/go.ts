import { parseIp, type Ip } from '../net/address.js';
import { causeOf, type Cause } from './causes.js';
import { goBytesMatcher } from './go-bytes.js';
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
 *   time="2026-11-22T02:40:11Z" level=debug msg="http: TLS handshake error from 198.51.100.2:4000: EOF"   (Traefik 2, logrus)
 *   2026-11-22T02:40:11Z DBG log/log.go:245 > http: TLS handshake error from 198.51.100.2:4000: EOF      (Traefik 3, zerolog)
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
  // Two memos: "read tcp A->B: …" reasons are unique per line, and in one memo they pushed
  // out the few that repeat (EOF …) and were compared, each, against all of them.
  const causeOfRest = memo(writtenCause);
  const causeOfOther = memo(writtenCause);
  const causeOfReason = (reason: string): Cause => {
    const io = ioPrefix(reason);
    return io > 0 ? causeOfRest(reason.slice(io)) : causeOfOther(reason);
  };

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
    matchBytes: goBytesMatcher(GO_MARKER, causeOfReason, causeOfRest),
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
      const c0 = line.charCodeAt(0);
      if (c0 === 123 || c0 === 116 || (c0 >= 48 && c0 <= 57 && ISO_DATE.test(line))) {
        const r = structured(line);
        if (r !== undefined) {
          if (r !== null && next !== undefined && !startsLikeRecord(next) && !syslog(next)) return UNTRUSTED;
          return r;
        }
      }
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
  return startsWithSlashedStamp(line) || ISO_DATE.test(line) || line.charCodeAt(0) === 123 || line.startsWith('time="');
}

/**
 * Programs that log Go's message through their own logger (Traefik and the
 * like): logrus `time="…" level=debug msg="http: TLS handshake error from …"`,
 * zerolog/zap console `2026-11-22T02:40:11Z DBG log.go:245 > http: TLS handshake error from …`,
 * or a JSON object whose `msg`/`message` is the message. The message must be
 * the logger's message field, at its start; undefined: none of these shapes.
 */
const LOGRUS = /^time="([^"]{1,40})" level=[a-z]{1,8} msg="(http: TLS handshake error from [^"\\]{1,80}(?:\\.|[^"\\]){0,1000})"$/;
const CONSOLE = /^(\d{4}-\d\d-\d\d[T ][\d:.]{5,18}(?:Z|[+-]\d\d:?\d\d)?)[ \t]+(?:[A-Z]{3,7}|[a-z]{4,7})[ \t]+(?:[\w./-]{1,80}:\d{1,6}[ \t]+)?(?:>[ \t]+)?(http: TLS handshake error from [^\n]{1,1100})$/;

function structured(line: string): MatchResult | undefined {
  if (line.charCodeAt(0) === 123) {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      return undefined;
    }
    if (typeof doc !== 'object' || doc === null) return undefined;
    const o = doc as Record<string, unknown>;
    const msg = typeof o.msg === 'string' ? o.msg : typeof o.message === 'string' ? o.message : null;
    if (msg === null || !msg.startsWith(GO_MARKER)) return undefined;
    return parseGoMessage(msg, isoOrSeconds(o.time ?? o.ts));
  }
  const logrus = LOGRUS.exec(line);
  if (logrus) return parseGoMessage(logrus[2]!.replace(/\\(.)/g, '$1'), isoOrSeconds(logrus[1]));
  const plain = CONSOLE.exec(line);
  if (plain) return parseGoMessage(plain[2]!, isoOrSeconds(plain[1]));
  return undefined;
}

function isoOrSeconds(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v !== 'string') return null;
  const t = Date.parse(v.replace(' ', 'T').replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(t) ? null : t;
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
  return writtenCause(reason.slice(ioPrefix(reason)));
}

function writtenCause(reason: string): Cause {
  return causeOf(serverWrittenPart(reason));
}

const IO_PREFIX = /^(?:read|write) (?:tcp|udp) \S{1,120}: /;

/**
 * "read tcp 198.51.100.1:443->198.51.100.2:4000: read: connection reset by peer": the
 * addresses make every such reason unique; the cause is in what follows them. Returns
 * where that starts (0: no such prefix).
 */
function ioPrefix(reason: string): number {
  const c = reason.charCodeAt(0);
  if (c !== 114 && c !== 119) return 0; // neither "read" nor "write"
  const io = IO_PREFIX.exec(reason);
  return io ? io[0].length : 0;
}
