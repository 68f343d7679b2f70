/**
 * Converts the `YYYY/MM/DD HH:MM:SS` stamp that nginx and Go's log package write
 * (local time, no zone) to ms since the epoch. Consecutive lines mostly share a
 * second, so the last conversion is remembered.
 */
export function slashedLocalTimeParser(): (stamp: string) => number | null {
  let lastStamp = '';
  let lastValue: number | null = null;
  return (stamp) => {
    if (stamp === lastStamp) return lastValue;
    const y = Number(stamp.slice(0, 4));
    const mo = Number(stamp.slice(5, 7));
    const d = Number(stamp.slice(8, 10));
    const h = Number(stamp.slice(11, 13));
    const mi = Number(stamp.slice(14, 16));
    const s = Number(stamp.slice(17, 19));
    let value: number | null = null;
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60) {
      const date = new Date(y, mo - 1, d, h, mi, s);
      // Rejects 2026/02/31 and the like, which Date would roll into March.
      if (date.getDate() === d) value = date.getTime();
    }
    lastStamp = stamp;
    lastValue = value;
    return value;
  };
}
