import { parseIp, type Ip } from '../net/address.js';
import { causeOf, causeOfAll } from './causes.js';
import { opensslReasons } from './openssl.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, type Failure, type MatchResult, type Signature } from './types.js';

/**
 * Postfix smtpd (and tlsproxy) through syslog or journald:
 *   Nov 22 02:40:11 mail postfix/smtpd[1234]: connect from unknown[198.51.100.2]
 *   Nov 22 02:40:11 mail postfix/smtpd[1234]: SSL_accept error from unknown[198.51.100.2]: -1
 *   Nov 22 02:40:11 mail postfix/smtpd[1234]: warning: TLS library problem: error:0A000076:SSL routines::no suitable signature algorithm:ssl/statem/statem_srvr.c:2234:
 *   Nov 22 02:40:12 mail postfix/smtpd[1234]: SSL_accept error from unknown[2001:db8::2]: lost connection
 *   Nov 22 02:40:13 mail postfix/smtpd[1235]: lost connection after STARTTLS from unknown[198.51.100.3]   (no handshake at all)
 *
 * "TLS library problem" lines carry no address: they are joined to the
 * client of the same smtpd process (one smtpd serves one client at a time),
 * known from its `connect from` or `SSL_accept error from` line. The pid comes
 * from the syslog prefix, which the log daemon writes. The client name in
 * `name[addr]` is one Postfix has verified or "unknown", and Postfix replaces
 * non-printable characters, so no client can forge a line.
 */
const MESSAGE =
  /^(?:(dis)?connect from|SSL_accept error from) ([^\s[\]]{0,255})\[([0-9A-Fa-f:.]{2,45})\](?::\d{1,5})?(?::? ?([^\n]{0,400}))?$/i;
const LIBRARY_PROBLEM = 'warning: TLS library problem: ';
const LOST_AFTER_STARTTLS = /^lost connection after STARTTLS from [^\s[\]]{0,255}\[([0-9A-Fa-f:.]{2,45})\](?::\d{1,5})?$/;
const MAX_CLIENTS = 10_000;

interface Client {
  ip: Ip | null;
  time: number | null;
  /** An SSL_accept error was logged since the connect: a later "lost connection after STARTTLS" is the same failure. */
  failed: boolean;
  /** An `SSL_accept error … : -1` whose reason is on the TLS library lines that follow. */
  waiting: boolean;
  /** Reasons logged before the `SSL_accept error` line. */
  reasons: string[] | null;
}

export function createPostfixSignature(opts: SignatureOptions): Signature {
  const syslog = syslogPrefixParser(opts.now);
  const clients = new Map<number, Client>();

  const clientOf = (pid: number): Client => {
    let c = clients.get(pid);
    if (!c) {
      if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
      c = { ip: null, time: null, failed: false, waiting: false, reasons: null };
      clients.set(pid, c);
    }
    return c;
  };

  return {
    name: 'postfix',
    stateful: true,
    match(line: string): MatchResult {
      if (line.indexOf('postfix') < 0) return null;
      const p = syslog(line);
      if (!p || p.pid === null || !p.tag.startsWith('postfix') || !/\/(?:smtpd|tlsproxy)$/.test(p.tag)) return null;
      const text = line.slice(p.length);
      const c = clients.get(p.pid);

      if (text.startsWith(LIBRARY_PROBLEM)) {
        if (!c?.ip) return null;
        const reasons = opensslReasons(text.slice(LIBRARY_PROBLEM.length));
        if (!reasons.length) return null;
        if (c.waiting) {
          c.waiting = false;
          return { time: c.time, ip: c.ip, reason: reasons.join('; '), cause: causeOfAll(reasons) };
        }
        (c.reasons ??= []).push(...reasons);
        return null;
      }

      // Anything else from a process whose SSL_accept error got no reason: report it as it is.
      const unexplained = c?.waiting && c.ip ? failure(c.ip, c.time, 'SSL_accept error', []) : null;
      if (c) c.waiting = false;

      // A client that asked for STARTTLS and left without a handshake: logged only this way.
      const lost = LOST_AFTER_STARTTLS.exec(text);
      if (lost) {
        const ip = parseIp(lost[1]!);
        if (unexplained || c?.failed) return unexplained;
        if (c) c.failed = true;
        return ip ? failure(ip, p.time, 'lost connection after STARTTLS', []) : UNPARSABLE;
      }
      const m = MESSAGE.exec(text);
      if (!m) return unexplained;
      const ip = parseIp(m[3]!);
      if (text.startsWith('SSL_accept')) {
        if (!ip) return unexplained ?? UNPARSABLE;
        const detail = (m[4] ?? '').trim();
        const client = clientOf(p.pid);
        client.ip = ip;
        client.time = p.time;
        client.failed = true;
        if (/^-?\d+$/.test(detail)) {
          // OpenSSL's reason is on the "TLS library problem" lines, before or after this one.
          const before = client.reasons;
          client.reasons = null;
          if (before?.length) return unexplained ?? failure(ip, p.time, 'SSL_accept error', before);
          client.waiting = true;
          return unexplained;
        }
        client.reasons = null;
        return unexplained ?? failure(ip, p.time, detail || 'SSL_accept error', []);
      }
      if (m[1]) clients.delete(p.pid);
      else if (ip) Object.assign(clientOf(p.pid), { ip, time: p.time, failed: false, waiting: false, reasons: null });
      return unexplained;
    },
  };
}

function failure(ip: Ip, time: number | null, message: string, reasons: string[]): Failure {
  return reasons.length
    ? { time, ip, reason: reasons.join('; '), cause: causeOfAll(reasons) }
    : { time, ip, reason: message, cause: causeOf(message) };
}
