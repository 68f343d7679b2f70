const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `22/Nov/2026:02:40:11` (HAProxy, Apache access logs; local time, no zone) →
 * ms since the epoch. The last conversion is remembered, as lines come in bursts.
 */
export function clfTimeParser(): (stamp: string) => number | null {
  let lastStamp = '';
  let lastValue: number | null = null;
  return (stamp) => {
    if (stamp === lastStamp) return lastValue;
    lastStamp = stamp;
    lastValue = null;
    const d = Number(stamp.slice(0, 2));
    const mo = MONTHS.indexOf(stamp.slice(3, 6));
    const y = Number(stamp.slice(7, 11));
    const h = Number(stamp.slice(12, 14));
    const mi = Number(stamp.slice(15, 17));
    const s = Number(stamp.slice(18, 20));
    if (mo >= 0 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60) {
      const date = new Date(y, mo, d, h, mi, s);
      if (date.getDate() === d) lastValue = date.getTime();
    }
    return lastValue;
  };
}

/**
 * `Sun Nov 22 02:40:11.123456 2026` (Apache 2.4 error log, local time) → ms.
 */
export function apacheTimeParser(): (stamp: string) => number | null {
  let lastStamp = '';
  let lastValue: number | null = null;
  const re = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? (\d{4})$/;
  return (stamp) => {
    if (stamp === lastStamp) return lastValue;
    lastStamp = stamp;
    lastValue = null;
    const m = re.exec(stamp);
    if (!m) return null;
    const mo = MONTHS.indexOf(m[1]!);
    const d = Number(m[2]!.trim());
    const h = Number(m[3]);
    const mi = Number(m[4]);
    const s = Number(m[5]);
    const ms = m[6] ? Math.floor(Number(m[6].padEnd(6, '0')) / 1000) : 0;
    if (mo >= 0 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60) {
      const date = new Date(Number(m[7]), mo, d, h, mi, s, ms);
      if (date.getDate() === d) lastValue = date.getTime();
    }
    return lastValue;
  };
}
