import { addressWords, asciiBytes, asciiStampAt, ByteMemo, bytesAt, bytesWithin, isDigitByte, slashedStampAt } from './bytes.js';
import type { Cause } from './causes.js';
import { slashedLocalTimeBytesParser } from './log-time.js';
import { BYTES_DEFER, BYTES_FAILURE, BYTES_NONE, type ByteFailure, type Signature } from './types.js';

/**
 * The Go signature's judgement (go.ts) on an ASCII line in its read buffer,
 * for the shape a busy log is made of: "YYYY/MM/DD HH:MM:SS " then Go's
 * marker, a plain address and port, and the reason, followed by a line that
 * starts with a stamp too. A line without the marker is none of Go's; every
 * other shape with it (program prefixes, logrus, JSON, syslog, an unusual
 * address) is left to the text path.
 */
export function goBytesMatcher(
  marker: string,
  causeOfReason: (reason: string) => Cause,
  /** causeOfReason of "read tcp A->B: <rest>", from the rest alone (go.ts: the cause is in what follows the addresses). */
  causeOfRest: (rest: string) => Cause,
): NonNullable<Signature['matchBytes']> {
  const MARKER = asciiBytes(marker);
  const parseTime = slashedLocalTimeBytesParser();
  const reasons = new ByteMemo((text) => {
    const reason = text.trim() || 'unknown';
    return { reason, cause: causeOfReason(reason) };
  });
  const rests = new ByteMemo(causeOfRest);

  return (buf: Buffer, s: number, e: number, ns: number, ne: number, out: ByteFailure): number => {
    if (!slashedStampAt(buf, s, e) || !bytesAt(buf, s + 20, MARKER)) return bytesWithin(buf, s, e, MARKER) ? BYTES_DEFER : BYTES_NONE;
    const from = s + 20 + MARKER.length;
    if (buf[from] === 91) {
      // [v6]: the first "]" within 65 characters, with no space or control character before it.
      let close = from + 1;
      while (close < e && close - from <= 65 && buf[close] !== 93) {
        if (buf[close]! <= 32) return BYTES_DEFER;
        close++;
      }
      if (buf[close] !== 93 || close - from > 65 || close === from + 1) return BYTES_DEFER;
      return afterAddress(buf, s, e, ns, ne, close + 1, from + 1, close, out);
    }
    let hostEnd = from;
    while (hostEnd < e && hostEnd - from <= 64 && buf[hostEnd] !== 58) {
      const c = buf[hostEnd]!;
      if (c <= 32 || c === 91 || c === 93) return BYTES_DEFER;
      hostEnd++;
    }
    if (buf[hostEnd] !== 58 || hostEnd === from || hostEnd - from > 64) return BYTES_DEFER;
    return afterAddress(buf, s, e, ns, ne, hostEnd, from, hostEnd, out);
  };

  /** ":port: reason" after the address `buf[a…b)`, whose text ends at `hostEnd`. */
  function afterAddress(buf: Buffer, s: number, e: number, ns: number, ne: number, hostEnd: number, a: number, b: number, out: ByteFailure): number {
    if (buf[hostEnd] !== 58) return BYTES_DEFER;
    let i = hostEnd + 1;
    const port = i;
    while (i - port < 5 && isDigitByte(buf[i])) i++;
    if (i === port || buf[i] !== 58 || buf[i + 1] !== 32 || e - (i + 2) > 1000) return BYTES_DEFER;
    // Followed by a line that does not start with a stamp: the text path knows the other record starts.
    if (ns >= 0 && !asciiStampAt(buf, ns, ne)) return BYTES_DEFER;
    if (!addressWords(buf, a, b, out)) return BYTES_DEFER;
    const r = i + 2;
    // "read tcp A->B: …" is unique per line (its addresses): its cause is remembered by what
    // follows them, found here on the bytes (the text path finds it with IO_PREFIX, go.ts).
    if (buf[r] === 114 || buf[r] === 119) {
      // The reason without its trailing blanks, as trim() leaves an ASCII text (it starts with r or w:
      // no leading ones, and never empty).
      let end = e;
      while (end > r && isSpaceByte(buf[end - 1]!)) end--;
      out.reason = buf.toString('latin1', r, end);
      const io = ioPrefixBytes(buf, r, e);
      out.cause = io > 0 && r + io < end ? rests.get(buf, r + io, end) : causeOfReason(out.reason);
    } else {
      const m = reasons.get(buf, r, e);
      out.reason = m.reason;
      out.cause = m.cause;
    }
    out.time = parseTime(buf, s);
    return BYTES_FAILURE;
  }
}

const READ = asciiBytes('read ');
const WRITE = asciiBytes('write ');
const TCP = asciiBytes('tcp ');
const UDP = asciiBytes('udp ');

/** \s on ASCII. */
function isSpaceByte(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * IO_PREFIX of go.ts (/^(?:read|write) (?:tcp|udp) \S{1,120}: /) on the bytes
 * buf[r…e): the length of what it matches, or 0. The \S run after the
 * protocol ends at the first blank; the match needs that run to end in ':',
 * be 2 to 121 characters long, and the blank to be a space.
 */
function ioPrefixBytes(buf: Uint8Array, r: number, e: number): number {
  const verb = bytesAt(buf, r, READ) ? READ.length : bytesAt(buf, r, WRITE) ? WRITE.length : 0;
  if (verb === 0) return 0;
  const p = r + verb;
  if (!bytesAt(buf, p, TCP) && !bytesAt(buf, p, UDP)) return 0;
  const from = p + TCP.length;
  let i = from;
  while (i < e && i - from <= 121 && !isSpaceByte(buf[i]!)) i++;
  const run = i - from;
  if (i >= e || buf[i] !== 32 || run < 2 || run > 121 || buf[i - 1] !== 58) return 0;
  return i + 1 - r;
}
