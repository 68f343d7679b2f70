import { parseIp } from '../net/address.js';
import { slashedLocalTimeParser } from './log-time.js';
import { UNPARSABLE, type MatchResult, type Signature } from './types.js';

/**
 * Go net/http's server error log, as Hysteria, Caddy (stdlib log), Traefik and
 * others print it:
 *   2026/11/01 00:00:00 http: TLS handshake error from 172.68.47.133:9825: EOF
 *   2026/11/01 00:00:00.123456 server.go:3215: http: TLS handshake error from [2001:db8::2]:50000: EOF
 *
 * Anchored at the start, so the address is the one right after Go's own
 * "http: TLS handshake error from", never text later in the reason.
 */
const LINE =
  /^(?:(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d)(?:\.\d{1,9})? )?(?:[\w.-]{1,64}\.go:\d{1,6}: )?http: TLS handshake error from (\[[0-9a-fA-F:.]{2,45}\]|[0-9.]{7,15}|[^\s:]{1,64}):(\d{1,5}): (.{0,400})$/;

const MARKER = 'http: TLS handshake error from ';

export function createGoSignature(): Signature {
  const parseTime = slashedLocalTimeParser();
  return {
    name: 'go',
    match(line: string): MatchResult {
      if (!line.includes(MARKER)) return null;
      const m = LINE.exec(line);
      if (!m) return null;
      const host = m[2]!;
      const ip = parseIp(host.startsWith('[') ? host.slice(1, -1) : host);
      if (!ip) return UNPARSABLE;
      return { time: m[1] ? parseTime(m[1]) : null, ip, reason: m[4]!.trim() || 'unknown' };
    },
  };
}
