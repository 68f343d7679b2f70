/**
 * Converts the `YYYY/MM/DD HH:MM:SS` stamp that nginx and Go's log package write
 * (local time, no zone) at `text[at…]` to ms since the epoch, or null when it
 * is no such date. Lines come in order, so the start of the current hour is
 * remembered and only minutes and seconds are added: a Date per line would
 * cost more than all the rest of the parsing. (Time-zone changes happen on
 * the hour, so adding within an hour is exact.)
 */
export function slashedLocalTimeParser(): (text: string, at?: number) => number | null {
  let lastHour = -1;
  let hourStart: number | null = null;
  return (text, at = 0) => {
    const y = twoDigits(text, at) * 100 + twoDigits(text, at + 2);
    const mo = twoDigits(text, at + 5);
    const d = twoDigits(text, at + 8);
    const h = twoDigits(text, at + 11);
    const mi = twoDigits(text, at + 14);
    const s = twoDigits(text, at + 17);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return null;
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
