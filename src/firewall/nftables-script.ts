import { isSingleAddress, type Cidr } from '../net/address.js';
import type { FirewallEntry } from './backend.js';
import { elementText, type Placed } from './members.js';

/**
 * Builds `nft -f` scripts for our own table, and nothing else. Only validated
 * values get in: the table name and numbers are checked here (and by the
 * config schema), and every address is a Cidr, which only the address parser
 * makes — and is parsed once more here, so a forged one cannot smuggle a
 * command into a script.
 */

export interface NftOptions {
  readonly table: string;
  /** Priority of our base chains (nft: lower runs first; `filter` is 0). */
  readonly priority: number;
  readonly action: 'drop' | 'reject';
  /** Also drop banned sources in the forward hook (hosts that route to containers or VMs). */
  readonly forwardHook: boolean;
}

export type NftSet = 'v4' | 'v6' | 'v4net' | 'v6net';

/**
 * Single addresses live in plain hash sets, networks in interval sets. One
 * interval set for everything would do, but nft (1.0.x) reads a whole interval
 * set into memory before changing it: with 100k members every one-address
 * change would cost a second, and deletions grow quadratically.
 */
export const SETS: readonly { name: NftSet; family: 4 | 6; interval: boolean }[] = [
  { name: 'v4', family: 4, interval: false },
  { name: 'v6', family: 6, interval: false },
  { name: 'v4net', family: 4, interval: true },
  { name: 'v6net', family: 6, interval: true },
];

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Elements per `add element` statement: short lines, still one transaction. */
const CHUNK = 1000;

export function assertTableName(table: string): void {
  if (!TABLE_NAME.test(table)) throw new Error(`invalid nftables table name "${table}"`);
}

function checked(o: NftOptions): NftOptions {
  assertTableName(o.table);
  if (!Number.isInteger(o.priority) || Math.abs(o.priority) > 1000) throw new Error(`invalid chain priority ${o.priority}`);
  if (o.action !== 'drop' && o.action !== 'reject') throw new Error(`invalid action ${String(o.action)}`);
  return o;
}

export function setFor(net: Cidr): NftSet {
  const base = net.family === 4 ? 'v4' : 'v6';
  return isSingleAddress(net) ? base : `${base}net`;
}

export function placeAll(entries: readonly FirewallEntry[]): Placed[] {
  return entries.map((entry) => ({ set: setFor(entry.net), entry }));
}

/** nft counts whole seconds here; a ban never ends early, so round up. */
export function timeoutText(ttlMs: number | null): string {
  return ttlMs === null ? '' : ` timeout ${Math.max(1, Math.ceil(ttlMs / 1000))}s`;
}

/** The chains we hook, with their hook names. */
export function chainsOf(o: NftOptions): readonly ('input' | 'forward')[] {
  return o.forwardHook ? ['input', 'forward'] : ['input'];
}

/** What each rule of our chains says, in the order we add them: `ip saddr @v4 counter dropped_v4 drop`. */
export function ruleSpecs(o: NftOptions): string[] {
  return SETS.map((s) => `${s.family === 4 ? 'ip' : 'ip6'} saddr @${s.name} counter dropped_v${s.family} ${o.action}`);
}

/**
 * Declares the table, sets, counters and chains. Safe to repeat: `add` keeps
 * what exists, and each chain is flushed and refilled so it holds exactly our
 * rules (named counters survive the flush). Put first in every transaction, it
 * recreates a table or chain that someone deleted.
 */
export function declareLines(opts: NftOptions): string[] {
  const o = checked(opts);
  const t = `inet ${o.table}`;
  const lines = [`add table ${t}`];
  for (const s of SETS) {
    const type = s.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    lines.push(`add set ${t} ${s.name} { type ${type}; flags ${s.interval ? 'interval, ' : ''}timeout; }`);
  }
  lines.push(`add counter ${t} dropped_v4`, `add counter ${t} dropped_v6`);
  for (const chain of chainsOf(o)) {
    lines.push(`add chain ${t} ${chain} { type filter hook ${chain} priority ${o.priority}; policy accept; }`);
    lines.push(`flush chain ${t} ${chain}`);
    for (const s of SETS) {
      const proto = s.family === 4 ? 'ip' : 'ip6';
      lines.push(`add rule ${t} ${chain} ${proto} saddr @${s.name} counter name dropped_v${s.family} ${o.action}`);
    }
  }
  return lines;
}

function chunked(verb: 'add' | 'delete', table: string, set: string, items: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    lines.push(`${verb} element inet ${table} ${set} { ${items.slice(i, i + CHUNK).join(', ')} }`);
  }
  return lines;
}

function bySet<T extends { set: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    let list = out.get(it.set);
    if (!list) out.set(it.set, (list = []));
    list.push(it);
  }
  return out;
}

/**
 * Element changes:
 * - `fresh`: members the kernel surely lacks, plain `add` (fast in bulk);
 * - `reset`: members that may be there already: add → delete → add, so the
 *   element ends up with the new timeout on every kernel (before Linux 6.10 or
 *   so, adding an existing element keeps its old timeout);
 * - `removes`: add → delete, which succeeds whether or not the kernel still
 *   holds the element (it may have timed out).
 * Removals come first, so a network can replace the addresses it covers in one go.
 */
export function changeLines(
  opts: NftOptions,
  changes: { fresh?: readonly Placed[]; reset?: readonly Placed[]; removes?: readonly { set: string; net: Cidr }[] },
): string[] {
  const o = checked(opts);
  const lines: string[] = [];
  for (const [set, list] of bySet(changes.removes ?? [])) {
    const items = list.map((r) => elementText(r.net));
    lines.push(...chunked('add', o.table, set, items), ...chunked('delete', o.table, set, items));
  }
  for (const [set, list] of bySet(changes.reset ?? [])) {
    const bare = list.map((p) => elementText(p.entry.net));
    lines.push(...chunked('add', o.table, set, bare), ...chunked('delete', o.table, set, bare));
    lines.push(...chunked('add', o.table, set, list.map((p, i) => `${bare[i]}${timeoutText(p.entry.ttlMs)}`)));
  }
  for (const [set, list] of bySet(changes.fresh ?? [])) {
    lines.push(...chunked('add', o.table, set, list.map((p) => `${elementText(p.entry.net)}${timeoutText(p.entry.ttlMs)}`)));
  }
  return lines;
}

/** Makes our sets hold exactly `active`, in one transaction with the declarations. */
export function syncLines(opts: NftOptions, active: readonly FirewallEntry[]): string[] {
  const o = checked(opts);
  return [
    ...declareLines(o),
    ...SETS.map((s) => `flush set inet ${o.table} ${s.name}`),
    ...changeLines(o, { fresh: placeAll(active) }),
  ];
}

/**
 * Deletes our table and creates it anew with `active`, in one transaction:
 * for a table whose sets or chains are not what we declare (a set with other
 * flags, a chain with another hook or priority), which `add` cannot change.
 */
export function rebuildLines(opts: NftOptions, active: readonly FirewallEntry[]): string[] {
  const o = checked(opts);
  return [...removeTableLines(o.table), ...declareLines(o), ...changeLines(o, { fresh: placeAll(active) })];
}

/** Removes our table whether or not it exists (nft 1.0.x has no `destroy`: add, then delete). */
export function removeTableLines(table: string): string[] {
  assertTableName(table);
  return [`add table inet ${table}`, `delete table inet ${table}`];
}
