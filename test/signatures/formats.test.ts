import { describe, expect, it } from 'vitest';
import { createSignature, type FormatName, type SignatureSpec } from '../../src/signatures/index.js';
import { UNPARSABLE, UNTRUSTED, isFailure, type MatchResult } from '../../src/signatures/types.js';

// Tests run with TZ=UTC (vitest.config.ts), the zone these zone-less stamps are read in.
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const T = (s: string) => Date.parse(`${s}Z`);

/** Feeds lines in order (each knowing the next) and returns one summary per line. */
function run(spec: FormatName | SignatureSpec, lines: string[]): (string | null)[] {
  const sig = createSignature(spec, { now: NOW });
  return lines.map((l, i) => show(sig.match(l, lines[i + 1])));
}
function one(spec: FormatName | SignatureSpec, line: string): MatchResult {
  return createSignature(spec, { now: NOW }).match(line);
}
function show(r: MatchResult): string | null {
  if (r === null) return null;
  if (r === UNPARSABLE) return 'unparsable';
  if (r === UNTRUSTED) return 'untrusted';
  if (!isFailure(r)) return 'rejected';
  return `${r.ip.text} ${r.cause} ${r.reason}`;
}
const summary = (spec: FormatName | SignatureSpec, line: string) => show(one(spec, line));

describe('nginx', () => {
  const n = (msg: string, client = '203.0.113.5', server = '0.0.0.0:443') =>
    `2026/11/22 02:36:21 [info] 1372#1372: *2341389 ${msg} while SSL handshaking, client: ${client}, server: ${server}`;

  it('reads OpenSSL 1.1 and 3 reasons, with their time', () => {
    const r = one('nginx', n('SSL_do_handshake() failed (SSL: error:141CF06C:SSL routines:tls_parse_ctos_key_share:bad key share)'));
    expect(r).toMatchObject({ time: T('2026-11-22T02:36:21'), reason: 'bad key share', cause: 'bad-key-share' });
    expect(summary('nginx', n('SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)'))).toBe('203.0.113.5 bad-key-share bad key share');
    expect(summary('nginx', n('SSL_do_handshake() failed (SSL: error:0A000132:SSL routines::bad ecpoint)'))).toBe('203.0.113.5 bad-key-share bad ecpoint');
  });

  it('classifies each reason nginx writes', () => {
    const cases: [string, string][] = [
      ['peer closed connection in SSL handshake (104: Connection reset by peer)', 'eof'],
      ['peer closed connection in SSL handshake', 'eof'],
      ['client closed connection', 'eof'],
      ['client timed out (110: Connection timed out)', 'eof'],
      ['SSL_do_handshake() failed (104: Connection reset by peer)', 'eof'],
      ['SSL_do_handshake() failed (SSL: error:0A000102:SSL routines::unsupported protocol)', 'version-or-cipher'],
      ['SSL_do_handshake() failed (SSL: error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher)', 'version-or-cipher'],
      ['SSL_do_handshake() failed (SSL: error:0A00018C:SSL routines::version too low)', 'version-or-cipher'],
      ['SSL_do_handshake() failed (SSL: error:0A000076:SSL routines::no suitable signature algorithm)', 'version-or-cipher'],
      ['SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A00009C:SSL routines::http request)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A0000F4:SSL routines::unknown protocol)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A0000C6:SSL routines::packet length too long)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A00010F:SSL routines::bad record type)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A000139:SSL routines::record layer failure)', 'protocol-mismatch'],
      ['SSL_do_handshake() failed (SSL: error:0A000412:SSL routines::sslv3 alert bad certificate:SSL alert number 42)', 'cert-rejected'],
      ['SSL_do_handshake() failed (SSL: error:0A000418:SSL routines::tlsv1 alert unknown ca:SSL alert number 48)', 'cert-rejected'],
      ['SSL_do_handshake() failed (SSL: error:0A000416:SSL routines::sslv3 alert certificate unknown:SSL alert number 46)', 'cert-rejected'],
      ['SSL_do_handshake() failed (SSL: error:0A000458:SSL routines::tlsv1 unrecognized name:SSL alert number 112)', 'sni'],
      ['handshake rejected', 'sni'],
      ['SSL_do_handshake() failed (SSL: error:0A0000EA:SSL routines::callback failed)', 'sni'],
      ['SSL_do_handshake() failed (SSL: error:0A0003F2:SSL routines::ssl3 read bytes:SSL alert number 10)', 'other'],
    ];
    for (const [msg, cause] of cases) expect(`${msg} → ${(one('nginx', n(msg)) as { cause?: string })?.cause}`).toBe(`${msg} → ${cause}`);
  });

  it('reads two errors inside one pair of parentheses, the reason naming both', () => {
    const r = one(
      'nginx',
      n('SSL_do_handshake() failed (SSL: error:14201044:SSL routines:tls_choose_sigalg:internal error error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher)'),
    );
    expect(r).toMatchObject({ reason: 'internal error; no shared cipher', cause: 'version-or-cipher' });
  });

  it('takes IPv6, IPv4-mapped and stream-module clients', () => {
    expect(summary('nginx', n('peer closed connection in SSL handshake', '2001:db8:bad::7', '[::]:443'))).toBe('2001:db8:bad::7 eof peer closed connection in SSL handshake');
    expect(summary('nginx', n('client closed connection', '::ffff:1.2.3.4', '[::]:443'))).toBe('1.2.3.4 eof client closed connection');
    expect(summary('nginx', n('client closed connection', '2001:DB8:0:0:0:0:0:1', '198.51.100.1:8443'))).toBe('2001:db8::1 eof client closed connection');
    expect(summary('nginx', n('client closed connection', '198.51.100.2', 'unix:/run/nginx.sock'))).toBe('198.51.100.2 eof client closed connection');
  });

  it('counts plain HTTP on the TLS port and unexpected PROXY headers, nothing else of the request kind', () => {
    const base = '2026/11/22 02:52:20 [info] 30480#30480: *41 client sent';
    expect(summary('nginx', `${base} plain HTTP request to HTTPS port while reading client request headers, client: 2001:db8::2, server: , request: "GET / HTTP/1.1", host: "test"`)).toBe(
      '2001:db8::2 protocol-mismatch plain HTTP request to HTTPS port',
    );
    expect(summary('nginx', `${base} invalid request while reading client request line, client: 198.51.100.2, server: , request: "PROXY TCP4 198.51.100.9 198.51.100.1 5000 443"`)).toBe(
      '198.51.100.2 protocol-mismatch PROXY protocol header not expected',
    );
    expect(summary('nginx', `${base} invalid request while reading client request line, client: 198.51.100.2, server: , request: "GET /%%% HTTP/1.1"`)).toBeNull();
    expect(summary('nginx', `${base} invalid method while reading client request line, client: 198.51.100.2, server: , request: " "`)).toBeNull();
  });

  it('never counts nginx\'s own failures towards an upstream', () => {
    expect(
      summary(
        'nginx',
        '2026/11/01 03:00:33 [error] 13721#13721: *2341623 SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed) while SSL handshaking to upstream, client: 203.0.113.99, server: example.org, request: "GET / HTTP/1.1", upstream: "https://192.0.2.80:443/", host: "example.org"',
      ),
    ).toBeNull();
  });

  it('accepts syslog and journald prefixes', () => {
    const rec = n('SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)');
    for (const prefix of ['Nov 22 02:36:22 web nginx[1372]: ', '2026-11-22T02:36:22.123456+00:00 web nginx: ', 'Nov 22 02:36:22 web nginx: ']) {
      expect(summary('nginx', prefix + rec)).toBe('203.0.113.5 bad-key-share bad key share');
    }
  });

  it('marks an invalid client field unparsable, never throws', () => {
    expect(one('nginx', n('client closed connection', 'unknown'))).toBe(UNPARSABLE);
    expect(one('nginx', n('client closed connection', '300.1.2.3'))).toBe(UNPARSABLE);
    expect(one('nginx', n('client closed connection', 'fe80::1%eth0'))).toBe(UNPARSABLE);
  });
});

describe('go', () => {
  const g = (rest: string) => `2026/11/22 02:51:50 http: TLS handshake error from ${rest}`;
  it('reads every reason Go servers write, with its cause', () => {
    const cases: [string, string][] = [
      ['EOF', 'eof'],
      ['read tcp 198.51.100.1:443->198.51.100.2:4000: read: connection reset by peer', 'eof'],
      ['read tcp [2001:db8::1]:12443->[2001:db8::2]:60724: i/o timeout', 'eof'],
      ['tls: first record does not look like a TLS handshake', 'protocol-mismatch'],
      ['tls: unsupported SSLv2 handshake received', 'version-or-cipher'],
      ['tls: client offered only unsupported versions: [302 301]', 'version-or-cipher'],
      ['tls: client used the legacy version field to negotiate TLS 1.3', 'version-or-cipher'],
      ['tls: no cipher suite supported by both client and server', 'version-or-cipher'],
      ['tls: invalid client key share', 'bad-key-share'],
      ['remote error: tls: unknown certificate', 'cert-rejected'],
      ['remote error: tls: bad certificate', 'cert-rejected'],
      ['remote error: tls: unknown certificate authority', 'cert-rejected'],
      ["no certificate available for 'example.net'", 'sni'],
      ['local error: tls: bad record MAC', 'other'],
      ['tls: client requested unsupported application protocols ([http/0.9])', 'other'],
    ];
    for (const [reason, cause] of cases) expect(`${reason} → ${summary('go', g(`198.51.100.2:4000: ${reason}`))}`).toBe(`${reason} → 198.51.100.2 ${cause} ${reason}`);
  });

  it('takes bracketed IPv6 and IPv4-mapped addresses', () => {
    expect(summary('go', g('[2001:db8::2]:60708: EOF'))).toBe('2001:db8::2 eof EOF');
    expect(summary('go', g('[::ffff:198.51.100.30]:5000: EOF'))).toBe('198.51.100.30 eof EOF');
    expect(one('go', g('[fe80::1%eth0]:5000: EOF'))).toBe(UNPARSABLE);
    expect(one('go', g('example.com:5000: EOF'))).toBe(UNPARSABLE);
  });

  it('accepts microseconds, a file.go:N prefix, a program prefix, none, and syslog prefixes', () => {
    const body = 'http: TLS handshake error from 198.51.100.2:4000: EOF';
    for (const line of [
      `2026/11/22 02:51:50.123456 ${body}`,
      `2026/11/22 02:51:50 server.go:3215: ${body}`,
      `2026/11/22 02:51:50 [hysteria] ${body}`,
      `[traefik] ${body}`,
      body,
      `Nov 22 02:51:50 host hysteria[812]: 2026/11/22 02:51:50 ${body}`,
      `Nov 22 02:51:50 host hysteria[812]: ${body}`,
    ]) {
      expect(summary('go', line), line).toBe('198.51.100.2 eof EOF');
    }
    expect(one('go', `Nov 22 02:51:50 host hysteria[812]: ${body}`)).toMatchObject({ time: T('2026-11-22T02:51:50') });
    expect(one('go', body)).toMatchObject({ time: null });
  });

  it('reads the message through other loggers: logrus, zerolog/zap console, JSON (Traefik and the like)', () => {
    const at = T('2026-11-22T02:40:11');
    expect(one('go', 'time="2026-11-22T02:40:11Z" level=debug msg="http: TLS handshake error from 198.51.100.2:4000: EOF"')).toMatchObject({ time: at, cause: 'eof', ip: { text: '198.51.100.2' } });
    expect(summary('go', 'time="2026-11-22T02:40:11Z" level=debug msg="http: TLS handshake error from [2001:db8::2]:4000: no certificate available for \\"x\\""')).toBe(
      '2001:db8::2 sni no certificate available for "x"',
    );
    expect(one('go', '2026-11-22T02:40:11Z DBG log/log.go:245 > http: TLS handshake error from 198.51.100.3:4000: tls: invalid client key share')).toMatchObject({
      time: at,
      cause: 'bad-key-share',
    });
    expect(summary('go', '2026-11-22T02:40:11.123Z\tDEBUG\thttp: TLS handshake error from 198.51.100.4:4000: EOF')).toBe('198.51.100.4 eof EOF');
    expect(one('go', '{"level":"debug","time":"2026-11-22T02:40:11Z","message":"http: TLS handshake error from 198.51.100.5:4000: EOF"}')).toMatchObject({ time: at, ip: { text: '198.51.100.5' } });
    // The message must be the logger's message field, not text elsewhere in the record.
    expect(one('go', '{"level":"info","message":"GET /x","path":"http: TLS handshake error from 203.0.113.9:1: EOF"}')).toBeNull();
    expect(one('go', 'time="2026-11-22T02:40:11Z" level=info msg="GET /http: TLS handshake error from 203.0.113.9:1: EOF"')).toBeNull();
    expect(one('go', '2026-11-22T02:40:11Z INF request path=/x > http: TLS handshake error from 203.0.113.9:1: EOF')).toBeNull();
  });

  it('never reads an address or a cause out of client-chosen text in the reason', () => {
    expect(summary('go', g("198.51.100.2:4000: no certificate available for 'x http: TLS handshake error from 203.0.113.9:1: EOF'"))).toMatch(/^198\.51\.100\.2 sni /);
    expect(summary('go', g("198.51.100.2:4000: no certificate available for 'bad certificate'"))).toMatch(/^198\.51\.100\.2 sni /);
    expect(summary('go', g("198.51.100.2:4000: no certificate available for 'unterminated bad certificate"))).toMatch(/^198\.51\.100\.2 sni /);
    expect(summary('go', g('198.51.100.2:4000: tls: client requested unsupported application protocols ([bad certificate])'))).toMatch(/^198\.51\.100\.2 other /);
  });
});

describe('caddy-json', () => {
  const c = (o: Record<string, unknown>) => JSON.stringify(o);
  it('reads http.stdlib handshake errors from the parsed JSON', () => {
    const line = c({ level: 'debug', ts: 1795315910.1955576, logger: 'http.stdlib', msg: 'http: TLS handshake error from [2001:db8::2]:58810: tls: invalid client key share' });
    expect(one('caddy-json', line)).toMatchObject({ ip: { text: '2001:db8::2' }, cause: 'bad-key-share', time: 1795315910196 });
    const iso = c({ level: 'debug', ts: '2026-11-22T02:51:50.000Z', logger: 'http.stdlib', msg: 'http: TLS handshake error from 198.51.100.2:1: EOF' });
    expect(one('caddy-json', iso)).toMatchObject({ time: T('2026-11-22T02:51:50'), cause: 'eof' });
    expect(summary('caddy-json', `Nov 22 02:51:50 host caddy[99]: ${iso}`)).toBe('198.51.100.2 eof EOF');
  });
  it('ignores other loggers, other fields and broken JSON', () => {
    expect(one('caddy-json', c({ logger: 'http.log.access', msg: 'handled', uri: 'http: TLS handshake error from 203.0.113.9:1: EOF', x: 'http.stdlib' }))).toBeNull();
    expect(one('caddy-json', c({ logger: 'http.stdlib', msg: 'x', request: 'http: TLS handshake error from 203.0.113.9:1: EOF' }))).toBeNull();
    expect(one('caddy-json', '{"logger":"http.stdlib","msg":"http: TLS handshake error from 203.0.113.9:1: EOF"')).toBeNull();
  });
});

describe('haproxy', () => {
  it('reads raw and syslog-prefixed lines, 2.6 and 2.8+ forms', () => {
    expect(summary('haproxy', '198.51.100.2:46128 [22/Nov/2026:02:51:50.175] fe_tls/1: Connection closed during SSL handshake')).toBe(
      '198.51.100.2 eof Connection closed during SSL handshake',
    );
    expect(one('haproxy', '198.51.100.2:46136 [22/Nov/2026:02:51:52.740] fe_tls/1: Timeout during SSL handshake')).toMatchObject({
      cause: 'eof',
      time: T('2026-11-22T02:51:52'),
    });
    expect(summary('haproxy', 'Nov 22 02:51:57 lb haproxy[811]: 198.51.100.2:48160 [22/Nov/2026:02:51:57.636] fe_tls/1: SSL handshake failure')).toBe(
      '198.51.100.2 other SSL handshake failure',
    );
    expect(summary('haproxy', '2026-11-22T02:51:57.636+00:00 lb haproxy[811]: 198.51.100.2:48160 [22/Nov/2026:02:51:57.636] https-in/198.51.100.1:443: SSL handshake failure (error:0A000102:SSL routines::unsupported protocol)')).toBe(
      '198.51.100.2 version-or-cipher SSL handshake failure: unsupported protocol',
    );
    expect(summary('haproxy', '198.51.100.2:1 [22/Nov/2026:02:51:57.636] fe/1: Connection error during SSL handshake (error:0A00006C:SSL routines::bad key share)')).toBe(
      '198.51.100.2 bad-key-share Connection error during SSL handshake: bad key share',
    );
  });
  it('takes the last :port as the port of an unbracketed IPv6 client', () => {
    expect(summary('haproxy', '2001:db8::2:53246 [22/Nov/2026:02:52:38.865] fe_tls/2: Connection closed during SSL handshake')).toMatch(/^2001:db8::2 /);
    // "2001:db8:a::b1" would parse with or without ":46223"; the port is still the last part.
    expect(summary('haproxy', '2001:db8:a::b1:46223 [22/Nov/2026:02:52:38.865] fe_tls/2: Timeout during SSL handshake')).toMatch(/^2001:db8:a::b1 /);
    expect(summary('haproxy', '::ffff:198.51.100.7:46223 [22/Nov/2026:02:52:38.865] fe/2: Timeout during SSL handshake')).toMatch(/^198\.51\.100\.7 /);
  });
  it('ignores HAProxy\'s other lines', () => {
    expect(one('haproxy', '198.51.100.2:5 [22/Nov/2026:02:51:57.636] fe_tls~ be/srv 0/0/0/1/1 200 100 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')).toBeNull();
    expect(one('haproxy', '[WARNING]  (811) : Server be/srv is DOWN, reason: Layer4 connection problem during SSL handshake')).toBeNull();
  });
});

describe('apache', () => {
  const pre = (tid: number) => `[Sun Nov 22 02:52:01.042150 2026] [ssl:info] [pid 30482:tid ${tid}]`;
  it('joins "SSL library error" to the OpenSSL reason its thread logs next', () => {
    const lines = [
      `${pre(1)} [client 198.51.100.2:58656] AH01964: Connection to child 0 established (server test:10443)`,
      `${pre(1)} [client 198.51.100.2:58656] AH02008: SSL library error 1 in handshake (server test:10443)`,
      `${pre(2)} [client 2001:db8::2:59798] AH02008: SSL library error 1 in handshake (server test:10443)`,
      `${pre(2)} SSL Library Error: error:0A0000C1:SSL routines::no shared cipher -- Too restrictive SSLCipherSuite or using DSA server certificate?`,
      `${pre(1)} SSL Library Error: error:0A00006C:SSL routines::bad key share`,
      `${pre(1)} SSL Library Error: error:0A000086:SSL routines::another queued error`,
      `${pre(3)} [client 198.51.100.3:1] AH02008: SSL library error 1 in handshake (server test:10443)`,
      `${pre(3)} SSL Library Error: error:0A000418:SSL routines::tlsv1 alert unknown ca (SSL alert number 48)`,
    ];
    expect(run('apache', lines)).toEqual([
      null,
      null,
      null,
      '2001:db8::2 version-or-cipher no shared cipher',
      '198.51.100.2 bad-key-share bad key share',
      null,
      null,
      '198.51.100.3 cert-rejected tlsv1 alert unknown ca',
    ]);
  });
  it('reads the one-line records, with the APR error prefix', () => {
    expect(summary('apache', `${pre(5)} (70014)End of file found: [client 2001:db8::2:33734] AH02006: SSL handshake stopped: connection was closed`)).toBe(
      '2001:db8::2 eof SSL handshake stopped: connection was closed',
    );
    expect(summary('apache', `${pre(5)} [client 198.51.100.2:1] AH02007: SSL handshake interrupted by system [Hint: Stop button pressed in browser?!]`)).toBe(
      '198.51.100.2 eof SSL handshake interrupted by system',
    );
    expect(summary('apache', `${pre(5)} [client 198.51.100.2:59320] AH01996: SSL handshake failed: HTTP spoken on HTTPS port; trying to send HTML error page`)).toMatch(
      /^198\.51\.100\.2 protocol-mismatch /,
    );
    expect(summary('apache', 'Nov 22 02:52:01 web apache2[30482]: [ssl:info] [pid 30482:tid 7] [client 198.51.100.2:1] AH02006: SSL handshake stopped: connection was closed')).toMatch(/^198\.51\.100\.2 eof/);
    // The last ":port" is the port, even when what remains would parse with it.
    expect(summary('apache', `${pre(6)} [client 2001:db8:a::b1:46223] AH02006: SSL handshake stopped: connection was closed`)).toMatch(/^2001:db8:a::b1 eof/);
  });
  it('reports a library error whose reason never came as other, when its thread moves on', () => {
    const lines = [
      `${pre(9)} [client 198.51.100.9:1] AH02008: SSL library error 1 in handshake (server test:10443)`,
      `${pre(9)} [client 198.51.100.8:2] AH02008: SSL library error 1 in handshake (server test:10443)`,
      `${pre(9)} SSL Library Error: error:0A00010B:SSL routines::wrong version number`,
    ];
    expect(run('apache', lines)).toEqual([null, '198.51.100.9 other SSL library error 1 in handshake', '198.51.100.8 protocol-mismatch wrong version number']);
  });
  it('ignores other modules and other ssl messages', () => {
    expect(one('apache', `[Sun Nov 22 02:52:01.042150 2026] [core:error] [pid 1:tid 2] [client 198.51.100.2:1] AH00126: Invalid URI in request GET /x SSL handshake`)).toBeNull();
    expect(one('apache', `${pre(1)} [client 198.51.100.2:1] AH01998: Connection closed to child 0 with abortive shutdown (server test:10443)`)).toBeNull();
  });
});

describe('postfix', () => {
  const p = (pid: number, msg: string) => `Nov 22 02:40:11 mail postfix/smtpd[${pid}]: ${msg}`;
  it('joins the TLS library problem to the smtpd process\'s client, whichever comes first', () => {
    const lines = [
      p(1234, 'connect from unknown[198.51.100.2]'),
      p(1234, 'SSL_accept error from unknown[198.51.100.2]: -1'),
      p(1234, 'warning: TLS library problem: error:0A000076:SSL routines::no suitable signature algorithm:ssl/statem/statem_srvr.c:2234:'),
      p(1234, 'lost connection after STARTTLS from unknown[198.51.100.2]'),
      p(1234, 'disconnect from unknown[198.51.100.2] ehlo=1 starttls=0/1 commands=1/2'),
      p(77, 'connect from mail.example.net[2001:db8::25]'),
      p(77, 'warning: TLS library problem: error:0A00006C:SSL routines::bad key share:ssl/statem/extensions_srvr.c:650:'),
      p(77, 'SSL_accept error from mail.example.net[2001:db8::25]: -1'),
    ];
    expect(run('postfix', lines)).toEqual([
      null,
      null,
      '198.51.100.2 version-or-cipher no suitable signature algorithm',
      null,
      null,
      null,
      null,
      '2001:db8::25 bad-key-share bad key share',
    ]);
  });
  it('reads lost connections and resets at once, and tlsproxy too', () => {
    expect(summary('postfix', p(5, 'SSL_accept error from unknown[198.51.100.2]: lost connection'))).toBe('198.51.100.2 eof lost connection');
    expect(summary('postfix', p(5, 'SSL_accept error from unknown[2001:db8::2]: Connection reset by peer'))).toBe('2001:db8::2 eof Connection reset by peer');
    expect(summary('postfix', 'Nov 22 02:40:11 mail postfix/tlsproxy[9]: SSL_accept error from [198.51.100.4]:50000: lost connection')).toBe('198.51.100.4 eof lost connection');
    expect(summary('postfix', '2026-11-22T02:40:11+0000 mail postfix/submission/smtpd[6]: SSL_accept error from unknown[198.51.100.2]: lost connection')).toMatch(/^198\.51\.100\.2 eof/);
  });
  it('counts a client that asked for STARTTLS and left, once', () => {
    expect(run('postfix', [p(9, 'connect from unknown[198.51.100.2]'), p(9, 'lost connection after STARTTLS from unknown[198.51.100.2]')])).toEqual([
      null,
      '198.51.100.2 eof lost connection after STARTTLS',
    ]);
    // After an SSL_accept error the same client is not counted again.
    expect(
      run('postfix', [
        p(9, 'connect from unknown[198.51.100.2]'),
        p(9, 'SSL_accept error from unknown[198.51.100.2]: lost connection'),
        p(9, 'lost connection after STARTTLS from unknown[198.51.100.2]'),
      ]),
    ).toEqual([null, '198.51.100.2 eof lost connection', null]);
  });

  it('reports an SSL_accept error with no reason as it is when the process moves on', () => {
    expect(run('postfix', [p(8, 'SSL_accept error from unknown[198.51.100.2]: -1'), p(8, 'disconnect from unknown[198.51.100.2]')])).toEqual([
      null,
      '198.51.100.2 other SSL_accept error',
    ]);
  });
  it('ignores the smtp client and other programs', () => {
    expect(one('postfix', 'Nov 22 02:40:11 mail postfix/smtp[5]: SSL_accept error from unknown[198.51.100.2]: lost connection')).toBeNull();
    expect(one('postfix', 'Nov 22 02:40:11 mail evil[5]: postfix SSL_accept error from unknown[198.51.100.2]: lost connection')).toBeNull();
  });
});

describe('dovecot', () => {
  it('reads both message styles through syslog and its own log file', () => {
    expect(
      summary(
        'dovecot',
        'Nov 22 02:40:11 mail dovecot: imap-login: Login aborted: Connection closed (tls_handshake_not_finished) (disconnected before auth was ready, waited 0 secs): user=<>, rip=198.51.100.2, lip=198.51.100.1, TLS handshaking: SSL_accept() failed: error:0A00006C:SSL routines::bad key share, session=<abc>',
      ),
    ).toBe('198.51.100.2 bad-key-share bad key share');
    expect(
      summary(
        'dovecot',
        'Nov 22 02:40:11 imap-login: Info: Disconnected (no auth attempts in 0 secs): user=<>, rip=2001:db8::2, lip=2001:db8::1, TLS handshaking: Disconnected, session=<x>',
      ),
    ).toBe('2001:db8::2 eof Disconnected');
    expect(
      summary(
        'dovecot',
        '2026-11-22T02:40:11+0000 mail dovecot[5]: pop3-login: Disconnected (no auth attempts in 1 secs): user=<>, rip=198.51.100.3, lip=198.51.100.1, TLS handshaking: SSL_accept() failed: error:0A000102:SSL routines::unsupported protocol, session=<x>',
      ),
    ).toBe('198.51.100.3 version-or-cipher unsupported protocol');
  });
  it('does not trust a line whose user name holds another rip=', () => {
    expect(
      one(
        'dovecot',
        'Nov 22 02:40:11 mail dovecot: imap-login: Disconnected: user=<a, rip=203.0.113.9, lip=1.1.1.1, x>, rip=198.51.100.2, lip=198.51.100.1, TLS handshaking: Disconnected, session=<x>',
      ),
    ).toBe(UNTRUSTED);
  });
});

describe('regex', () => {
  it('uses the ip, time and reason groups, or <HOST>', () => {
    const spec = { format: 'regex', pattern: '^(?<time>\\S+ \\S+) tlsd: handshake from <HOST> failed: (?<reason>.+)$' } as const;
    expect(one(spec, '2026/11/22 02:40:11 tlsd: handshake from [2001:db8::5] failed: bad key share')).toMatchObject({
      ip: { text: '2001:db8::5' },
      time: T('2026-11-22T02:40:11'),
      cause: 'bad-key-share',
      reason: 'bad key share',
    });
    const fixed = { format: 'regex', pattern: '^proxy: refused (?<ip>\\S+) ', cause: 'protocol-mismatch' } as const;
    expect(summary(fixed, 'proxy: refused 198.51.100.2 because whatever')).toBe('198.51.100.2 protocol-mismatch matched pattern');
    expect(summary(fixed, 'Nov 22 02:40:11 h proxy[1]: proxy: refused 198.51.100.2 x')).toBe('198.51.100.2 protocol-mismatch matched pattern');
    expect(one(fixed, 'proxy: refused 999.1.1.1 x')).toBe(UNPARSABLE);
    expect(one(fixed, 'something else')).toBeNull();
  });
  it('reads the time stamps of the other formats', () => {
    const at = (stamp: string) => (one({ format: 'regex', pattern: '^\\[(?<time>[^\\]]+)\\] (?<ip>\\S+)' }, `[${stamp}] 198.51.100.2`) as { time: number }).time;
    expect(at('22/Nov/2026:02:40:11 +0000')).toBe(T('2026-11-22T02:40:11'));
    expect(at('2026-11-22T02:40:11Z')).toBe(T('2026-11-22T02:40:11'));
    expect(at('1795315910')).toBe(1795315910000);
    expect(at('Nov 22 02:40:11')).toBe(T('2026-11-22T02:40:11'));
    expect(at('Sun Nov 22 02:40:11.500000 2026')).toBe(T('2026-11-22T02:40:11.500'));
  });
});

describe('auto', () => {
  it('picks the format per line, in a journal mixing programs', () => {
    const lines = [
      'Nov 22 02:51:50 h hysteria[1]: 2026/11/22 02:51:50 http: TLS handshake error from 198.51.100.2:49484: EOF',
      'Nov 22 02:51:50 h haproxy[2]: 198.51.100.3:46128 [22/Nov/2026:02:51:50.175] fe_tls/1: Connection closed during SSL handshake',
      'Nov 22 02:51:50 h nginx[3]: 2026/11/22 02:51:50 [info] 1#1: *2 client closed connection while SSL handshaking, client: 198.51.100.4, server: 198.51.100.1:443',
      'Nov 22 02:40:11 mail postfix/smtpd[5]: SSL_accept error from unknown[198.51.100.5]: lost connection',
      'Nov 22 02:40:11 h kernel: just noise',
    ];
    expect(run('auto', lines)).toEqual([
      '198.51.100.2 eof EOF',
      '198.51.100.3 eof Connection closed during SSL handshake',
      '198.51.100.4 eof client closed connection',
      '198.51.100.5 eof lost connection',
      null,
    ]);
  });
  it('reads each format of a file as itself', () => {
    const sig = createSignature('auto', { now: NOW });
    expect(show(sig.match('198.51.100.3:46128 [22/Nov/2026:02:51:50.175] fe_tls/1: Connection closed during SSL handshake'))).toBe(
      '198.51.100.3 eof Connection closed during SSL handshake',
    );
    expect((sig as unknown as { lastMatchedBy: string }).lastMatchedBy).toBe('haproxy');
    expect(show(sig.match('2026/11/22 02:51:50 http: TLS handshake error from 198.51.100.2:49484: EOF'))).toBe('198.51.100.2 eof EOF');
    expect((sig as unknown as { lastMatchedBy: string }).lastMatchedBy).toBe('go');
  });
});
