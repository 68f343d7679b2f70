import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FirewallEntry } from '../../src/firewall/backend.js';
import { createIpsetBackend, type IpsetIo } from '../../src/firewall/ipset.js';
import type { IpsetOptions } from '../../src/firewall/ipset-script.js';
import { ourRules, readIpsetSave } from '../../src/firewall/ipset-state.js';
import { parseCidr } from '../../src/net/address.js';
import { UserError } from '../../src/errors.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const e = (s: string, ttlMs: number | null): FirewallEntry => ({ net: parseCidr(s)!, ttlMs });
const o: IpsetOptions = { table: 'blocker', action: 'drop', forwardHook: true, maxElem: 1 << 20, iptables: 'nft' };
const healthy = [e('198.51.100.7', 3_600_000), e('198.51.100.8', null), e('203.0.113.0/24', 7_200_000), e('2001:db8::5', 600_000), e('2001:db8:1::/48', null)];

/**
 * A stand-in kernel: the sets as `ipset save` prints them and the rules as
 * `iptables -S` does (the real captures by default); calls are recorded.
 */
function fake(state: { v4?: string | null; v6?: string | null; rules4?: string; rules6?: string; missingOnce?: boolean }) {
  const calls: string[] = [];
  let missing = state.missingOnce ?? false;
  const io: IpsetIo = {
    async check() {},
    async readSet(name, family) {
      const text = family === 4 ? state.v4 : state.v6;
      return text === null ? null : readIpsetSave(text ?? fixture(`ipset-save-v${family}.txt`), name, family);
    },
    async rulesText(family) {
      return (family === 4 ? state.rules4 : state.rules6) ?? '';
    },
    async ours(family) {
      return { rules: ourRules((family === 4 ? state.rules4 : state.rules6) ?? '', `blocker_v${family}`), sets: ['blocker_v4', 'blocker_v6', 'other'] };
    },
    async setNames() {
      return missing ? [] : ['blocker_v4', 'blocker_v6'];
    },
    async restore(script) {
      calls.push(`restore\n${script}`);
      if (missing && !script.startsWith('create')) throw new UserError('ipset restore failed: ipset v7.17: Error in line 1: The set with the given name does not exist');
      if (script.startsWith('create')) missing = false;
    },
    async iptables(family, args) {
      calls.push(`ip${family}tables ${args.join(' ')}`);
    },
  };
  return { io, calls };
}

const rulesBoth = (f: 4 | 6) =>
  ['INPUT', 'FORWARD'].map((c) => `-A ${c} -m set --match-set blocker_v${f} src -m comment --comment handshake-blocker -j DROP`).join('\n');

describe('ipset backend', () => {
  it('does nothing when sets and rules match the database', async () => {
    const f = fake({ rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const r = await createIpsetBackend(o, f.io).reconcile(healthy);
    expect(r).toEqual({ added: 0, removed: 0, refreshed: 0, recreated: false, repairs: [] });
    expect(f.calls).toEqual([]);
  });

  it('puts rules back, leaving a rule someone else wrote against our set alone', async () => {
    const f = fake({ rules4: fixture('iptables-S.txt'), rules6: '' });
    const r = await createIpsetBackend(o, f.io).reconcile(healthy);
    expect(r.repairs).toEqual([
      'ip6tables-nft: the rule for ipset blocker_v6 in INPUT was missing',
      'ip6tables-nft: the rule for ipset blocker_v6 in FORWARD was missing',
    ]);
    expect(f.calls).toEqual([
      'ip6tables -w -I INPUT 1 -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
      'ip6tables -w -I FORWARD 1 -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
    ]);
  });

  it('replaces a rule with the wrong action and drops a duplicate', async () => {
    const f = fake({ rules4: `${rulesBoth(4)}\n${rulesBoth(4).split('\n')[0]}`, rules6: rulesBoth(6) });
    const r = await createIpsetBackend({ ...o, action: 'reject', forwardHook: false }, f.io).reconcile(healthy);
    expect(r.recreated).toBe(true);
    expect(f.calls.filter((c) => c.includes(' -D '))).toEqual([
      'ip4tables -w -D INPUT -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP',
      'ip4tables -w -D INPUT -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP',
      'ip4tables -w -D FORWARD -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP',
      'ip6tables -w -D INPUT -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
      'ip6tables -w -D FORWARD -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
    ]);
    expect(f.calls.filter((c) => c.includes(' -I '))).toEqual([
      'ip4tables -w -I INPUT 1 -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j REJECT --reject-with icmp-port-unreachable',
      'ip6tables -w -I INPUT 1 -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j REJECT --reject-with icmp6-port-unreachable',
    ]);
  });

  it('creates missing sets with every member, and re-adds, refreshes and removes members in one restore', async () => {
    const f = fake({ v6: null, rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const r = await createIpsetBackend(o, f.io).reconcile([e('198.51.100.7', 60_000), e('198.51.100.8', null), e('198.51.100.99', 5000), ...healthy.slice(3)]);
    expect(r).toMatchObject({ added: 3, removed: 1, refreshed: 1, repairs: ['ipset blocker_v6 was missing'] });
    expect(f.calls).toEqual([
      [
        'restore',
        'create blocker_v4 hash:net family inet hashsize 1024 maxelem 1048576 timeout 0',
        'del blocker_v4 203.0.113.0/24',
        'add blocker_v4 198.51.100.99 timeout 5',
        'add blocker_v4 198.51.100.7 timeout 60',
        'create blocker_v6 hash:net family inet6 hashsize 1024 maxelem 1048576 timeout 0',
        'add blocker_v6 2001:db8::5 timeout 600',
        'add blocker_v6 2001:db8:1::/48 timeout 0',
        '',
      ].join('\n'),
    ]);
  });

  it('grows a set whose maxelem is too small by swapping in a bigger one', async () => {
    const small = fixture('ipset-save-v4.txt').replace('maxelem 1048576', 'maxelem 4');
    const f = fake({ v4: small, rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const r = await createIpsetBackend({ ...o, maxElem: 1024 }, f.io).reconcile(healthy);
    expect(r.repairs).toEqual(['ipset blocker_v4 had maxelem 4, too small for 3 members with headroom: now 1024']);
    expect(f.calls[0]).toContain('create blocker_v4n hash:net family inet hashsize 1024 maxelem 1024 timeout 0\n');
    expect(f.calls[0]).toContain('swap blocker_v4n blocker_v4\ndestroy blocker_v4n\n');
  });

  it('makes a set of the wrong type anew, after our rules let go of it', async () => {
    const wrong = 'create blocker_v4 hash:ip family inet hashsize 1024 maxelem 65536\nadd blocker_v4 198.51.100.7\n';
    const f = fake({ v4: wrong, rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const r = await createIpsetBackend(o, f.io).reconcile(healthy);
    expect(r.repairs[0]).toBe('ipset blocker_v4 was hash:ip family inet without timeouts, not hash:net family inet with timeouts');
    expect(f.calls.map((c) => c.split('\n')[0]!.slice(0, 24))).toEqual([
      'ip4tables -w -D INPUT -m',
      'ip4tables -w -D FORWARD ',
      'restore',
      'ip4tables -w -I INPUT 1 ',
      'ip4tables -w -I FORWARD ',
    ]);
    expect(f.calls[2]).toMatch(/^restore\ndestroy blocker_v4\ncreate blocker_v4 hash:net/);
  });

  it('commit applies adds and removes with restore -exist, and recreates missing sets and rules first', async () => {
    const f = fake({ missingOnce: true, rules4: '', rules6: '' });
    const b = createIpsetBackend(o, f.io);
    b.add(e('198.51.100.9', 1000));
    b.remove(parseCidr('2001:db8::/64')!);
    await b.commit();
    expect(f.calls[0]).toBe('restore\nadd blocker_v4 198.51.100.9 timeout 1\ndel blocker_v6 2001:db8::/64\n');
    expect(f.calls[1]).toMatch(/^restore\ncreate blocker_v4 .*\ncreate blocker_v6 /);
    expect(f.calls.filter((c) => c.includes(' -I ')).length).toBe(4);
    // Sets it made itself: their create line now goes first, so ipset batches the adds.
    expect(f.calls.at(-1)).toBe(
      'restore\ncreate blocker_v4 hash:net family inet hashsize 1024 maxelem 1048576 timeout 0\nadd blocker_v4 198.51.100.9 timeout 1\ndel blocker_v6 2001:db8::/64\n',
    );
  });

  it('sends no create line for a set whose maxelem it does not know, and forgets it after a failure', async () => {
    const f = fake({ rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const b = createIpsetBackend(o, f.io);
    b.add(e('198.51.100.9', 1000));
    await b.commit();
    expect(f.calls[0]).toBe('restore\nadd blocker_v4 198.51.100.9 timeout 1\n');
    await b.reconcile([e('198.51.100.9', 1000)]);
    b.add(e('198.51.100.10', 1000));
    await b.commit();
    expect(f.calls.at(-1)).toMatch(/^restore\ncreate blocker_v4 .* maxelem 1048576 timeout 0\nadd blocker_v4 198\.51\.100\.10 timeout 1\n$/);
  });

  it('treats a set with extensions of its own (counters, comment) as not ours to keep', async () => {
    const f = fake({ v4: fixture('ipset-save-v4.txt').replace('timeout 0 bucketsize', 'timeout 0 counters bucketsize'), rules4: rulesBoth(4), rules6: rulesBoth(6) });
    const r = await createIpsetBackend(o, f.io).reconcile(healthy);
    expect(r.repairs[0]).toBe('ipset blocker_v4 was hash:net family inet with counters, not hash:net family inet with timeouts');
    expect(f.calls.find((c) => c.startsWith('restore'))).toMatch(/^restore\ndestroy blocker_v4\ncreate blocker_v4 /);
  });

  it('flush removes our rules and sets only', async () => {
    const f = fake({ rules4: fixture('iptables-S.txt'), rules6: rulesBoth(6) });
    const { removed } = await createIpsetBackend(o, f.io).flush();
    expect(removed).toEqual([
      'iptables-nft rule in INPUT: -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP',
      'iptables-nft rule in FORWARD: -m set --match-set blocker_v4 src -m comment --comment handshake-blocker -j DROP',
      'ipset blocker_v4',
      'ip6tables-nft rule in INPUT: -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
      'ip6tables-nft rule in FORWARD: -m set --match-set blocker_v6 src -m comment --comment handshake-blocker -j DROP',
      'ipset blocker_v6',
    ]);
    expect(f.calls.at(-1)).toBe('restore\ndestroy blocker_v4\ndestroy blocker_v6\n');
    expect(f.calls.join('\n')).not.toMatch(/someone else|192\.0\.2\.1|other/);
  });

  it('refuses a table name too long for ipset names, naming the config key', () => {
    expect(() => createIpsetBackend({ ...o, table: 'a'.repeat(28) })).toThrow(/firewall\.table.*at most 27/);
  });
});
