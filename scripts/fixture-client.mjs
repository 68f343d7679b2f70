// Makes one TLS handshake fail on purpose, in one of the ways scanners, broken
// clients and misconfigured proxies do, so that real servers write the log
// lines our fixtures hold. Used by scripts/regen-fixtures.sh inside a test
// network namespace; it only ever connects to the address it is given.
//
//   node fixture-client.mjs HOST PORT MODE
//
// MODE: close, hold, hello-close, bad-key-share, bad-key-length, tls10,
// no-cipher, legacy13, sslv2, plain-http, proxy-v1, proxy-v2, random, unknown-sni;
// smtp-MODE does EHLO and STARTTLS on a plain SMTP port first.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const [host, portText, mode] = process.argv.slice(2);
const port = Number(portText);

const u16 = (n) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (b) => Buffer.concat([u16(b.length), b]);
const vec8 = (b) => Buffer.concat([Buffer.from([b.length]), b]);
const ext = (type, body) => Buffer.concat([u16(type), vec16(body)]);
const list16 = (ns) => Buffer.concat(ns.map(u16));

/** A ClientHello record, TLS 1.3-capable unless told otherwise. */
function clientHello({
  legacyVersion = 0x0303,
  ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030],
  groups = [0x001d, 0x0017],
  keyShares = [[0x001d, randomBytes(32)]],
  versions = [0x0304, 0x0303],
  sni = 'test',
} = {}) {
  const exts = [];
  if (sni) exts.push(ext(0x0000, vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(sni))]))));
  exts.push(ext(0x000a, vec16(list16(groups))));
  exts.push(ext(0x000b, vec8(Buffer.from([0]))));
  exts.push(ext(0x000d, vec16(list16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0201]))));
  if (versions) exts.push(ext(0x002b, vec8(list16(versions))));
  if (keyShares) {
    exts.push(ext(0x0033, vec16(Buffer.concat(keyShares.map(([g, k]) => Buffer.concat([u16(g), vec16(k)]))))));
  }
  const body = Buffer.concat([
    u16(legacyVersion),
    randomBytes(32),
    vec8(randomBytes(32)),
    vec16(list16(ciphers)),
    vec8(Buffer.from([0])),
    vec16(Buffer.concat(exts)),
  ]);
  const hs = Buffer.concat([Buffer.from([0x01]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(hs.length), hs]);
}

/** An SSLv2-compatible ClientHello, as very old clients and some scanners send. */
function sslv2Hello() {
  const ciphers = Buffer.from([0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x01, 0x00, 0x80]);
  const challenge = randomBytes(16);
  const body = Buffer.concat([Buffer.from([0x01, 0x03, 0x01]), u16(ciphers.length), u16(0), u16(challenge.length), ciphers, challenge]);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}

const PROXY_V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
function proxyV2() {
  // PROXY, TCP over IPv4: 198.51.100.9:5000 -> 198.51.100.1:443
  const addr = Buffer.from([198, 51, 100, 9, 198, 51, 100, 1, 0x13, 0x88, 0x01, 0xbb]);
  return Buffer.concat([PROXY_V2_SIG, Buffer.from([0x21, 0x11]), u16(addr.length), addr]);
}

// What to send, and whether to close at once (true) or wait for the server.
const plans = {
  close: [null, true],
  hold: [null, false],
  'hello-close': [clientHello(), true],
  'bad-key-share': [clientHello({ groups: [0x001d], keyShares: [[0x0017, Buffer.concat([Buffer.from([4]), randomBytes(64)])]] }), false],
  'bad-key-length': [clientHello({ keyShares: [[0x001d, randomBytes(31)]] }), false],
  tls10: [clientHello({ legacyVersion: 0x0301, ciphers: [0x002f, 0x0035, 0xc013, 0xc014], versions: null, keyShares: null }), false],
  'no-cipher': [clientHello({ ciphers: [0x000a, 0x0005], versions: null, keyShares: null }), false],
  legacy13: [clientHello({ legacyVersion: 0x0304, versions: null }), false],
  sslv2: [sslv2Hello(), false],
  'plain-http': [Buffer.from('GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n'), false],
  'proxy-v1': [Buffer.concat([Buffer.from('PROXY TCP4 198.51.100.9 198.51.100.1 5000 443\r\n'), clientHello()]), false],
  'proxy-v2': [Buffer.concat([proxyV2(), clientHello()]), false],
  random: [Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)), false],
  'unknown-sni': [clientHello({ sni: 'unknown.invalid' }), false],
};

// "smtp-<mode>": first EHLO and STARTTLS on a plain SMTP port, then <mode>.
const smtp = mode.startsWith('smtp-');
const plan = plans[smtp ? mode.slice(5) : mode];
if (!plan) {
  process.stderr.write(`unknown mode ${mode}; one of ${Object.keys(plans).join(', ')}\n`);
  process.exit(2);
}
const [payload, closeAtOnce] = plan;
const socket = connect({ host, port });
const finish = () => {
  socket.destroy();
  process.exit(0);
};
setTimeout(finish, mode === 'hold' ? 2500 : 1500).unref();
socket.on('error', finish);
socket.on('close', finish);
const start = () => {
  if (payload) socket.write(payload);
  if (closeAtOnce) socket.end();
};
if (smtp) {
  // Greeting → EHLO → 250 → STARTTLS → 220, then the TLS part of the plan.
  let said = '';
  let step = 0;
  socket.on('data', (d) => {
    if (step === 3) return;
    said += d.toString('latin1');
    if (step === 0 && /^220 .*\r\n/m.test(said)) {
      step = 1;
      said = '';
      socket.write('EHLO client.test\r\n');
    } else if (step === 1 && /^250 .*\r\n/m.test(said)) {
      step = 2;
      said = '';
      socket.write('STARTTLS\r\n');
    } else if (step === 2 && /^220 .*\r\n/m.test(said)) {
      step = 3;
      start();
    }
  });
} else {
  socket.on('data', () => {});
  socket.on('connect', start);
}
