import { parseIp } from '../net/address.js';
import { causeOf, causeOfAll } from './causes.js';
import { opensslReasons } from './openssl.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, UNTRUSTED, type MatchResult, type Signature } from './types.js';

/**
 * Dovecot's login processes, through syslog/journald or Dovecot's own log file:
 *   Nov 22 02:40:11 mail dovecot: imap-login: Login aborted: Connection closed (tls_handshake_not_finished) (disconnected before auth was ready, waited 0 secs): user=<>, rip=198.51.100.2, lip=198.51.100.1, TLS handshaking: SSL_accept() failed: error:0A00006C:SSL routines::bad key share, session=<…>
 *   Nov 22 02:40:11 imap-login: Info: Disconnected (no auth attempts in 0 secs): user=<>, rip=2001:db8::2, lip=2001:db8::1, TLS handshaking: Disconnected, session=<…>
 *
 * `user=<…>` comes before `rip=` and holds what the client sent, so a line
 * with more than one `, rip=` is not trusted; the one address is taken only
 * where Dovecot puts it, directly followed by `, lip=`.
 */
const LINE =
  /^((?:imap|pop3|submission|managesieve|lmtp)-login): (?:Info: )?([^\n]*?), rip=([0-9A-Fa-f:.]{2,45}), lip=[0-9A-Fa-f:.]{2,45}(?:, [^\n]*?)?, TLS handshaking: ([^\n]{1,600}?)(?:, session=<[^>\n]{0,64}>)?$/;

const LOGIN = /(?:imap|pop3|submission|managesieve|lmtp)-login: /;

export function createDovecotSignature(opts: SignatureOptions): Signature {
  const syslog = syslogPrefixParser(opts.now);
  return {
    name: 'dovecot',
    match(line: string): MatchResult {
      if (line.indexOf('TLS handshaking: ') < 0 || line.indexOf('-login: ') < 0) return null;
      const p = syslog(line);
      if (!p) return null;
      // The login process name starts the message (syslog: after "dovecot: "); in Dovecot's own
      // log file ("Nov 22 02:40:11 imap-login: Info: …") the prefix parser takes it for a host name.
      const at = line.search(LOGIN);
      if (at < 0 || at > p.length + 9) return null;
      const text = line.slice(at);
      const m = LINE.exec(text);
      if (!m) return null;
      const first = text.indexOf(', rip=');
      if (text.indexOf(', rip=', first + 1) >= 0) return UNTRUSTED;
      const ip = parseIp(m[3]!);
      if (!ip) return UNPARSABLE;
      const detail = m[4]!;
      const reasons = opensslReasons(detail);
      if (reasons.length) return { time: p.time, ip, reason: reasons.join('; '), cause: causeOfAll(reasons) };
      return { time: p.time, ip, reason: detail, cause: causeOf(detail) };
    },
  };
}
