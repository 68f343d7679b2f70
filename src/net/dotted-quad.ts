/*
 * A strict dotted quad (no leading zeros, each part at most 255: exactly what
 * parseIp accepts as IPv4) read one character code at a time, so that the
 * readers of text (signatures/memo.ts) and of bytes (signatures/bytes.ts)
 * share one grammar. In 32-bit integer arithmetic throughout: a number past
 * 2^31 would be a heap number, an allocation per address. Module state rather
 * than an object: it runs for every failure, and reads one quad at a time.
 */
let n = 0;
let part = 0;
let digits = 0;
let dots = 0;

/** Starts reading a quad of `length` characters; false when no quad is that long. */
export function quadStart(length: number): boolean {
  n = 0;
  part = 0;
  digits = 0;
  dots = 0;
  return length >= 7 && length <= 15;
}

/** Reads the next character code; false when the text is no quad. */
export function quadChar(c: number): boolean {
  if (c === 46) {
    if (digits === 0 || ++dots > 3) return false;
    n = (n << 8) | part;
    part = 0;
    digits = 0;
    return true;
  }
  if (c < 48 || c > 57) return false;
  if (digits === 1 && part === 0) return false; // a leading zero
  part = part * 10 + (c - 48);
  return ++digits <= 3 && part <= 255;
}

/** After the last character: whether it was a quad. */
export function quadEnd(): boolean {
  return digits !== 0 && dots === 3;
}

/** The number of the quad quadEnd accepted, as a signed 32-bit integer. */
export function quadNumber(): number {
  return (n << 8) | part;
}
