import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addLines, createLine, delLines, iptablesCommand, maxElemFor, replaceLines, ruleArgs, setName } from '../../src/firewall/ipset-script.js';
import { ourRules, readIpsetSave, splitWords } from '../../src/firewall/ipset-state.js';
import { parseCidr, type Cidr } from '../../src/net/address.js';

/** Real `ipset save` and `iptables-nft -S` output (ipset 7.17, iptables 1.8.9), captured in a namespace. */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const net = (s: string) => parseCidr(s)!;
const o = { table: 'blocker', action: 'drop' as const, forwardHook: true, maxElem: 1 << 20, iptables: 'auto' as const };

describe('ipset scripts', () => {
  it('names our sets after the table and picks the iptables of the config', () => {
    expect(setName('blocker', 4)).toBe('blocker_v4');
    expect(() => setName('x y', 4)).toThrow(/invalid ipset name/);
    expect(() => setName('a'.repeat(28), 6)).toThrow(/invalid ipset name/);
    expect([iptablesCommand(o, 4), iptablesCommand({ iptables: 'legacy' }, 6), iptablesCommand({ iptables: 'nft' }, 4)]).toEqual([
      'iptables',
      'ip6tables-legacy',
      'iptables-nft',
    ]);
  });

  it('writes timeouts in whole seconds rounded up, 0 for forever, capped at ipset\'s longest', () => {
    expect(addLines('blocker_v4', [{ net: net('198.51.100.7'), ttlMs: 1500 }, { net: net('198.51.100.0/24'), ttlMs: null }, { net: net('198.51.100.9'), ttlMs: 90 * 86_400_000 }])).toEqual([
      'add blocker_v4 198.51.100.7 timeout 2',
      'add blocker_v4 198.51.100.0/24 timeout 0',
      'add blocker_v4 198.51.100.9 timeout 2147483',
    ]);
    expect(delLines('blocker_v6', [net('2001:db8::/64')])).toEqual(['del blocker_v6 2001:db8::/64']);
    expect(() => addLines('blocker_v4', [{ net: { family: 4, text: '1.2.3.4\ndestroy' } as unknown as Cidr, ttlMs: 1 }])).toThrow(/refusing/);
  });

  it('sizes maxelem from the config with headroom, never the silent 65536 default', () => {
    expect(maxElemFor(o, 10)).toBe(1 << 20);
    expect(maxElemFor({ maxElem: 1024 }, 100_000)).toBe(200_000);
    expect(createLine('blocker_v6', 6, 200_000, 100_000)).toBe('create blocker_v6 hash:net family inet6 hashsize 131072 maxelem 200000 timeout 0');
  });

  it('replaces a set by filling a new one and swapping it in', () => {
    expect(replaceLines('blocker', 4, [{ net: net('198.51.100.7'), ttlMs: null }], 4096)).toEqual([
      'destroy blocker_v4n',
      'create blocker_v4n hash:net family inet hashsize 1024 maxelem 4096 timeout 0',
      'add blocker_v4n 198.51.100.7 timeout 0',
      'swap blocker_v4n blocker_v4',
      'destroy blocker_v4n',
    ]);
  });

  it('builds our rule as iptables -S prints it back', () => {
    expect(ruleArgs(o, 4).join(' ')).toBe('-m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP');
    expect(ruleArgs({ ...o, action: 'reject' }, 6).slice(-4)).toEqual(['-j', 'REJECT', '--reject-with', 'icmp6-port-unreachable']);
  });
});

describe('reading ipset and iptables back', () => {
  it('reads the header and every member with its time left', () => {
    const v4 = readIpsetSave(fixture('ipset-save-v4.txt'), 'blocker_v4', 4)!;
    expect(v4.header).toEqual({ type: 'hash:net', family: 'inet', maxElem: 1_048_576, timeouts: true, extensions: [] });
    expect(v4.members.map((m) => [m.text, m.remainingMs])).toEqual([
      ['198.51.100.7', 3_599_000],
      ['198.51.100.8', null],
      ['203.0.113.0/24', 7_199_000],
    ]);
    const v6 = readIpsetSave(fixture('ipset-save-v6.txt'), 'blocker_v6', 6)!;
    expect(v6.members.map((m) => m.text)).toEqual(['2001:db8::5', '2001:db8:1::/48']);
    expect(readIpsetSave(fixture('ipset-save-v6.txt'), 'blocker_v4', 4)).toBeNull();
  });

  it('sees a set without timeouts, and a line without a member as unreadable', () => {
    const s = readIpsetSave('create blocker_v4 hash:ip family inet hashsize 1024 maxelem 65536 counters\nadd blocker_v4\nadd blocker_v4 198.51.100.1 packets 0 bytes 0\n', 'blocker_v4', 4)!;
    expect(s.header).toEqual({ type: 'hash:ip', family: 'inet', maxElem: 65536, timeouts: false, extensions: ['counters'] });
    expect(s.unreadable).toBe(1);
    expect(s.members).toEqual([{ set: 'blocker_v4', family: 4, text: '198.51.100.1', remainingMs: null }]);
  });

  it('takes only rules in our chains with our set and our comment as ours', () => {
    const rules = ourRules(fixture('iptables-S.txt'), 'blocker_v4');
    expect(rules.map((r) => r.chain)).toEqual(['INPUT', 'FORWARD']);
    expect(rules[0]!.args).toEqual(ruleArgs(o, 4));
    expect(ourRules(fixture('iptables-S.txt'), 'blocker_v6')).toEqual([]);
    expect(ourRules(fixture('iptables-S.txt'), 'blocker_v4', ['INPUT']).length).toBe(1);
  });

  it('splits quoted words as iptables prints them', () => {
    expect(splitWords('-A INPUT -m comment --comment "someone else\\\'s rule" -j ACCEPT')).toEqual([
      '-A', 'INPUT', '-m', 'comment', '--comment', "someone else's rule", '-j', 'ACCEPT',
    ]);
  });
});
