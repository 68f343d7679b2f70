import { parseIp } from '../net/address.js';
import { slashedLocalTimeParser } from './log-time.js';
import { UNPARSABLE, type MatchResult, type Signature } from './types.js';

/**
 * nginx error log, http and stream modules:
 *   2023/12/27 02:36:21 [crit] 13721#0: *2341389 SSL_do_handshake() failed (SSL: error:…:bad key share) while SSL handshaking, client: 184.105.247.194, server: 0.0.0.0:443
 *
 * The whole line is anchored and `client:` must be followed by exactly the
 * `server:` listen address and the end of the line: during a handshake nginx
 * has read no request, so nothing an attacker sends can stand in these fields.
 * "while SSL handshaking to upstream" (nginx's own upstream failures) has
 * "to upstream" before ", client:" and so never matches.
 */
const LINE =
  /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) \[(?:crit|error|info|notice|warn|alert|emerg)\] \d+#\d+: (?:\*\d+ )?(.{1,400}?) while SSL handshaking, client: ([^\s,]{1,64}), server: (?:\[[0-9a-fA-F:.]+\]|[\w.:-]+|unix:[^\s,]*)(?::\d+)?$/;

const MARKER = ' while SSL handshaking, client: ';
const OPENSSL_REASON = /\(SSL: (?:error:[0-9A-Fa-f]+:[^)]*?:)?([^:()]+)\)/;

export function createNginxSignature(): Signature {
  const parseTime = slashedLocalTimeParser();
  return {
    name: 'nginx',
    match(line: string): MatchResult {
      // Cheap rejection of the vast majority of lines before any regex runs.
      if (!line.includes(MARKER)) return null;
      const m = LINE.exec(line);
      if (!m) return null;
      const ip = parseIp(m[3]!);
      if (!ip) return UNPARSABLE;
      return { time: parseTime(m[1]!), ip, reason: reasonOf(m[2]!) };
    },
  };
}

/** "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)" → "bad key share". */
function reasonOf(message: string): string {
  const ssl = OPENSSL_REASON.exec(message);
  if (ssl) return ssl[1]!.trim();
  // "peer closed connection in SSL handshake (104: Connection reset by peer)" → without the errno.
  return message.replace(/ \(\d+: [^)]*\)$/, '').trim();
}
