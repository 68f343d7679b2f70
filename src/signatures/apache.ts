import { parseIp, type Ip } from '../net/address.js';
import { apacheTimeParser } from './bracket-time.js';
import { causeOf, causeOfAll } from './causes.js';
import { opensslReasons } from './openssl.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, type Failure, type MatchResult, type Signature } from './types.js';

/**
 * Apache httpd 2.4 mod_ssl with `LogLevel ssl:info`, default ErrorLogFormat:
 *   [Sun Nov 22 02:40:11.123456 2026] [ssl:info] [pid 1234:tid 5678] [client 198.51.100.2:50000] AH02008: SSL library error 1 in handshake (server localhost:443)
 *   [Sun Nov 22 02:40:11.123490 2026] [ssl:info] [pid 1234:tid 5678] SSL Library Error: error:0A00006C:SSL routines::bad key share
 *   [Sun Nov 22 02:40:12.000001 2026] [ssl:info] [pid 1234:tid 5679] (70014)End of file found: [client 2001:db8::2:46223] AH02006: SSL handshake stopped: connection was closed
 *
 * The OpenSSL reason comes on a separate line without the address, written
 * by the same thread right after; the two are joined by pid:tid. The client
 * field directly follows the pid field, before anything a client sends, and
 * Apache escapes control characters, so no request can forge a line.
 * IPv6 clients are written without brackets with the port glued on: the last
 * ":port" is the port.
 */
const LINE =
  /^(?:\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d{1,6})? \d{4})\] )?\[ssl:\w{1,10}\] \[pid (\d{1,10})(?::tid (\d{1,20}))?\] (?:[\w.-]{1,64}\.c\(\d{1,6}\): )?(?:(?:\(\d{1,6}\)[^:[\]\n]{0,100}: )?\[client ([0-9A-Fa-f:.]{2,45}):\d{1,5}\] (AH\d{5}): ([^\n]{1,600})|SSL Library Error: ([^\n]{1,600}))$/;

const HANDSHAKE_MESSAGE = /SSL handshake|in handshake|SSL library error/i;
const MAX_PENDING = 10_000;

interface Pending {
  readonly ip: Ip;
  readonly time: number | null;
  readonly message: string;
}

export function createApacheSignature(opts: SignatureOptions): Signature {
  const parseTime = apacheTimeParser();
  const syslog = syslogPrefixParser(opts.now);
  /** "SSL library error" records waiting for their reason, by pid:tid. */
  const pending = new Map<string, Pending>();

  const waitFor = (key: string, p: Pending): void => {
    // Bounded: a thread that never logs its reason must not grow memory forever.
    if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
    pending.set(key, p);
  };

  return {
    name: 'apache',
    stateful: true,
    match(line: string): MatchResult {
      if (line.indexOf('[ssl:') < 0) return null;
      let record = line;
      let prefixTime: number | null = null;
      if (line.charCodeAt(0) !== 91) {
        // Apache logging to syslog leaves its own date out.
        const p = syslog(line);
        if (!p) return null;
        record = line.slice(p.length);
        prefixTime = p.time;
      }
      const m = LINE.exec(record);
      if (!m) return null;
      const key = `${m[2]}:${m[3] ?? ''}`;
      if (m[7] !== undefined) {
        // "SSL Library Error: …" completes the record its thread logged just before.
        const p = pending.get(key);
        if (!p) return null;
        pending.delete(key);
        const reasons = opensslReasons(m[7].replace(/ -- .*$/, '').replace(/ \([^)]*\)$/, ''));
        return reasons.length
          ? { time: p.time, ip: p.ip, reason: reasons.join('; '), cause: causeOfAll(reasons) }
          : { time: p.time, ip: p.ip, reason: p.message, cause: 'other' };
      }
      const message = m[6]!;
      if (!HANDSHAKE_MESSAGE.test(message)) return null;
      const ip = parseIp(m[4]!);
      if (!ip) return UNPARSABLE;
      const time = m[1] ? parseTime(m[1]) : prefixTime;
      if (/^SSL library error/i.test(message)) {
        // A record still waiting in this thread never got its reason: report it as it is.
        const earlier = pending.get(key);
        waitFor(key, { ip, time, message: message.replace(/ \(server [^)]*\)$/, '') });
        return earlier ? asOther(earlier) : null;
      }
      pending.delete(key);
      const reason = message.replace(/ \[Hint: [^\]]*\]$/, '');
      return { time, ip, reason, cause: causeOf(reason) };
    },
  };
}

function asOther(p: Pending): Failure {
  return { time: p.time, ip: p.ip, reason: p.message, cause: 'other' };
}
