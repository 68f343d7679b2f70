import { describe, expect, it } from 'vitest';
import { diffMembers, elementText, timeoutDrifted, type KernelMember } from '../../src/firewall/members.js';
import { Mirror } from '../../src/firewall/mirror.js';
import { parseCidr, type Cidr } from '../../src/net/address.js';

const net = (s: string) => parseCidr(s)!;
const k = (set: string, text: string, remainingMs: number | null): KernelMember => ({ set, family: text.includes(':') ? 6 : 4, text, remainingMs });
const want = (set: string, s: string, ttlMs: number | null) => ({ set, entry: { net: net(s), ttlMs } });

describe('diffMembers', () => {
  it('adds the missing, removes the unknown, refreshes drifted timeouts, leaves the rest', () => {
    const d = diffMembers(
      [k('v4', '198.51.100.1', 3_599_000), k('v4', '198.51.100.2', 60_000), k('v4', '198.51.100.3', null), k('v6', '2001:db8::1', 10_000), k('v4net', '198.51.100.9', 5000)],
      [want('v4', '198.51.100.1', 3_600_000), want('v4', '198.51.100.2', 3_600_000), want('v4', '198.51.100.3', null), want('v6', '2001:db8::2', 1000), want('v4', '198.51.100.9', 5000)],
    );
    expect(d.add.map((p) => p.entry.net.text)).toEqual(['2001:db8::2', '198.51.100.9']);
    expect(d.refresh.map((p) => p.entry.net.text)).toEqual(['198.51.100.2']);
    expect(d.remove.map((r) => `${r.set} ${r.net.text}`)).toEqual(['v6 2001:db8::1', 'v4net 198.51.100.9']);
    expect(d.unreadable.size).toBe(0);
  });

  it('matches a member the kernel writes in another form, and counts what is no member of the family', () => {
    const d = diffMembers(
      [k('v6', '2001:0db8::0001', 60_000), { set: 'v6', family: 6, text: '::ffff:198.51.100.9', remainingMs: null }, k('v4', 'nonsense', null), k('v4', '198.51.100.1 }', null)],
      [want('v6', '2001:db8::1', 60_000)],
    );
    expect(d.add).toEqual([]);
    expect(d.refresh).toEqual([]);
    expect(d.remove).toEqual([]);
    expect([...d.unreadable]).toEqual([['v6', 1], ['v4', 2]]);
  });

  it('treats permanence and timeouts as different, and a few seconds as noise', () => {
    expect(timeoutDrifted(null, 1000)).toBe(true);
    expect(timeoutDrifted(1000, null)).toBe(true);
    expect(timeoutDrifted(null, null)).toBe(false);
    expect(timeoutDrifted(3_596_000, 3_600_000)).toBe(false);
    expect(timeoutDrifted(3_500_000, 3_600_000)).toBe(true);
    // 1 % of a week is 1.7 h.
    expect(timeoutDrifted(604_800_000 - 3_600_000, 604_800_000)).toBe(false);
  });

  it('compares a ban longer than the kernel allows with the cap, so it is set again before it runs out', () => {
    const cap = 2_147_483_000;
    expect(timeoutDrifted(cap, 30 * 86_400_000, cap)).toBe(false);
    expect(timeoutDrifted(cap - 60_000, 30 * 86_400_000, cap)).toBe(false);
    expect(timeoutDrifted(cap - 86_400_000, 30 * 86_400_000, cap)).toBe(true);
  });

  it('elementText passes normalised addresses and refuses anything else', () => {
    expect(elementText(net('2001:db8::/32'))).toBe('2001:db8::/32');
    expect(() => elementText({ family: 4, text: '1.2.3.4 }', prefix: 32 } as unknown as Cidr)).toThrow(/refusing/);
  });
});

describe('Mirror', () => {
  it('knows nothing until reset, then tells surely-absent members apart', () => {
    let now = 1_000_000;
    const m = new Mirror(() => now);
    expect(m.surelyAbsent('v4', net('198.51.100.1'))).toBe(false);
    expect(m.view()).toBeNull();
    m.reset([want('v4', '198.51.100.1', 10_000), want('v4', '198.51.100.2', null)]);
    expect(m.surelyAbsent('v4', net('198.51.100.1'))).toBe(false);
    expect(m.surelyAbsent('v4', net('198.51.100.3'))).toBe(true);
    m.applied([want('v4', '198.51.100.3', 1000)], [{ set: 'v4', net: net('198.51.100.2') }]);
    expect(m.surelyAbsent('v4', net('198.51.100.3'))).toBe(false);
    expect(m.surelyAbsent('v4', net('198.51.100.2'))).toBe(true);
    now += 15_000;
    // Past its end, but a kernel timeout left alone by a reconcile may be up to max(5 s, 1 %) longer.
    expect(m.surelyAbsent('v4', net('198.51.100.1'))).toBe(false);
    now += 5_000;
    expect(m.surelyAbsent('v4', net('198.51.100.1'))).toBe(true);
    expect(m.view()!.map((x) => x.text)).toEqual([]);
    m.forget();
    expect(m.surelyAbsent('v4', net('198.51.100.9'))).toBe(false);
  });

  it('updates in place on reset: members no longer placed are gone, a member moved to another set is there', () => {
    const now = 1_000_000;
    const m = new Mirror(() => now);
    m.reset([want('v4', '198.51.100.1', 10_000), want('v4', '198.51.100.2', 10_000), want('v4', '198.51.100.9', null)]);
    m.reset([want('v4', '198.51.100.1', 20_000), want('v4net', '198.51.100.9', null)]);
    expect(m.view()!.map((x) => [x.set, x.text, x.remainingMs])).toEqual([
      ['v4', '198.51.100.1', 20_000],
      ['v4net', '198.51.100.9', null],
    ]);
    expect(m.surelyAbsent('v4', net('198.51.100.2'))).toBe(true);
    // In another set than the one asked about: surely not in this one.
    expect(m.surelyAbsent('v4', net('198.51.100.9'))).toBe(true);
    expect(m.surelyAbsent('v4net', net('198.51.100.9'))).toBe(false);
    // A removal from a set the member is not in leaves it.
    m.applied([], [{ set: 'v4', net: net('198.51.100.9') }]);
    expect(m.surelyAbsent('v4net', net('198.51.100.9'))).toBe(false);
  });

  it('lists lazily, anew at each pass, as the kernel would at that moment', () => {
    let now = 1_000_000;
    const m = new Mirror(() => now);
    expect(m.listing()).toBeNull();
    m.reset([want('v4', '198.51.100.1', 10_000), want('v6', '2001:db8::1', 60_000)]);
    const listing = m.listing()!;
    expect([...listing].map((x) => x.remainingMs)).toEqual([10_000, 60_000]);
    now += 20_000;
    expect([...listing].map((x) => [x.text, x.remainingMs])).toEqual([['2001:db8::1', 40_000]]);
  });
});
