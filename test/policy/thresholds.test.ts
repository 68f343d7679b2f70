import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, type Ip } from '../../src/net/address.js';
import { emptyState, observe as observeAll, prune, type Decision, type Observation, type PolicyRules, type PolicyState } from '../../src/policy/thresholds.js';

const MIN = 60_000;
const rules: PolicyRules = {
  maxRetry: 3,
  findTime: 10 * MIN,
  banTime: 60 * MIN,
  protect: [
    { label: 'allow', ranges: [parseCidr('127.0.0.0/8')!, parseCidr('2001:db8:aaaa::/48')!] },
    { label: 'cdn:test', ranges: [parseCidr('203.0.113.0/24')!] },
  ],
};
const ip = (s: string): Ip => parseIp(s)!;

/** The one threshold decision an observation made under these rules (no prefix, breaker or diagnosis rules), or null. */
function observe(state: PolicyState, r: PolicyRules, ev: Observation, now: number): Decision | null {
  const d = observeAll(state, r, ev, now);
  expect(d.length).toBeLessThanOrEqual(1);
  return d[0] ?? null;
}

/** Feeds failures of one address at the given minutes, deciding at each failure's own time. */
function feed(addr: string, minutes: number[], state = emptyState()) {
  return minutes.map((m) => observe(state, rules, { ip: ip(addr), time: m * MIN, reason: 'EOF' }, m * MIN));
}

describe('threshold policy', () => {
  it('bans at the failure that makes maxRetry within findTime', () => {
    const d = feed('198.51.100.7', [0, 1, 2]);
    expect(d.slice(0, 2)).toEqual([null, null]);
    expect(d[2]).toMatchObject({ kind: 'ban', failures: 3, at: 2 * MIN, until: 62 * MIN });
    expect(d[2]!.kind === 'ban' && d[2]!.ip.text).toBe('198.51.100.7');
  });

  it('counts both ends of the window', () => {
    expect(feed('198.51.100.7', [0, 5, 10])[2]).toMatchObject({ kind: 'ban' });
    const justOut = [0, 5, 10].map((m, i) => (i === 0 ? m * MIN - 1 : m * MIN));
    const state = emptyState();
    const d = justOut.map((t) => observe(state, rules, { ip: ip('198.51.100.7'), time: t, reason: 'EOF' }, t));
    expect(d).toEqual([null, null, null]);
  });

  it('slides: old failures drop out of the window', () => {
    expect(feed('198.51.100.7', [0, 6, 12, 18, 24])).toEqual([null, null, null, null, null]);
    expect(feed('198.51.100.7', [0, 6, 12, 13])[3]).toMatchObject({ kind: 'ban', failures: 3 });
  });

  it('ignores failures while banned and starts afresh after the ban', () => {
    const state = emptyState();
    const d = feed('198.51.100.7', [0, 1, 2, 3, 4, 5, 30, 61, 62, 63], state);
    expect(d.map((x) => x?.kind ?? null)).toEqual([null, null, 'ban', null, null, null, null, null, null, null]);
    // The ban (until minute 62) wiped minutes 0–2 and ignored 3–61: 62, 63 and 64 make the next one.
    expect(observe(state, rules, { ip: ip('198.51.100.7'), time: 64 * MIN, reason: 'EOF' }, 64 * MIN)).toMatchObject({
      kind: 'ban',
      at: 64 * MIN,
    });
  });

  it('keeps addresses apart, IPv6 included', () => {
    const state = emptyState();
    const seq: [string, number][] = [['2001:db8::1', 0], ['2001:db8::2', 0], ['2001:db8::1', 1], ['2001:db8::2', 1], ['2001:db8::1', 2]];
    const d = seq.map(([a, m]) => observe(state, rules, { ip: ip(a), time: m * MIN, reason: 'EOF' }, m * MIN));
    expect(d.map((x) => (x ? `${x.kind}:${x.kind === 'diagnosis' ? x.subject : x.ip.text}` : null))).toEqual([null, null, null, null, 'ban:2001:db8::1']);
  });

  it('never bans the allow list or CDN ranges, and says why', () => {
    expect(feed('127.0.0.1', [0, 1, 2])[2]).toMatchObject({ kind: 'spared', by: 'allow', failures: 3 });
    expect(feed('2001:db8:aaaa:1::5', [0, 1, 2])[2]).toMatchObject({ kind: 'spared', by: 'allow' });
    expect(feed('203.0.113.50', [0, 1, 2, 3, 4, 5]).map((x) => x?.kind ?? null)).toEqual([
      null, null, 'spared', null, null, 'spared',
    ]);
  });

  it('bans live at the wall clock while windowing on the lines’ times', () => {
    const state = emptyState();
    const now = 1_000 * MIN;
    const d = [0, 1, 2].map((m) => observe(state, rules, { ip: ip('198.51.100.9'), time: (990 + m) * MIN, reason: 'x' }, now));
    expect(d[2]).toMatchObject({ kind: 'ban', at: now, until: now + 60 * MIN });
  });

  it('prune forgets windows and bans that can no longer matter', () => {
    const state = emptyState();
    feed('198.51.100.1', [0], state);
    feed('198.51.100.2', [0, 1, 2], state);
    feed('198.51.100.3', [50], state);
    prune(state, rules, 55 * MIN);
    expect([...state.windows.keys()]).toEqual(['198.51.100.3']);
    expect([...state.bannedUntil.keys()]).toEqual(['198.51.100.2']);
    prune(state, rules, 63 * MIN);
    expect(state.bannedUntil.size).toBe(0);
  });
});
