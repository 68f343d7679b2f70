/**
 * Each policy rule on its own, with time passed in: cause weights,
 * escalation, IPv6 prefixes, never-ban groups, the storm breaker and the
 * proxy diagnosis, and what restore/forget do to them.
 */
import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp, type Cidr, type Ip } from '../../src/net/address.js';
import { banDuration, recentBans } from '../../src/policy/escalation.js';
import {
  advance,
  emptyState,
  forgetWithin,
  observe,
  prune,
  restore,
  type Decision,
  type Observation,
  type PolicyRules,
  type PolicyState,
} from '../../src/policy/thresholds.js';
import type { Cause } from '../../src/signatures/causes.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const ip = (s: string): Ip => parseIp(s)!;
const net = (s: string): Cidr => parseCidr(s)!;

const base: PolicyRules = {
  maxRetry: 3,
  findTime: 10 * MIN,
  banTime: H,
  protect: [
    { label: 'loopback', ranges: [net('127.0.0.0/8'), net('::1')], hard: true },
    { label: 'allow', ranges: [net('198.51.100.200')] },
    { label: 'trusted-proxy', ranges: [net('10.9.9.9')] },
    { label: 'cdn:test', ranges: [net('203.0.113.0/24'), net('2001:db8:cd::/48')] },
  ],
  causeWeights: { 'cert-rejected': 0 },
};

function fail(state: PolicyState, rules: PolicyRules, addr: string, t: number, cause?: Cause): readonly Decision[] {
  const ev: Observation = { ip: ip(addr), time: t, reason: cause ?? 'EOF', ...(cause ? { cause } : {}) };
  return observe(state, rules, ev, t);
}
const kinds = (ds: readonly Decision[]) => ds.map((d) => d.kind);
const bans = (ds: readonly Decision[]) => ds.filter((d): d is Extract<Decision, { kind: 'ban' }> => d.kind === 'ban');

describe('cause weights', () => {
  it('a client refusing our certificate (weight 0) is never banned, however often', () => {
    const s = emptyState();
    const out = Array.from({ length: 50 }, (_, i) => fail(s, base, '198.51.100.7', i * S, 'cert-rejected')).flat();
    expect(out).toEqual([]);
    expect(s.windows.has('198.51.100.7')).toBe(false);
  });

  it('a weight-0 failure does not count, others do (default weight 1)', () => {
    const s = emptyState();
    fail(s, base, '198.51.100.7', 0, 'eof');
    fail(s, base, '198.51.100.7', S, 'cert-rejected');
    fail(s, base, '198.51.100.7', 2 * S, 'bad-key-share');
    expect(bans(fail(s, base, '198.51.100.7', 3 * S, 'eof'))).toHaveLength(1);
  });

  it('a weight-2 failure counts twice', () => {
    const rules = { ...base, causeWeights: { 'cert-rejected': 0, 'bad-key-share': 2 } };
    const s = emptyState();
    expect(fail(s, rules, '198.51.100.7', 0, 'bad-key-share')).toEqual([]);
    const [d] = bans(fail(s, rules, '198.51.100.7', S, 'eof'));
    expect(d).toMatchObject({ failures: 3, at: S });
  });

  it('without a cause (an old format) every failure weighs 1', () => {
    const s = emptyState();
    fail(s, base, '198.51.100.7', 0);
    fail(s, base, '198.51.100.7', S);
    expect(bans(fail(s, base, '198.51.100.7', 2 * S))).toHaveLength(1);
  });
});

describe('escalation of repeat offenders', () => {
  const esc = { factor: 2, maxBanTime: 8 * H, rememberFor: 30 * D };
  const rules = { ...base, escalation: esc };

  it('banTime × factor^(n-1), capped at maxBanTime', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => banDuration(H, esc, n) / H)).toEqual([1, 2, 4, 8, 8, 8]);
    expect(banDuration(H, undefined, 5)).toBe(H);
    expect(banDuration(H, { ...esc, factor: 1 }, 4)).toBe(H);
    expect(banDuration(H, { ...esc, maxBanTime: 10 * MIN }, 3)).toBe(H);
  });

  it('counts only bans within rememberFor', () => {
    expect(recentBans([0, 10 * D, 29 * D], 30 * D, 30 * D)).toBe(2);
    expect(recentBans(undefined, 30 * D, 0)).toBe(0);
  });

  it('each new ban of the same address lasts longer, and the reason says why', () => {
    const s = emptyState();
    const durations: number[] = [];
    let t = 0;
    for (let round = 0; round < 5; round++) {
      let ban: Extract<Decision, { kind: 'ban' }> | undefined;
      for (let i = 0; i < 3; i++, t += S) ban = bans(fail(s, rules, '198.51.100.9', t))[0] ?? ban;
      expect(ban, `round ${round}`).toBeDefined();
      durations.push(ban!.until - ban!.at);
      expect(ban!.offence).toBe(round + 1);
      if (round > 0) expect(ban!.reason).toMatch(new RegExp(`ban ${round + 1} within 30d: ${[2, 4, 8, 8][round - 1]}h$`));
      t = ban!.until; // the next failures come once this ban has ended
    }
    expect(durations.map((d) => d / H)).toEqual([1, 2, 4, 8, 8]);
  });

  it('forgets offences older than rememberFor (prune) and after an unban (forgetWithin)', () => {
    const s = emptyState();
    for (let i = 0; i < 3; i++) fail(s, rules, '198.51.100.9', i * S);
    prune(s, rules, 31 * D);
    expect(s.history.size).toBe(0);
    const [first] = bans([0, 1, 2].flatMap((i) => fail(s, rules, '198.51.100.9', 31 * D + i * S)));
    expect(first!.offence).toBe(1);
    forgetWithin(s, net('198.51.100.0/24'));
    expect(s.history.size + s.bannedUntil.size + s.windows.size).toBe(0);
  });

  it('restore brings back past bans, so a restart does not reset a repeat offender', () => {
    const s = emptyState();
    restore(s, rules, { bans: [], history: new Map([['198.51.100.9', [D, 2 * D]]]), failures: [] });
    const [b] = bans([0, 1, 2].flatMap((i) => fail(s, rules, '198.51.100.9', 3 * D + i * S)));
    expect(b).toMatchObject({ offence: 3, until: 3 * D + 2 * S + 4 * H });
  });
});

describe('IPv6 prefixes', () => {
  const rules: PolicyRules = { ...base, ipv6: { prefixLength: 64, maxRetry: 6, maxAddresses: 4 } };

  it('bans the whole /64 when enough of its addresses fail, listed as the prefix', () => {
    const s = emptyState();
    const out = [1, 2, 3, 4].flatMap((n, i) => fail(s, rules, `2001:db8:77:1::${n}`, i * S));
    const [b] = bans(out);
    expect(b).toMatchObject({ failures: 4, at: 3 * S, until: 3 * S + H });
    expect(b!.net.text).toBe('2001:db8:77:1::/64');
    expect(b!.reason).toMatch(/^4 addresses of 2001:db8:77:1::\/64 failed 4 handshakes within 10m/);
    // Failures inside the banned prefix count for nothing while it lasts.
    expect(fail(s, rules, '2001:db8:77:1::99', 10 * S)).toEqual([]);
    expect(fail(s, rules, '2001:db8:77:1::99', 11 * S)).toEqual([]);
    expect(fail(s, rules, '2001:db8:77:1::99', 12 * S)).toEqual([]);
  });

  it('bans the prefix on total failures too, before any one address reaches maxRetry', () => {
    const s = emptyState();
    const seq = ['::1', '::2', '::1', '::2', '::3', '::3'].map((a) => `2001:db8:77:2${a}`);
    const out = seq.flatMap((a, i) => fail(s, { ...rules, maxRetry: 5 }, a, i * S));
    expect(bans(out).map((b) => b.net.text)).toEqual(['2001:db8:77:2::/64']);
  });

  it('an address ban still happens first when one address alone reaches maxRetry', () => {
    const s = emptyState();
    const out = [0, 1, 2].flatMap((i) => fail(s, rules, '2001:db8:77:3::1', i * S));
    expect(bans(out).map((b) => b.net.text)).toEqual(['2001:db8:77:3::1']);
  });

  it('keeps prefixes apart, and IPv4 is never aggregated', () => {
    const s = emptyState();
    const v6 = [1, 2, 3].flatMap((n, i) => fail(s, rules, `2001:db8:77:${n}::1`, i * S));
    const v4 = [1, 2, 3, 4, 5].flatMap((n, i) => fail(s, rules, `198.51.100.${n}`, i * S));
    expect([...v6, ...v4]).toEqual([]);
  });

  it('a prefix that holds a protected address is spared, not banned', () => {
    const s = emptyState();
    const out = [1, 2, 3, 4].flatMap((n, i) => fail(s, rules, `2001:db8:cd:5::${n}`, i * S));
    expect(out.map((d) => (d.kind === 'spared' ? `${d.kind} ${d.net.text} ${d.by}` : d.kind))).toContain(
      'spared 2001:db8:cd:5::/64 cdn:test',
    );
    expect(bans(out)).toEqual([]);
  });

  it('IPv4-mapped IPv6 counts as the IPv4 address', () => {
    const s = emptyState();
    fail(s, rules, '::ffff:198.51.100.77', 0);
    fail(s, rules, '198.51.100.77', S);
    const [b] = bans(fail(s, rules, '::ffff:c633:644d', 2 * S));
    expect(b!.net.text).toBe('198.51.100.77');
  });
});

describe('never-ban groups', () => {
  it('spares loopback, allow list, trusted proxies and CDNs with the first group that holds them and a note', () => {
    const s = emptyState();
    const spared = (addr: string) => [0, 1, 2].flatMap((i) => fail(s, base, addr, i * S)).find((d) => d.kind === 'spared');
    expect(spared('127.0.0.1')).toMatchObject({ by: 'loopback' });
    expect(spared('198.51.100.200')).toMatchObject({ by: 'allow', note: 'allow-listed — never banned' });
    expect(spared('10.9.9.9')).toMatchObject({ by: 'trusted-proxy' });
    expect(spared('203.0.113.5')).toMatchObject({ by: 'cdn:test', note: 'via CDN — not banned; restrict the origin to the CDN instead' });
    expect(spared('::1')).toMatchObject({ by: 'loopback' });
  });
});

describe('storm breaker', () => {
  const breaker = { window: MIN, maxAddresses: 50, certRejectedShare: 0.25, minFailures: 20, cooldown: 5 * MIN };
  const rules: PolicyRules = { ...base, breaker };
  const addr = (i: number) => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;

  it('trips when failures come from more addresses than maxAddresses, holds bans, and resumes after a calm cooldown', () => {
    const s = emptyState();
    const out: Decision[] = [];
    // 60 addresses within 30 s, each failing 3 times (maxRetry): every one would be banned.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 60; i++) out.push(...fail(s, rules, addr(i), round * 10 * S + i * 100));
    const storms = out.filter((d) => d.kind === 'diagnosis' && d.code === 'storm');
    expect(storms).toHaveLength(1);
    expect(storms[0]).toMatchObject({ level: 'warn', subject: 'breaker', evidence: { addresses: 50, window: '1m' } });
    // Each address fails once per round, so the 50th address trips it in round 1, before
    // anyone reaches maxRetry in round 3: no ban, every would-be ban held.
    expect(bans(out)).toEqual([]);
    expect(out.filter((d) => d.kind === 'held')).toHaveLength(60);
    expect(s.breaker).toMatchObject({ tripped: true, held: 60 });

    // Quiet: nothing resumes until `cooldown` has passed since the last stormy moment…
    expect(advance(s, rules, 3 * MIN)).toEqual([]);
    const over = advance(s, rules, 26 * S + 5 * MIN);
    expect(over).toMatchObject([{ kind: 'diagnosis', code: 'storm-over', level: 'info' }]);
    expect(s.breaker.tripped).toBe(false);
    // …then bans resume.
    const t = 10 * MIN;
    expect(bans([0, 1, 2].flatMap((i) => fail(s, rules, '198.51.100.9', t + i * S)))).toHaveLength(1);
  });

  it('trips on a large share of cert-rejected failures (an expired certificate), well below maxAddresses', () => {
    const s = emptyState();
    const r = { ...rules, causeWeights: {} }; // even if cert-rejected counted, nobody is banned
    const out: Decision[] = [];
    // 30 users whose clients retry, half refusing the certificate, half just closing: the
    // window holds minFailures long before any one of them reaches maxRetry.
    for (let i = 0; i < 120; i++) out.push(...fail(s, r, addr(i % 30), i * 400, i % 2 ? 'cert-rejected' : 'eof'));
    expect(out.filter((d) => d.kind === 'diagnosis').map((d) => d.kind === 'diagnosis' && d.code)).toEqual(['storm']);
    expect(bans(out)).toEqual([]);
    const storm = out.find((d) => d.kind === 'diagnosis')!;
    expect(storm.kind === 'diagnosis' && storm.message).toMatch(/clients rejecting the certificate/);
  });

  it('does not trip below the thresholds, and says the storm continues at most once per period', () => {
    const s = emptyState();
    const calm: Decision[] = [];
    for (let i = 0; i < 40; i++) calm.push(...fail(s, rules, addr(i), i * S, i % 10 === 0 ? 'cert-rejected' : 'eof'));
    expect(calm.filter((d) => d.kind === 'diagnosis')).toEqual([]);

    const s2 = emptyState();
    const storm: Decision[] = [];
    // One new address every 100 ms for 2 hours: a storm that goes on.
    for (let t = 0; t < 2 * H; t += 100) storm.push(...fail(s2, { ...rules, diagnosis: { trustedProxies: [], period: H, window: 10 * MIN } }, addr(Math.floor(t / 100) % 3000), t));
    expect(storm.filter((d) => d.kind === 'diagnosis').map((d) => d.kind === 'diagnosis' && d.message.slice(0, 15))).toEqual([
      'storm: 50 diffe',
      'storm continues',
    ]);
  });
});

describe('proxy diagnosis', () => {
  const rules: PolicyRules = { ...base, diagnosis: { trustedProxies: [net('10.9.9.9')], period: H, window: 10 * MIN } };
  const diags = (ds: Decision[]) => ds.filter((d): d is Extract<Decision, { kind: 'diagnosis' }> => d.kind === 'diagnosis');

  it('raises the PROXY-protocol diagnosis for protocol-mismatch failures from a trusted proxy, once per period', () => {
    const s = emptyState();
    const out = Array.from({ length: 20 }, (_, i) => fail(s, rules, '10.9.9.9', i * MIN, 'protocol-mismatch')).flat();
    const d = diags(out);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'proxy-protocol', subject: '10.9.9.9', at: 2 * MIN, evidence: { kind: 'trusted proxy', protocolMismatch: 3 } });
    expect(d[0]!.message).toContain('enable proxy_protocol on the listener, or disable it on the proxy');
    expect(d[0]!.message).toContain('transport.proxyProtocolVersion');
    // An hour later it is said again.
    expect(diags([0, 1, 2].flatMap((i) => fail(s, rules, '10.9.9.9', 2 * MIN + H + i * S, 'protocol-mismatch')))).toHaveLength(1);
    expect(bans(out)).toEqual([]);
  });

  it('also when most failures come from loopback (sslh, a tunnel), whatever their cause', () => {
    const s = emptyState();
    const out: Decision[] = [];
    for (let i = 0; i < 12; i++) out.push(...fail(s, rules, '127.0.0.1', i * S, 'eof'));
    out.push(...fail(s, rules, '198.51.100.5', 13 * S, 'eof'));
    const [d] = diags(out);
    expect(d).toMatchObject({ subject: '127.0.0.1', evidence: { kind: 'loopback', failures: 10, sharePercent: 100 } });
    expect(bans(out)).toEqual([]);
  });

  it('tells to list a private address as a trusted proxy, and bans it meanwhile like any other', () => {
    const s = emptyState();
    const out = [0, 1, 2].flatMap((i) => fail(s, rules, '192.168.1.5', i * S, 'protocol-mismatch'));
    expect(diags(out)[0]!.message).toMatch(/add 192\.168\.1\.5 to policy\.trustedProxies/);
    expect(bans(out)).toHaveLength(1);
  });

  it('says nothing about public addresses sending non-TLS bytes (scanners do that)', () => {
    const s = emptyState();
    const out = Array.from({ length: 30 }, (_, i) => fail(s, rules, '198.51.100.5', i * S, 'protocol-mismatch')).flat();
    expect(diags(out)).toEqual([]);
  });
});

describe('restore after a restart', () => {
  it('weighs restored failures by cause, skips those a ban wiped, and restores network bans', () => {
    const rules: PolicyRules = { ...base, ipv6: { prefixLength: 64, maxRetry: 6, maxAddresses: 4 } };
    const s = emptyState();
    restore(s, rules, {
      bans: [{ net: net('2001:db8:9::/64'), until: H }],
      failures: [
        { ip: ip('198.51.100.1'), at: 0, cause: 'cert-rejected' },
        { ip: ip('198.51.100.1'), at: S, cause: 'eof' },
        { ip: ip('198.51.100.2'), at: 0, cause: 'eof' },
        { ip: ip('198.51.100.2'), at: S, cause: 'eof' },
      ],
      banEnds: new Map([['198.51.100.2', 2 * S]]),
    });
    expect(s.windows.get('198.51.100.1')).toEqual([S]);
    expect(s.windows.has('198.51.100.2')).toBe(false);
    expect(fail(s, rules, '2001:db8:9::5', 10 * S)).toEqual([]);
  });
});
