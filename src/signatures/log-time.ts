/**
 * Converts the `YYYY/MM/DD HH:MM:SS` stamp that nginx and Go's log package write
 * (local time, no zone) at `text[at…]` to ms since the epoch, or null when it
 * is no such date. Lines come in order, so the start of the current hour is
 * remembered and only minutes and seconds are added: a Date per line would
 * cost more than all the rest of the parsing. (Time-zone changes happen on
 * the hour, so adding within an hour is exact.)
 */
export function slashedLocalTimeParser(): (text: string, at?: number) => number | null {
  const read = slashedStampReader(twoDigits);
  return (text, at = 0) => read(text, at);
}

/** slashedLocalTimeParser for the stamp at `buf[at…]` of an ASCII line read as bytes. */
export function slashedLocalTimeBytesParser(): (buf: Uint8Array, at: number) => number | null {
  return slashedStampReader(twoDigitBytes);
}

/** The `YYYY/MM/DD HH:MM:SS` stamp at `at` of a line, its fields read by `two` (text or bytes), to ms. */
function slashedStampReader<L>(two: (line: L, i: number) => number): (line: L, at: number) => number | null {
  const clock = localClock();
  return (line, at) => clock(two(line, at), two(line, at + 2), two(line, at + 5), two(line, at + 8), two(line, at + 11), two(line, at + 14), two(line, at + 17));
}

/** Local date and time fields (-1: not two digits) to ms since the epoch, remembering the current hour's start. */
function localClock(): (century: number, yy: number, mo: number, d: number, h: number, mi: number, s: number) => number | null {
  let lastHour = -1;
  let hourStart: number | null = null;
  return (century, yy, mo, d, h, mi, s) => {
    const y = century * 100 + yy;
    if (century < 0 || yy < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return null;
    const hour = ((y * 100 + mo) * 100 + d) * 100 + h;
    if (hour !== lastHour) {
      lastHour = hour;
      const date = new Date(y, mo - 1, d, h, 0, 0);
      // Rejects 2026/02/31 and the like, which Date would roll into March.
      hourStart = date.getDate() === d && date.getHours() === h ? date.getTime() : null;
    }
    return hourStart === null ? null : hourStart + mi * 60_000 + s * 1000;
  };
}

/**
 * The two decimal digits at `i`, or -1. A plain function, not a closure made
 * per call: this runs for every failure. (Past the end charCodeAt is NaN, and
 * every comparison with NaN is false, so that is -1 too.)
 */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** twoDigits for bytes (past the end a Uint8Array reads undefined, which compares false too). */
function twoDigitBytes(buf: Uint8Array, i: number): number {
  const a = buf[i]! - 48;
  const b = buf[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}
