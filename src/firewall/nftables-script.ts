import type { Cidr } from '../net/address.js';
import type { FirewallEntry } from './backend.js';

/**
 * Builds `nft -f` scripts for our own table. Only validated values get in:
 * the table name is checked by the config schema (and again here), and every
 * address is a Cidr, which only the address parser makes.
 */

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

export function assertTableName(table: string): void {
  if (!TABLE_NAME.test(table)) throw new Error(`invalid nftables table name "${table}"`);
}

function setOf(net: Cidr): 'v4' | 'v6' {
  return net.family === 4 ? 'v4' : 'v6';
}

function timeoutOf(ttlMs: number | null): string {
  // nft counts whole seconds here; a ban never ends early, so round up.
  return ttlMs === null ? '' : ` timeout ${Math.max(1, Math.ceil(ttlMs / 1000))}s`;
}

/**
 * Declares the table, sets, counters and chain. Safe to repeat: `add` keeps what
 * exists, and the chain is flushed and refilled so it always holds exactly our
 * two rules (named counters survive the flush). Prepended to every transaction,
 * which heals a table that someone deleted.
 */
export function preamble(table: string): string[] {
  assertTableName(table);
  const t = `inet ${table}`;
  return [
    `add table ${t}`,
    `add set ${t} v4 { type ipv4_addr; flags interval, timeout; }`,
    `add set ${t} v6 { type ipv6_addr; flags interval, timeout; }`,
    `add counter ${t} dropped_v4`,
    `add counter ${t} dropped_v6`,
    `add chain ${t} input { type filter hook input priority filter - 10; policy accept; }`,
    `flush chain ${t} input`,
    `add rule ${t} input ip saddr @v4 counter name dropped_v4 drop`,
    `add rule ${t} input ip6 saddr @v6 counter name dropped_v6 drop`,
  ];
}

/**
 * Element changes. An add is written add → delete → add so that an element
 * already present gets its new timeout; a remove is add → delete so that it
 * succeeds whether or not the kernel still holds the element (it may have timed out).
 */
export function changeLines(table: string, adds: readonly FirewallEntry[], removes: readonly Cidr[]): string[] {
  assertTableName(table);
  const lines: string[] = [];
  for (const net of removes) {
    const target = `inet ${table} ${setOf(net)} { ${net.text} }`;
    lines.push(`add element ${target}`, `delete element ${target}`);
  }
  for (const e of adds) {
    const target = `inet ${table} ${setOf(e.net)} { ${e.net.text} }`;
    lines.push(`add element ${target}`, `delete element ${target}`);
    lines.push(`add element inet ${table} ${setOf(e.net)} { ${e.net.text}${timeoutOf(e.ttlMs)} }`);
  }
  return lines;
}

/** Makes our sets hold exactly `active`, in one transaction with the preamble. */
export function syncLines(table: string, active: readonly FirewallEntry[]): string[] {
  const lines = [...preamble(table), `flush set inet ${table} v4`, `flush set inet ${table} v6`];
  // Batches keep each line short; the whole script is still one transaction.
  for (const family of [4, 6] as const) {
    const members = active.filter((e) => e.net.family === family);
    for (let i = 0; i < members.length; i += 500) {
      const chunk = members.slice(i, i + 500).map((e) => `${e.net.text}${timeoutOf(e.ttlMs)}`);
      lines.push(`add element inet ${table} v${family} { ${chunk.join(', ')} }`);
    }
  }
  return lines;
}
