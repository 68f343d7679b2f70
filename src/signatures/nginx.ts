import { parseIp } from '../net/address.js';
import { causeOf, causeOfAll, type Cause } from './causes.js';
import { slashedLocalTimeParser } from './log-time.js';
import { opensslReasons } from './openssl.js';
import { startsWithSlashedStamp, type SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult, type Signature } from './types.js';

/**
 * nginx error log, http and stream modules:
 *   2023/12/27 02:36:21 [crit] 13721#0: *2341389 SSL_do_handshake() failed (SSL: error:…:bad key share) while SSL handshaking, client: 184.105.247.194, server: 0.0.0.0:443
 *   2026/11/22 02:40:11 [info] 77#77: *3 client sent plain HTTP request to HTTPS port while reading client request headers, client: 198.51.100.2, server: _, request: "GET / HTTP/1.1", host: "x"
 *
 * Handshake records are anchored at both ends: `client:` must be followed by
 * exactly the `server:` listen address and the end of the line. During a
 * handshake nginx has read no request, so nothing a client sends can stand in
 * these fields. "while SSL handshaking to upstream" (nginx's own upstream
 * failures) has "to upstream" before ", client:" and so never matches.
 *
 * The two request-time records (plain HTTP on the TLS port, a PROXY header
 * nginx did not expect) end in client-chosen text, so there the client field
 * must directly follow nginx's fixed message at the start of the record.
 *
 * nginx writes URL-decoded paths into this log, so a request can put a raw
 * newline in the file and forge a whole physical line. A handshake record
 * followed by a line that does not start like a record (the rest of the
 * forged request) is not trusted; with `isNginxWorker`, neither is one whose
 * pid is not a running nginx.
 */
const HANDSHAKE =
  /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(?:crit|error|info|notice|warn|alert|emerg|debug)\] (\d{1,10})#\d{1,10}: (?:\*\d{1,20} )?([^\n]{1,600}?) while SSL handshaking, client: ([^\s,]{1,64}), server: (?:\[[0-9a-fA-F:.]{2,45}\]|[\w.:-]{1,255}|unix:[^\s,]{0,255})(?::\d{1,5})?$/;

const REQUEST =
  /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(?:crit|error|info|notice|warn|alert|emerg|debug)\] (\d{1,10})#\d{1,10}: (?:\*\d{1,20} )?client sent (plain HTTP request to HTTPS port|invalid request) while [a-z ]{1,64}, client: ([^\s,]{1,64}), server: [^\s,]{0,255}(, request: "PROXY )?/;

const HANDSHAKE_MARKER = ' while SSL handshaking, client: ';
const REQUEST_MARKER = ' client sent ';
const ERRNO = / \((\d{1,5}): ([^)]{1,100})\)$/;

export function createNginxSignature(opts: SignatureOptions): Signature {
  const parseTime = slashedLocalTimeParser();
  const syslog = syslogPrefixParser(opts.now);

  /** Where nginx's own record starts: 0, or after a syslog/journald prefix. */
  function recordStart(line: string): number {
    if (startsWithSlashedStamp(line)) return 0;
    const p = syslog(line);
    return p && startsWithSlashedStamp(line.slice(p.length)) ? p.length : -1;
  }

  function trusted(pid: string, next: string | undefined): boolean {
    // Behind syslog/journald the next line may be any program's, as long as it is a record of the log daemon.
    if (next !== undefined && !startsWithSlashedStamp(next) && !syslog(next)) return false;
    return !opts.isNginxWorker || opts.isNginxWorker(Number(pid));
  }

  return {
    name: 'nginx',
    match(line: string, next?: string): MatchResult {
      // Cheap rejection of the vast majority of lines before any regex runs.
      const handshake = line.indexOf(HANDSHAKE_MARKER);
      if (handshake < 0 && line.indexOf(REQUEST_MARKER) < 0) return null;
      const start = recordStart(line);
      if (start < 0) return null;
      const record = start ? line.slice(start) : line;
      if (handshake >= 0) {
        const m = HANDSHAKE.exec(record);
        if (!m) return null;
        // One record has one client field; a second marker is text that was put there.
        if (record.indexOf(HANDSHAKE_MARKER, handshake - start + 1) >= 0) return UNTRUSTED;
        if (!trusted(m[2]!, next)) return UNTRUSTED;
        const ip = parseIp(m[4]!);
        if (!ip) return UNPARSABLE;
        const { reason, cause } = reasonOf(m[3]!);
        return { time: parseTime(m[1]!), ip, reason, cause };
      }
      const m = REQUEST.exec(record);
      if (!m) return null;
      const plainHttp = m[3] === 'plain HTTP request to HTTPS port';
      // "client sent invalid request" counts only when the request is a PROXY-protocol header.
      if (!plainHttp && m[5] === undefined) return null;
      if (!trusted(m[2]!, next)) return UNTRUSTED;
      const ip = parseIp(m[4]!);
      if (!ip) return UNPARSABLE;
      return {
        time: parseTime(m[1]!),
        ip,
        reason: plainHttp ? 'plain HTTP request to HTTPS port' : 'PROXY protocol header not expected',
        cause: 'protocol-mismatch',
      };
    },
  };
}

/**
 * "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)" → "bad key share";
 * "peer closed connection in SSL handshake (104: Connection reset by peer)" → the message without the errno.
 */
function reasonOf(message: string): { reason: string; cause: Cause } {
  const ssl = message.indexOf('(SSL:');
  if (ssl >= 0) {
    const reasons = opensslReasons(message.slice(ssl + 5, message.endsWith(')') ? -1 : undefined));
    if (reasons.length) return { reason: reasons.join('; '), cause: causeOfAll(reasons) };
  }
  const errno = ERRNO.exec(message);
  if (errno && message.startsWith('SSL_do_handshake() failed')) {
    return { reason: errno[2]!, cause: causeOf(errno[2]!) };
  }
  const reason = errno ? message.slice(0, errno.index) : message;
  return { reason, cause: causeOf(reason) };
}
