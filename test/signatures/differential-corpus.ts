import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * A deterministic corpus of nginx and Go log lines, each with the physical
 * line after it, for the differential test of those signatures: the real
 * fixtures and the log-injection file in file order, then lines made from
 * them and from hand-written templates by seeded random edits. Nothing here
 * depends on the clock, the machine or Math.random, so every run builds the
 * same pairs in the same order. Self-contained (no imports from src), so it
 * can also be compiled on its own to compare two builds outside vitest.
 */

export interface Pair {
  readonly line: string;
  readonly next: string | undefined;
}

function xorshift(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

// Every form a client field has been seen in, or that an attacker could write.
const ADDRESSES = [
  '198.51.100.2', '203.0.113.9', '2001:db8::1', '1.2.3.4', '2001:db8:1f:a3::7', '255.255.255.255', '::ffff:198.51.100.2', '0.0.0.0', '10.0.0.1', '127.0.0.1',
  '203.0.113.09', '203.0.113.256', '203.0.113', '1.2.3.4.5', '01.2.3.4', '1.2.3.', '.1.2.3', '1..2.3', '9999.1.1.1',
  '2001:db8::1', '2001:DB8::1', '2001:db8:0:0:0:0:0:1', '2001:0db8:0000:0000:0000:0000:0000:0001', '::1', '::', 'fe80::1%eth0',
  '::ffff:198.51.100.2', '::ffff:c633:6402', '2001:db8::198.51.100.2', '2001:db8::g', '2001:db8:::1', ':::', '1:2:3:4:5:6:7:8:9',
  '2001:db8:1f:a3::7', '[2001:db8::1]', 'unknown', '', 'unix:', 'localhost', '１.2.3.4', '203.0.113.ı', '198.51.100.2 ', ' 198.51.100.2',
  'a'.repeat(64), '1'.repeat(65), '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];
const SERVERS = ['0.0.0.0:443', '[::]:443', 'example.org', '_', '', 'unix:/run/nginx.sock', '[2001:db8::1]:8443', '198.51.100.1:8443', '[::1]', 'a b', 'x,y', '[::]:4433333', 'host_name-1.example:443'];
const LEVELS = ['info', 'crit', 'error', 'notice', 'warn', 'alert', 'emerg', 'debug', 'INFO', 'fatal', '', 'info '];
const NGINX_MESSAGES = [
  'SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)',
  'SSL_do_handshake() failed (SSL: error:141CF06C:SSL routines:tls_parse_ctos_key_share:bad key share)',
  'SSL_do_handshake() failed (SSL: error:0A000102:SSL routines::unsupported protocol)',
  'SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)',
  'SSL_do_handshake() failed (SSL: error:0A0000C1:SSL routines::no shared cipher)',
  'SSL_do_handshake() failed (SSL: error:0A000076:SSL routines::no suitable signature algorithm)',
  'SSL_do_handshake() failed (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42)',
  'SSL_do_handshake() failed (SSL: error:0A00009C:SSL routines::http request error:0A0000C7:SSL routines::peer did not return a certificate)',
  'SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share',
  'SSL_do_handshake() failed (104: Connection reset by peer)',
  'SSL_do_handshake() failed (SSL: )',
  'SSL_do_handshake() failed',
  'peer closed connection in SSL handshake (104: Connection reset by peer)',
  'peer closed connection in SSL handshake',
  'peer closed connection in SSL handshake (32: Broken pipe)',
  'client closed connection',
  'client timed out (110: Connection timed out)',
  'SSL_read() failed (SSL: error:0A000126:SSL routines::unexpected eof while reading)',
  'something else entirely (7: x)',
  'client sent plain HTTP request to HTTPS port',
];
const NGINX_NOISE = [
  (ip: string) => `[error] 1372#1372: *5 open() "/var/www/html/wp-login.php" failed (2: No such file or directory), client: ${ip}, server: example.org, request: "GET /wp-login.php HTTP/1.1", host: "example.org"`,
  (ip: string) => `[error] 1372#1372: *5 upstream timed out (110: Connection timed out) while reading response header from upstream, client: ${ip}, server: example.org, request: "GET /api HTTP/1.1", upstream: "http://127.0.0.1:8080/api", host: "example.org"`,
  (ip: string) => `[error] 1372#1372: *5 SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed) while SSL handshaking to upstream, client: ${ip}, server: example.org, request: "GET / HTTP/1.1", upstream: "https://192.0.2.80:443/", host: "example.org"`,
  (ip: string) => `[error] 1372#1372: *5 limiting requests, excess: 10.560 by zone "one", client: ${ip}, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"`,
  (ip: string) => `[info] 1372#1372: *5 client sent plain HTTP request to HTTPS port while reading client request headers, client: ${ip}, server: _, request: "GET / HTTP/1.1", host: "x"`,
  (ip: string) => `[info] 1372#1372: *5 client sent invalid request while reading client request line, client: ${ip}, server: , request: "PROXY TCP4 203.0.113.9 198.51.100.1 5000 443"`,
  (ip: string) => `[info] 1372#1372: *5 client sent invalid request while reading client request line, client: ${ip}, server: , request: "GET / HTTP/1.1"`,
  (ip: string) => `[info] 1372#1372: client sent plain HTTP request to HTTPS port while reading client request headers, client: ${ip}, server: a.b:443, request: "PROXY x"`,
  () => '[notice] 1371#1371: signal process started',
];
const GO_REASONS = [
  'EOF', 'tls: first record does not look like a TLS handshake', 'tls: client requested unsupported application protocols ([http/0.9])',
  'tls: client offered only unsupported versions: [302 301]', 'read tcp 198.51.100.1:443->198.51.100.2:4000: read: connection reset by peer',
  'tls: no cipher suite supported by both client and server', 'tls: invalid client key share', "no certificate available for 'evil.example'",
  'remote error: tls: bad certificate', 'local error: tls: bad record MAC', 'write tcp [::1]:443->[::1]:5000: write: broken pipe', '', '   ',
  "tls: unknown sni 'x (EOF)'", 'tls: client used the legacy version field to negotiate TLS 1.3', 'read udp x: i/o timeout',
];
const GO_PREFIXES = ['', 'server.go:3215: ', '[hysteria] ', 'caddy: ', 'a.go:1: [b] c: ', 'a b: ', '[x y] ', 'x.go:1234567: '];
const SYSLOG_PREFIXES = [
  'Nov 22 01:02:03 host nginx[123]: ', 'Nov 22 01:02:03.123456 host nginx[7]: ', '2026-11-22T01:02:03.123456+00:00 host nginx[77]: ',
  '2026-11-22T01:02:03+0000 host hysteria[9]: ', '<30>Nov  2 01:02:03 host nginx: ', 'Dec 31 23:59:59 host caddy[1]: ', 'Feb 30 01:02:03 host nginx[1]: ',
  '2026-11-22T01:02:03Z nginx: ', 'Nov 22 01:02:03 host  nginx[1]: ', 'nov 22 01:02:03 host nginx[1]: ', '2026-13-22T01:02:03Z host x: ',
];
const STAMPS = [
  '2026/11/22 02:40:11', '2026/11/22 02:40:12', '2026/11/22 03:00:00', '2026/11/23 00:00:00', '2026/12/31 23:59:59', '2027/01/01 00:00:00',
  '2024/02/29 12:00:00', '2026/02/29 12:00:00', '2026/02/31 12:00:00', '2026/13/01 00:00:00', '2026/00/10 00:00:00', '2026/11/22 24:00:00',
  '2026/11/22 23:60:00', '2026/11/22 23:59:60', '2026/11/22 23:59:61', '2026/11/32 00:00:00', 'x026/11/22 02:40:11', '2026/11/22 0a:40:11',
  '1970/01/01 00:00:00', '9999/12/31 23:59:59',
];
const PIECES = [
  ', client: 203.0.113.9', ', server: 0.0.0.0:443', ', client: ', ', server: ', ' while SSL handshaking', ' while SSL handshaking to upstream',
  'http: TLS handshake error from ', '\n', '\r\n', '\r', '\t', ' ', '"', "'", '(', ')', '[', ']', ',', ':', '.', '*', '#', '%0a', '\u0000',
  'é', '\u00a0', '\u2028', '\ufffd', '\ud83d\ude00', '\ud800', '１', 'ı', '\u00ff', 'client sent ', 'request: "PROXY ', ' (SSL: ', ' (104: x)',
  '2026/11/22 02:40:12 ', '[info] ', '7#7: ', '*10 ', 'unix:', ':443', '::', '203.0.113.9', '[2001:db8::9]',
];
const NEXT_FORMS = [
  '', '    indented continuation', '" failed (2: No such file or directory), client: 198.51.100.7, server: localhost',
  '2026/11/22 02:40:13 [notice] 7#7: signal process started', 'Nov 22 01:02:04 host nginx[1]: 2026/11/22 01:02:04 [info] 1#1: x',
  'Nov 22 01:02:04 host kernel: something', '2026-11-22T01:02:04Z INF hello', '{"level":"info"}', 'time="2026-11-22T01:02:04Z" level=info msg="x"',
  '2026-11-22 01:02:04 DBG x', 'x2026/11/22 02:40:13', '2026/11/22 02:40:1', "'", 'Nov 22 01:02:04 host', '<13>Nov 22 01:02:04 h t: x',
];

type Rand = (n: number) => number;
type Pick = <T>(a: readonly T[], usual?: number) => T;

function nginxTemplate(r: Rand, pick: Pick): string {
  const stamp = pick(STAMPS, 8);
  const ip = pick(ADDRESSES, 7);
  const kind = r(10);
  const pid = pick(['1372', '7', '0', '4294967295', '12345678901', ''], 2);
  const conn = pick(['*5 ', '*2000001 ', '', '*', '*123456789012345678901 '], 3);
  if (kind < 6) {
    const msg = pick(NGINX_MESSAGES);
    return `${stamp} [${pick(LEVELS, 8)}] ${pid}#${pid}: ${conn}${msg} while SSL handshaking, client: ${ip}, server: ${pick(SERVERS, 4)}`;
  }
  if (kind < 9) return `${stamp} ${pick(NGINX_NOISE)(ip)}`;
  return `${stamp} [info] ${pid}#1: ${conn}client closed connection while SSL handshaking, client: ${ip}, server: ${pick(SERVERS)}`;
}

function goTemplate(r: Rand, pick: Pick): string {
  const ip = pick(ADDRESSES, 7);
  const host = r(3) === 0 || !ip.includes(':') ? ip : `[${ip}]`;
  const port = pick(['4000', '1', '65535', '99999', '', '123456', '0'], 3);
  const msg = `http: TLS handshake error from ${host}:${port}: ${pick(GO_REASONS)}`;
  const kind = r(12);
  if (kind < 7) {
    const frac = pick(['', '', '.123456', '.1', '.1234567890']);
    return `${pick(STAMPS, 8)}${frac} ${pick(GO_PREFIXES, 3)}${msg}`;
  }
  if (kind === 7) return `${pick(GO_PREFIXES)}${msg}`;
  if (kind === 8) return `time="2026-11-22T02:40:11Z" level=debug msg="${msg.replace(/"/g, '\\"')}"`;
  if (kind === 9) return `2026-11-22T02:40:11${pick(['Z', '.123+01:00', '+0100', ''])} ${pick(['DBG', 'debug', 'X'])} log/log.go:245 > ${msg}`;
  if (kind === 10) return JSON.stringify({ level: 'debug', ts: pick([1795315910.5, 'x', '2026-11-22T02:40:11Z', 1e300]), msg });
  return `${pick(STAMPS)} ${pick(['INFO client connected\t{"addr": "198.51.100.2:50000"}', 'WARN TCP error\t{"error": "EOF"}', 'http: TLS handshake error'])}`;
}

/** Fixture lines in file order with their real next line, then `mutated` made-up lines. */
export function differentialCorpus(fixtures: string, mutated: number, seed = 0x5eed1e55): Pair[] {
  const files = [
    ...readdirSync(join(fixtures, 'real'))
      .filter((f) => f.endsWith('.log'))
      .sort()
      .map((f) => join(fixtures, 'real', f)),
    join(fixtures, 'adversarial', 'injection.log'),
  ];
  const pairs: Pair[] = [];
  const seeds: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'latin1').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      pairs.push({ line: lines[i]!, next: lines[i + 1] });
      seeds.push(lines[i]!);
    }
  }
  const r = xorshift(seed);
  // Mostly one of the first `usual` entries (the forms real servers write), else any.
  const pick: Pick = (a, usual = a.length) => a[r(4) === 0 ? r(a.length) : r(usual)]!;
  const at = (s: string) => r(s.length + 1);

  const edit = (line: string): { line: string; split?: string } => {
    switch (r(16)) {
      case 0: // another address in the client field
        return { line: line.replace(/(client: |error from \[?)([^\s,\]]*?)(?=(?:\]?:\d*: )|, |$)/, (_m, a: string) => a + pick(ADDRESSES)) };
      case 1: {
        const p = at(line);
        return { line: line.slice(0, p) + pick(PIECES) + line.slice(p) };
      }
      case 2: {
        const p = at(line);
        return { line: line.slice(0, p) + line.slice(p + 1 + r(12)) };
      }
      case 3: {
        const p = at(line);
        const piece = pick(PIECES);
        return { line: line.slice(0, p) + piece + line.slice(p + piece.length) };
      }
      case 4: // truncated
        return { line: line.slice(0, at(line)) };
      case 5: {
        // a field written twice
        const f = /, (?:client|server): [^,]*/.exec(line.slice(r(line.length)));
        if (!f) return { line: line + line.slice(at(line)) };
        const p = line.indexOf(f[0]);
        return { line: line.slice(0, p) + f[0] + line.slice(p) };
      }
      case 6: {
        const field = r(2) === 0 ? `, client: ${pick(ADDRESSES)}` : `, server: ${pick(SERVERS)}`;
        const where = r(3);
        const p = where === 0 ? line.length : where === 1 ? Math.max(0, line.indexOf(' while ')) : at(line);
        return { line: line.slice(0, p) + field + line.slice(p) };
      }
      case 7: {
        // a raw newline: the rest becomes the next physical line
        const p = at(line);
        return { line: line.slice(0, p), split: line.slice(p) };
      }
      case 8: {
        const p = at(line);
        return { line: line.slice(0, p) + pick(['é', '\u00a0', '\u2028', '\ufffd', '\ud83d\ude00', '\ud800', '１', 'ı', '\u00ff', '\u0000']) + line.slice(p) };
      }
      case 9:
        return { line: pick(SYSLOG_PREFIXES) + line };
      case 10: // another stamp
        return { line: pick(STAMPS) + line.slice(19) };
      case 11: {
        const a = at(line);
        const b = Math.min(line.length, a + r(20));
        const part = line.slice(a, b);
        return { line: line.slice(0, a) + (r(2) ? part.toUpperCase() : part.toLowerCase()) + line.slice(b) };
      }
      case 12: // another level or pid
        return { line: line.replace(/\[[a-z]+\] \d+#\d+/, `[${pick(LEVELS)}] ${pick(['1', '99999999999', '', 'x', '7'])}#${pick(['1', '', '12345678901'])}`) };
      case 13: // another port
        return { line: line.replace(/(\]|\d):(\d{1,6}): /, (_m, a: string) => `${a}:${pick(['', '1', '99999', '123456', 'x', '4000'])}: `) };
      case 14: // the line twice, or its end repeated
        return { line: r(2) ? line + ' ' + line : line + line.slice(at(line)) };
      default: // a long line
        return { line: line + 'A'.repeat(r(2) ? 300 : 1100) };
    }
  };

  for (let n = 0; n < mutated; n++) {
    const source = r(5);
    let line = source < 2 ? nginxTemplate(r, pick) : source < 4 ? goTemplate(r, pick) : pick(seeds);
    let next: string | undefined;
    const edits = r(2) === 0 ? 0 : 1 + r(3);
    for (let k = 0; k < edits; k++) {
      const e = edit(line);
      line = e.line;
      if (e.split !== undefined) next = e.split;
    }
    if (next === undefined) {
      const kind = r(10);
      if (kind < 4) next = r(2) ? nginxTemplate(r, pick) : goTemplate(r, pick);
      else if (kind < 6) next = undefined;
      else if (kind < 9) next = pick(NEXT_FORMS);
      else next = pick(seeds);
    }
    pairs.push({ line, next });
  }
  return pairs;
}

/**
 * Everything a result says, as one string: which of the two frozen markers (by
 * identity, as callers compare them), or every field of a failure and of its
 * address, with the objects' own key lists so no field can come or go unseen.
 */
const IP_FIELDS = ['family', 'text', 'w0', 'w1', 'w2', 'w3'];

export function resultKey(r: unknown, unparsable: unknown, untrusted: unknown): string {
  if (r === null) return 'N';
  if (r === unparsable) return 'U';
  if (r === untrusted) return 'T';
  const f = r as { time: unknown; ip: Record<string, unknown>; reason: unknown; cause: unknown };
  const ip = f.ip;
  return [
    // The address's fields by name (its text may be a getter, which Object.keys would not list), in the order Object.keys gave them when they were all own fields.
    'F', Object.keys(f).join(','), String(f.time), IP_FIELDS.filter((k) => k in ip).join(','),
    String(ip.family), JSON.stringify(ip.text), String(ip.w0), String(ip.w1), String(ip.w2), String(ip.w3),
    JSON.stringify(f.reason), String(f.cause),
  ].join(' ');
}
