import type { Cidr } from '../net/address.js';
import type { FirewallEntry } from './backend.js';
import { elementText, type Placed } from './members.js';

/**
 * Builds `ipset restore` scripts and iptables argument lists for our own sets
 * and rules, and nothing else. Names and numbers are checked here; every
 * address is a Cidr parsed once more before it is written.
 */

export interface IpsetOptions {
  /** Our sets are `<table>_v4` and `<table>_v6`. */
  readonly table: string;
  readonly action: 'drop' | 'reject';
  readonly forwardHook: boolean;
  /** The least `maxelem` of our sets; grown to twice the members when they need more. */
  readonly maxElem: number;
  /** Which iptables: the system's `iptables`, or iptables-nft / iptables-legacy explicitly. */
  readonly iptables: 'auto' | 'nft' | 'legacy';
}

/** Marks our rules, so that a rule someone else wrote against our set is never taken for ours. */
export const RULE_COMMENT = 'handshake-blocker';
/** ipset's longest timeout, in seconds (about 24.8 days); a longer ban is refreshed before it runs out. */
export const IPSET_MAX_TIMEOUT_S = 2_147_483;
/** ipset names are at most 31 characters; ours add `_v4` or `_v4n`. */
export const IPSET_TABLE_MAX = 27;

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,26}$/;

export function assertIpsetTable(table: string): void {
  if (!TABLE_NAME.test(table)) throw new Error(`invalid ipset name prefix "${table}"`);
}

export function setName(table: string, family: 4 | 6): string {
  assertIpsetTable(table);
  return `${table}_v${family}`;
}

/** The set a rebuild fills before swapping it in. */
export function tempSetName(table: string, family: 4 | 6): string {
  return `${setName(table, family)}n`;
}

export function placeIpset(table: string, entries: readonly FirewallEntry[]): Placed[] {
  return entries.map((entry) => ({ set: setName(table, entry.net.family), entry }));
}

/** The iptables command for a family. */
export function iptablesCommand(o: Pick<IpsetOptions, 'iptables'>, family: 4 | 6): string {
  const base = family === 4 ? 'iptables' : 'ip6tables';
  return o.iptables === 'auto' ? base : `${base}-${o.iptables}`;
}

export function hooksOf(o: Pick<IpsetOptions, 'forwardHook'>): readonly ('INPUT' | 'FORWARD')[] {
  return o.forwardHook ? ['INPUT', 'FORWARD'] : ['INPUT'];
}

/** Our rule's match and target, as `iptables -S` prints them back. */
export function ruleArgs(o: IpsetOptions, family: 4 | 6): string[] {
  const target =
    o.action === 'drop'
      ? ['-j', 'DROP']
      : ['-j', 'REJECT', '--reject-with', family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'];
  return ['-m', 'set', '--match-set', setName(o.table, family), 'src', '-m', 'comment', '--comment', RULE_COMMENT, ...target];
}

function timeoutSeconds(ttlMs: number | null): number {
  // 0 is "never times out" in ipset; a ban never ends early, so round up.
  return ttlMs === null ? 0 : Math.min(IPSET_MAX_TIMEOUT_S, Math.max(1, Math.ceil(ttlMs / 1000)));
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** `maxelem` for a set that is to hold `members`: the configured size, or twice the members if more. */
export function maxElemFor(o: Pick<IpsetOptions, 'maxElem'>, members: number): number {
  return Math.max(o.maxElem, members * 2);
}

export function createLine(name: string, family: 4 | 6, maxElem: number, members: number): string {
  if (!Number.isInteger(maxElem) || maxElem < 1) throw new Error(`invalid maxelem ${maxElem}`);
  const hashsize = Math.min(1 << 20, Math.max(1024, nextPowerOfTwo(members)));
  return `create ${name} hash:net family ${family === 4 ? 'inet' : 'inet6'} hashsize ${hashsize} maxelem ${maxElem} timeout 0`;
}

/** `add` sets the timeout afresh when the member exists (with `-exist`); `del` of a missing member is ignored. */
export function addLines(name: string, entries: readonly FirewallEntry[]): string[] {
  return entries.map((e) => `add ${name} ${elementText(e.net)} timeout ${timeoutSeconds(e.ttlMs)}`);
}

export function delLines(name: string, nets: readonly Cidr[]): string[] {
  return nets.map((n) => `del ${name} ${elementText(n)}`);
}

/**
 * Replaces a set's contents at once: fills a new set, swaps it in (the rules
 * follow the name), drops the old one. Also how `maxelem` grows, which ipset
 * cannot change in place.
 */
export function replaceLines(table: string, family: 4 | 6, entries: readonly FirewallEntry[], maxElem: number): string[] {
  const name = setName(table, family);
  const temp = tempSetName(table, family);
  return [
    `destroy ${temp}`,
    createLine(temp, family, maxElem, entries.length),
    ...addLines(temp, entries),
    `swap ${temp} ${name}`,
    `destroy ${temp}`,
  ];
}
