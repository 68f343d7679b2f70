/**
 * The prefix a syslog daemon or `journalctl` puts before a program's own line:
 *   Nov 22 01:02:03 host nginx[123]: …                       (BSD syslog, journalctl short)
 *   Nov 22 01:02:03.123456 host nginx[123]: …                (journalctl -o short-precise)
 *   2026-11-22T01:02:03.123456+00:00 host haproxy[77]: …     (rsyslog file format)
 *   2026-11-22T01:02:03+0000 host postfix/smtpd[9]: …        (journalctl -o short-iso)
 * Written by the log daemon, never by the client, so its time and the
 * program's pid can be trusted as far as the daemon itself can.
 */
export interface SyslogPrefix {
  /** Where the program's own text starts. */
  readonly length: number;
  readonly time: number | null;
  /** "nginx", "postfix/smtpd", "dovecot" … */
  readonly tag: string;
  readonly pid: number | null;
}

const PREFIX =
  /^(?:<\d{1,3}>)?(?:([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)(?:\.\d{1,6})?|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)) (?:[^\s]{1,255} )?([A-Za-z_][\w./@-]{0,63})(?:\[(\d{1,10})\])?: /;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

/**
 * A parser for one stream. BSD stamps carry no year: it is taken from `now`
 * (a parameter, so replays and tests decide it), or the year before when the
 * date would be more than a day in the future (a December log read in January).
 */
export function syslogPrefixParser(now: number): (line: string) => SyslogPrefix | null {
  const thisYear = new Date(now).getFullYear();
  let lastStamp = '';
  let lastTime: number | null = null;
  const timeOf = (bsd: string | undefined, iso: string | undefined): number | null => {
    const stamp = bsd ?? iso!;
    if (stamp === lastStamp) return lastTime;
    lastStamp = stamp;
    lastTime = bsd ? bsdTime(bsd, thisYear, now) : isoTime(iso!);
    return lastTime;
  };
  return (line) => {
    // Cheap rejection: a prefix starts with a month name, a year and '-', or a PRI.
    const c = line.charCodeAt(0);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57 && line.charCodeAt(4) === 45) || c === 60)) return null;
    const m = PREFIX.exec(line);
    if (!m) return null;
    return {
      length: m[0].length,
      time: timeOf(m[1], m[2]),
      tag: m[3]!,
      pid: m[4] === undefined ? null : Number(m[4]),
    };
  };
}

function bsdTime(stamp: string, year: number, now: number): number | null {
  const mo = MONTHS.indexOf(stamp.slice(0, 3));
  const d = Number(stamp.slice(4, 6).trim());
  const h = Number(stamp.slice(7, 9));
  const mi = Number(stamp.slice(10, 12));
  const s = Number(stamp.slice(13, 15));
  if (mo < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  let t = new Date(year, mo, d, h, mi, s);
  if (t.getDate() !== d) return null;
  if (t.getTime() > now + DAY_MS) t = new Date(year - 1, mo, d, h, mi, s);
  return t.getTime();
}

function isoTime(stamp: string): number | null {
  // Date.parse wants "+00:00"; journalctl writes "+0000".
  const fixed = stamp.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const t = Date.parse(fixed);
  return Number.isNaN(t) ? null : t;
}
