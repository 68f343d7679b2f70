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
    const d2 = (i: number) => {
      const a = text.charCodeAt(at + i) - 48;
      const b = text.charCodeAt(at + i + 1) - 48;
      return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
    };
    const y = d2(0) * 100 + d2(2);
    const mo = d2(5);
    const d = d2(8);
    const h = d2(11);
    const mi = d2(14);
    const s = d2(17);
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
