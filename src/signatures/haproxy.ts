import { parseIp } from '../net/address.js';
import { causeOf, causeOfAll } from './causes.js';
import { clfTimeParser } from './bracket-time.js';
import { opensslReasons } from './openssl.js';
import type { SignatureOptions } from './options.js';
import { syslogPrefixParser } from './syslog-prefix.js';
import { UNPARSABLE, type MatchResult, type Signature } from './types.js';

/**
 * HAProxy's connection-error log lines, raw or behind a syslog prefix:
 *   198.51.100.2:50000 [22/Nov/2026:02:40:11.123] fe_https/1: SSL handshake failure
 *   2001:db8::2:46223 [22/Nov/2026:02:40:11.123] fe_https/1: Connection closed during SSL handshake
 *   198.51.100.2:50000 [22/Nov/2026:02:40:11.123] fe_https/1: SSL handshake failure (error:0A000102:SSL routines::unsupported protocol)   (2.8+)
 *
 * HAProxy writes IPv6 clients without brackets and glues the port on, so the
 * last ":port" is the port even when what remains would parse as an address
 * too. The line is anchored at both ends and the client field comes first,
 * before anything a client could influence; HAProxy also escapes control
 * characters in its logs, so no client can forge a line.
 */
const LINE =
  /^([0-9A-Fa-f:.]{2,45}):(\d{1,5}) \[(\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d)(?:\.\d{1,6})?\] [^\s/]{1,128}\/[^\s]{1,128}?: (SSL handshake failure|Connection closed during SSL handshake|Timeout during SSL handshake|Connection error during SSL handshake|SSL with unknown error)(?: \(([^\n]{1,600})\))?$/;

export function createHaproxySignature(opts: SignatureOptions): Signature {
  const parseTime = clfTimeParser();
  const syslog = syslogPrefixParser(opts.now);
  return {
    name: 'haproxy',
    match(line: string): MatchResult {
      if (line.indexOf(' SSL ') < 0 && line.indexOf('SSL handshake') < 0) return null;
      let record = line;
      let prefixTime: number | null = null;
      // HAProxy writes addresses in lower case, so a line starting with a month name has a prefix.
      const p = syslog(line);
      if (p) {
        record = line.slice(p.length);
        prefixTime = p.time;
      }
      const m = LINE.exec(record);
      if (!m) return null;
      const ip = parseIp(m[1]!);
      if (!ip) return UNPARSABLE;
      const detail = m[5] ? opensslReasons(m[5]) : [];
      const reason = detail.length ? `${m[4]}: ${detail.join('; ')}` : m[4]!;
      const cause = detail.length ? causeOfAll(detail) : causeOf(m[4]!);
      return { time: parseTime(m[3]!) ?? prefixTime, ip, reason, cause };
    },
  };
}
