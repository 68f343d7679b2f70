import { causeOf, causeOfAll, type Cause } from './causes.js';
import { slashedLocalTimeParser } from './log-time.js';
import { addressInterner, memoAt, memoParseIp } from './memo.js';
import { nginxBytesMatcher } from './nginx-bytes.js';
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
const REQUEST =
  /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(?:crit|error|info|notice|warn|alert|emerg|debug)\] (\d{1,10})#\d{1,10}: (?:\*\d{1,20} )?client sent (plain HTTP request to HTTPS port|invalid request) while [a-z ]{1,64}, client: ([^\s,]{1,64}), server: [^\s,]{0,255}(, request: "PROXY )?/;

const CLIENT = ', client: ';
const WHILE_HANDSHAKING = ' while SSL handshaking';
const REQUEST_MARKER = 'client sent ';
const ERRNO = / \((\d{1,5}): ([^)]{1,100})\)$/;

/**
 * After the 19-character stamp: " [level] pid#tid: " and an optional "*connection "
 * (a "*" must start one). Sticky and tested, never exec'd: it runs in V8's
 * compiled regex code and allocates nothing, which is cheaper than reading the
 * same characters one by one with charCodeAt.
 */
const HEAD = / \[(?:info|crit|error|notice|warn|alert|emerg|debug)\] \d{1,10}#\d{1,10}: (?:\*\d{1,20} |(?!\*))/y;

/** Where the message starts, after HEAD, or -1. */
function head(r: string): number {
  HEAD.lastIndex = 19;
  return HEAD.test(r) ? HEAD.lastIndex : -1;
}

/** The pid of a record head() accepted: read again only when a pid check asks for it. */
function pidOf(r: string): number {
  let pid = 0;
  for (let i = r.indexOf('] ', 21) + 2, n = 0; n < 10 && isDigit(r.charCodeAt(i)); i++, n++) pid = pid * 10 + r.charCodeAt(i) - 48;
  return pid;
}

/**
 * From just after ", client: " to the end of the line: the address (no space,
 * control character or comma), then ", server: " and the listen address
 * ([v6]:port, host:port, unix:path) as the last thing on the line.
 */
const TAIL = /[^\x00-\x20,]{1,64}, server: (?:unix:[^\x00-\x20,]*|\[[\dA-Fa-f:.]{2,45}\](?::\d{1,5})?|[\w.:-]+)$/y;

/** Where the address that starts at `from` ends (the comma of ", server: "), or -1. */
function tail(r: string, from: number): number {
  TAIL.lastIndex = from;
  if (!TAIL.test(r)) return -1;
  // The address holds no comma, so this is the ", server: " the pattern matched.
  const comma = r.indexOf(', server: ', from);
  return r.length - (comma + 10) > 300 ? -1 : comma;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}


export function createNginxSignature(opts: SignatureOptions): Signature {
  const parseTime = slashedLocalTimeParser();
  const syslog = syslogPrefixParser(opts.now);
  const parseIp = memoParseIp();
  const internIp = addressInterner();
  const reasonOf = memoAt(reasonOfMessage);

  function trusted(record: string, next: string | undefined): boolean {
    // Behind syslog/journald the next line may be any program's, as long as it is a record of the log daemon.
    if (next !== undefined && !startsWithSlashedStamp(next) && !syslog(next)) return false;
    return !opts.isNginxWorker || opts.isNginxWorker(pidOf(record));
  }

  /** A handshake record, parsed by hand: this runs for most lines of a busy log. */
  function handshake(record: string, first: number, client: number, next: string | undefined): MatchResult {
    const msg = head(record);
    if (msg < 0) return null;
    const msgEnd = client - WHILE_HANDSHAKING.length;
    if (msgEnd <= msg || msgEnd - msg > 600) return null;
    const from = client + CLIENT.length;
    const to = tail(record, from);
    if (to < 0) return null;
    // One record has one client field; a second one, whole within the message, is text that was put there.
    // (`first` is the first on the line; the head before the message holds no comma, so it is also the first after `msg`.)
    const firstInMessage = first >= msg ? first : record.indexOf(CLIENT, msg);
    if (firstInMessage + CLIENT.length <= msgEnd) return UNTRUSTED;
    if (!trusted(record, next)) return UNTRUSTED;
    const ip = internIp(record, from, to);
    if (!ip) return UNPARSABLE;
    const { reason, cause } = reasonOf(record, msg, msgEnd);
    return { time: parseTime(record), ip, reason, cause };
  }

  /** Plain HTTP on the TLS port, or a PROXY header: the line ends in client text, so anchored at the start. */
  function request(record: string, next: string | undefined): MatchResult {
    const m = REQUEST.exec(record);
    if (!m) return null;
    const plainHttp = m[3] === 'plain HTTP request to HTTPS port';
    // "client sent invalid request" counts only when the request is a PROXY-protocol header.
    if (!plainHttp && m[5] === undefined) return null;
    if (!trusted(record, next)) return UNTRUSTED;
    const ip = parseIp(m[4]!);
    if (!ip) return UNPARSABLE;
    return {
      time: parseTime(record),
      ip,
      reason: plainHttp ? 'plain HTTP request to HTTPS port' : 'PROXY protocol header not expected',
      cause: 'protocol-mismatch',
    };
  }

  return {
    name: 'nginx',
    // The pid check needs the text path; without it, the common lines are read in place.
    ...(opts.isNginxWorker ? {} : { matchBytes: nginxBytesMatcher(reasonOfMessage) }),
    match(line: string, next?: string): MatchResult {
      let record = line;
      if (!startsWithSlashedStamp(line)) {
        const p = syslog(line);
        if (!p || !startsWithSlashedStamp(line.slice(p.length))) return null;
        record = line.slice(p.length);
      }
      // Records about a request end in a quoted field (request: "…", host: "…"); of those,
      // only the two that start with "client sent " matter. Checked first, as most noise is of that kind.
      if (record.charCodeAt(record.length - 1) === 34) {
        const msg = head(record);
        return msg >= 0 && record.startsWith(REQUEST_MARKER, msg) ? request(record, next) : null;
      }
      // A handshake record ends with its client and server fields: the last ", client: " is the field.
      // Found forwards, as lastIndexOf searches a string much more slowly than indexOf.
      const first = record.indexOf(CLIENT);
      if (first < 0) return null;
      let client = first;
      for (let at = record.indexOf(CLIENT, first + 1); at >= 0; at = record.indexOf(CLIENT, at + 1)) client = at;
      // indexOf, not startsWith: V8 compares a long needle much faster in indexOf.
      const msgEnd = client - WHILE_HANDSHAKING.length;
      if (msgEnd < 0 || record.indexOf(WHILE_HANDSHAKING, msgEnd) !== msgEnd) return null;
      return handshake(record, first, client, next);
    },
  };
}

/**
 * "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)" → "bad key share";
 * "peer closed connection in SSL handshake (104: Connection reset by peer)" → the message without the errno.
 */
function reasonOfMessage(message: string): { reason: string; cause: Cause } {
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
