import { describe, expect, it } from 'vitest';
import { syslogPrefixParser } from '../../src/signatures/syslog-prefix.js';

// TZ=UTC in tests (vitest.config.ts).
describe('syslog and journald prefixes', () => {
  it('reads BSD, high-precision, ISO and journalctl forms, with the tag and pid', () => {
    const p = syslogPrefixParser(Date.UTC(2026, 10, 22, 12));
    expect(p('Nov 22 01:02:03 web nginx[123]: 2026/11/22 …')).toEqual({ length: 32, time: Date.UTC(2026, 10, 22, 1, 2, 3), tag: 'nginx', pid: 123 });
    expect(p('Nov  2 01:02:03.123456 web postfix/smtpd[9]: x')).toMatchObject({ time: Date.UTC(2026, 10, 2, 1, 2, 3), tag: 'postfix/smtpd', pid: 9 });
    expect(p('2026-11-22T01:02:03.5+01:00 lb haproxy[77]: x')).toMatchObject({ time: Date.UTC(2026, 10, 22, 0, 2, 3, 500), tag: 'haproxy', pid: 77 });
    expect(p('2026-11-22T01:02:03+0000 mail dovecot: x')).toMatchObject({ time: Date.UTC(2026, 10, 22, 1, 2, 3), tag: 'dovecot', pid: null });
    expect(p('<13>Nov 22 01:02:03 host tag: x')).toMatchObject({ tag: 'tag' });
  });

  it('gives a year-less stamp the year that puts it in the past', () => {
    const january = syslogPrefixParser(Date.UTC(2027, 0, 2, 12));
    expect(january('Dec 31 23:59:59 h x: y')?.time).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
    expect(january('Jan  2 12:30:00 h x: y')?.time).toBe(Date.UTC(2027, 0, 2, 12, 30));
    expect(january('Feb 30 00:00:00 h x: y')?.time).toBeNull();
  });

  it('is not fooled by lines that are no prefix', () => {
    const p = syslogPrefixParser(Date.UTC(2026, 10, 22));
    for (const line of ['2026/11/22 01:02:03 [info] 1#1: x', '198.51.100.2:5 [22/Nov/2026:01:02:03.000] fe/1: x', '{"level":"debug"}', 'Nov 22 01:02:03', '']) {
      expect(p(line), line).toBeNull();
    }
  });
});
