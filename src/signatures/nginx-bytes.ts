import { addressWords, asciiBytes, asciiStampAt, ByteMemo, bytesAt, isDigitByte, slashedStampAt } from './bytes.js';
import type { Cause } from './causes.js';
import { slashedLocalTimeBytesParser } from './log-time.js';
import { BYTES_DEFER, BYTES_FAILURE, BYTES_NONE, BYTES_UNTRUSTED, type ByteFailure, type Signature } from './types.js';

const CLIENT = asciiBytes(', client: ');
const SERVER = asciiBytes(', server: ');
const WHILE_HANDSHAKING = asciiBytes(' while SSL handshaking');
const REQUEST_MARKER = asciiBytes('client sent ');
const UNIX = asciiBytes('unix:');
const LEVELS = ['info', 'crit', 'error', 'notice', 'warn', 'alert', 'emerg', 'debug'].map(asciiBytes);

/**
 * The nginx signature's judgement (nginx.ts) on an ASCII line in its read
 * buffer, for the lines that make up a busy log: handshake records and the
 * request records that are not "client sent …". Every other shape (a syslog
 * prefix, "client sent …", an address in an unusual form, a next line that
 * does not start with nginx's stamp) is left to the text path.
 *
 * Read from the end, which a handshake record anchors: the listen address
 * (no comma), ", server: ", the address (no comma, space or control
 * character), ", client: ", " while SSL handshaking". The last two commas of
 * the line are therefore those of the server and client fields, exactly the
 * fields the text path finds as the last ", client: ".
 */
export function nginxBytesMatcher(reasonOfMessage: (message: string) => { reason: string; cause: Cause }): NonNullable<Signature['matchBytes']> {
  const parseTime = slashedLocalTimeBytesParser();
  // The message decides the reason and whether a client field was written into it, which only an attacker does.
  const messages = new ByteMemo((message) => ({ ...reasonOfMessage(message), forged: message.includes(', client: ') }));

  return (buf: Buffer, s: number, e: number, ns: number, ne: number, out: ByteFailure): number => {
    if (!slashedStampAt(buf, s, e)) return BYTES_DEFER;
    if (buf[e - 1] === 34) {
      // A record about a request (it ends in a quoted field): only "client sent …" ones matter.
      const msg = head(buf, s);
      return msg >= 0 && bytesAt(buf, msg, REQUEST_MARKER) ? BYTES_DEFER : BYTES_NONE;
    }
    // The last comma, that of ", server: ", with at most 300 characters of listen address after it.
    const lowest = Math.max(s, e - 310);
    let server = e - 1;
    while (server >= lowest && buf[server] !== 44) server--;
    if (server < lowest || !bytesAt(buf, server, SERVER) || !listenAddress(buf, server + 10, e)) return BYTES_NONE;
    let from = server;
    while (from > s && server - from < 65 && addressByte(buf[from - 1]!)) from--;
    const client = from - 10;
    if (server - from < 1 || server - from > 64 || client < s || !bytesAt(buf, client, CLIENT)) return BYTES_NONE;
    const msgEnd = client - WHILE_HANDSHAKING.length;
    if (msgEnd < s || !bytesAt(buf, msgEnd, WHILE_HANDSHAKING)) return BYTES_NONE;
    const msg = head(buf, s);
    if (msg < 0 || msgEnd <= msg || msgEnd - msg > 600) return BYTES_NONE;
    const m = messages.get(buf, msg, msgEnd);
    if (m.forged) return BYTES_UNTRUSTED;
    if (ns >= 0 && !asciiStampAt(buf, ns, ne)) return BYTES_DEFER;
    if (!addressWords(buf, from, server, out)) return BYTES_DEFER;
    out.time = parseTime(buf, s);
    out.reason = m.reason;
    out.cause = m.cause;
    return BYTES_FAILURE;
  };
}

/** [^\x00-\x20,] */
function addressByte(c: number): boolean {
  return c > 32 && c !== 44;
}

/**
 * HEAD of nginx.ts on bytes: after the 19-byte stamp, " [level] pid#tid: "
 * and an optional "*connection "; where the message starts, or -1.
 */
function head(buf: Uint8Array, s: number): number {
  let i = s + 19;
  if (buf[i] !== 32 || buf[i + 1] !== 91) return -1;
  i += 2;
  const level = i;
  while (i - level < 7 && buf[i] !== 93 && buf[i] !== undefined) i++;
  if (buf[i] !== 93 || !isLevel(buf, level, i)) return -1;
  if (buf[++i] !== 32) return -1;
  i = digits(buf, i + 1, 10);
  if (i < 0 || buf[i] !== 35) return -1;
  i = digits(buf, i + 1, 10);
  if (i < 0 || buf[i] !== 58 || buf[i + 1] !== 32) return -1;
  i += 2;
  if (buf[i] !== 42) return i;
  i = digits(buf, i + 1, 20);
  return i < 0 || buf[i] !== 32 ? -1 : i + 1;
}

/** Past 1 to `most` digits at `i`, or -1 (no digit, or more than `most`). */
function digits(buf: Uint8Array, i: number, most: number): number {
  const from = i;
  while (isDigitByte(buf[i])) i++;
  return i === from || i - from > most ? -1 : i;
}

function isLevel(buf: Uint8Array, from: number, to: number): boolean {
  for (const level of LEVELS) if (level.length === to - from && bytesAt(buf, from, level)) return true;
  return false;
}

/** The listen address of TAIL in nginx.ts, to the end of the line: unix:path, [v6]:port, or host:port. */
function listenAddress(buf: Uint8Array, a: number, e: number): boolean {
  if (e - a >= 5 && bytesAt(buf, a, UNIX)) {
    let i = a + 5;
    while (i < e && addressByte(buf[i]!)) i++;
    if (i === e) return true;
  }
  if (buf[a] === 91) {
    let i = a + 1;
    while (i < e && hexColonDot(buf[i]!)) i++;
    const n = i - a - 1;
    if (n >= 2 && n <= 45 && buf[i] === 93) {
      if (++i === e) return true;
      if (buf[i] === 58) {
        const end = digits(buf, i + 1, 5);
        if (end === e) return true;
      }
    }
  }
  let i = a;
  while (i < e && hostByte(buf[i]!)) i++;
  return i === e && e > a;
}

/** [\dA-Fa-f:.] */
function hexColonDot(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
}

/** [\w.:-] */
function hostByte(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;
}
