import { describe, expect, it } from 'vitest';
import { slashedLocalTimeBytesParser, slashedLocalTimeParser } from '../../src/signatures/log-time.js';

// Tests run with TZ=UTC, the zone these stamps are read in.
describe('slashed local time', () => {
  const cases: [string, number | null][] = [
    ['2026/11/22 02:40:11', Date.UTC(2026, 10, 22, 2, 40, 11)],
    ['1999/12/31 23:59:60', Date.UTC(2000, 0, 1, 0, 0, 0)],
    ['2026/02/31 00:00:00', null],
    ['2026/13/01 00:00:00', null],
    ['2026/11/22 24:00:00', null],
    // Each half of the year must be two digits: "20\r6" once read as 1999 (20 * 100 - 1).
    ['20\r6/11/22 02:40:11', null],
    ['2x26/11/22 02:40:11', null],
    ['2026/11/2', null],
  ];

  it('reads the stamp from text and from bytes alike', () => {
    const text = slashedLocalTimeParser();
    const bytes = slashedLocalTimeBytesParser();
    for (const [stamp, want] of cases) {
      expect(text(stamp), stamp).toBe(want);
      expect(bytes(Buffer.from(`xx${stamp}`, 'latin1'), 2), stamp).toBe(want);
    }
  });

  it('adds minutes and seconds within the remembered hour, and starts again on another', () => {
    const bytes = slashedLocalTimeBytesParser();
    const at = (s: string) => bytes(Buffer.from(s, 'latin1'), 0);
    expect(at('2026/11/22 02:00:00')).toBe(Date.UTC(2026, 10, 22, 2));
    expect(at('2026/11/22 02:59:59')).toBe(Date.UTC(2026, 10, 22, 2, 59, 59));
    expect(at('2026/11/21 02:59:59')).toBe(Date.UTC(2026, 10, 21, 2, 59, 59));
  });
});
