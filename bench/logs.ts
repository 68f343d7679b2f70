import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Realistic logs for the benchmarks, made here so the bench needs no data:
 * ~60% handshake failures from ~50k addresses (a fifth of them IPv6, a few
 * heavy offenders), the rest the ordinary noise of the same server. Seeded, so
 * every run writes the same file. No cert-rejected failures: many of those
 * from many addresses is a broken certificate, which the policy's storm
 * breaker answers by holding bans, not the scanner traffic measured here.
 */
export interface GeneratedLog {
  readonly path: string;
  readonly lines: number;
  readonly failures: number;
  readonly bytes: number;
}

export type BenchFormat = 'nginx' | 'go';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function addressPool(rand: () => number, n: number): string[] {
  const pool: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 5 === 4) {
      const h = () => Math.floor(rand() * 65536).toString(16);
      pool.push(`2001:db8:${h()}:${h()}::${h()}`);
    } else {
      // Public-looking IPv4, never loopback or the allow list.
      pool.push(`${11 + Math.floor(rand() * 180)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`);
    }
  }
  return pool;
}

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
function slashed(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const NGINX_FAILURES: readonly [string, string][] = [
  ['crit', 'SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key share)'],
  ['crit', 'SSL_do_handshake() failed (SSL: error:141CF06C:SSL routines:tls_parse_ctos_key_share:bad key share)'],
  ['info', 'SSL_do_handshake() failed (SSL: error:0A000102:SSL routines::unsupported protocol)'],
  ['info', 'peer closed connection in SSL handshake (104: Connection reset by peer)'],
  ['info', 'peer closed connection in SSL handshake'],
  ['info', 'client closed connection'],
  ['info', 'client timed out (110: Connection timed out)'],
  ['info', 'SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)'],
  ['info', 'SSL_do_handshake() failed (SSL: error:0A0000C1:SSL routines::no shared cipher)'],
  ['info', 'SSL_do_handshake() failed (SSL: error:0A000076:SSL routines::no suitable signature algorithm)'],
];
const NGINX_NOISE: readonly ((ip: string) => string)[] = [
  (ip) => `[error] 1372#1372: *{c} open() "/var/www/html/wp-login.php" failed (2: No such file or directory), client: ${ip}, server: example.org, request: "GET /wp-login.php HTTP/1.1", host: "example.org"`,
  (ip) => `[error] 1372#1372: *{c} upstream timed out (110: Connection timed out) while reading response header from upstream, client: ${ip}, server: example.org, request: "GET /api/v1/items?page=2 HTTP/1.1", upstream: "http://127.0.0.1:8080/api/v1/items?page=2", host: "example.org"`,
  (ip) => `[error] 1372#1372: *{c} SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed) while SSL handshaking to upstream, client: ${ip}, server: example.org, request: "GET / HTTP/1.1", upstream: "https://192.0.2.80:443/", host: "example.org"`,
  (ip) => `[warn] 1372#1372: *{c} an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream, client: ${ip}, server: example.org, request: "GET /big HTTP/1.1", upstream: "http://127.0.0.1:8080/big", host: "example.org"`,
  (ip) => `[error] 1372#1372: *{c} limiting requests, excess: 10.560 by zone "one", client: ${ip}, server: example.org, request: "POST /login HTTP/1.1", host: "example.org"`,
  () => `[notice] 1371#1371: signal process started`,
];

const GO_FAILURES: readonly string[] = [
  'EOF',
  'tls: first record does not look like a TLS handshake',
  'tls: client requested unsupported application protocols ([http/0.9])',
  'tls: client offered only unsupported versions: [302 301]',
  'read tcp 198.51.100.1:443->{peer}: read: connection reset by peer',
  'tls: no cipher suite supported by both client and server',
  'tls: invalid client key share',
];
const GO_NOISE: readonly ((ip: string) => string)[] = [
  (ip) => `INFO client connected\t{"addr": "${ip}:50000", "id": "user0", "tx": 0}`,
  (ip) => `INFO TCP request\t{"addr": "${ip}:50001", "id": "user0", "reqAddr": "example.com:443"}`,
  (ip) => `WARN TCP error\t{"addr": "${ip}:50002", "id": "user1", "reqAddr": "example.net:443", "error": "context canceled"}`,
  (ip) => `INFO client disconnected\t{"addr": "${ip}:50000", "id": "user0", "reason": "closed"}`,
];

/** Writes `lines` lines of one format to `path`. */
export function generateLog(path: string, format: BenchFormat, lines: number, seed = 42): GeneratedLog {
  const rand = rng(seed);
  const pool = addressPool(rand, 50_000);
  // A long tail, plus scanners coming back in bursts (what gets banned).
  let burst = 0;
  let burstIp = '';
  const pick = (failure: boolean) => {
    if (!failure) return pool[Math.floor(rand() * pool.length)]!;
    if (burst === 0 && rand() < 0.002) {
      burst = 8;
      burstIp = pool[Math.floor(rand() * pool.length)]!;
    }
    if (burst > 0) {
      burst--;
      return burstIp;
    }
    return pool[Math.floor(rand() * pool.length)]!;
  };
  const fd = openSync(path, 'w');
  const start = new Date(2026, 10, 1).getTime();
  // A week: busy, but not the hundreds of new addresses a minute that the storm breaker holds bans for.
  const step = (7 * 86_400_000) / lines;
  let failures = 0;
  let bytes = 0;
  let chunk: string[] = [];
  const flush = () => {
    const text = chunk.join('');
    bytes += Buffer.byteLength(text);
    writeSync(fd, text);
    chunk = [];
  };
  for (let i = 0; i < lines; i++) {
    const stamp = slashed(start + i * step);
    const failure = rand() < 0.6;
    const ip = pick(failure);
    if (failure) failures++;
    if (format === 'nginx') {
      const conn = 2_000_000 + i;
      if (failure) {
        const [level, msg] = NGINX_FAILURES[Math.floor(rand() * NGINX_FAILURES.length)]!;
        const server = ip.includes(':') ? '[::]:443' : '0.0.0.0:443';
        chunk.push(`${stamp} [${level}] 1372#1372: *${conn} ${msg} while SSL handshaking, client: ${ip}, server: ${server}\n`);
      } else {
        chunk.push(`${stamp} ${NGINX_NOISE[Math.floor(rand() * NGINX_NOISE.length)]!(ip).replace('{c}', String(conn))}\n`);
      }
    } else if (failure) {
      const host = ip.includes(':') ? `[${ip}]` : ip;
      const port = 1024 + Math.floor(rand() * 60000);
      const reason = GO_FAILURES[Math.floor(rand() * GO_FAILURES.length)]!.replace('{peer}', `${host}:${port}`);
      chunk.push(`${stamp} http: TLS handshake error from ${host}:${port}: ${reason}\n`);
    } else {
      chunk.push(`${stamp} ${GO_NOISE[Math.floor(rand() * GO_NOISE.length)]!(ip)}\n`);
    }
    if (chunk.length >= 10_000) flush();
  }
  flush();
  closeSync(fd);
  return { path, lines, failures, bytes };
}
