import type { KernelMember } from './members.js';
import { chainsOf, ruleSpecs, SETS, type NftOptions, type NftSet } from './nftables-script.js';

/**
 * Reads `nft -j list table inet <table>` and says how it differs from what we
 * declare. Pure, so every way a table can be damaged is a unit test.
 */

export interface NftView {
  /** What is wrong that re-declaring puts right (a missing set, counter, chain or rule). */
  readonly repairs: string[];
  /** What is wrong that only deleting and recreating the table puts right (a set with other flags, a chain with another hook…). */
  readonly rebuild: string[];
  /**
   * Members of our sets written as addresses or networks (checked against the
   * set's family when compared); iterable more than once (a dry run lists its mirror lazily).
   */
  readonly members: Iterable<KernelMember>;
  /** Sets holding elements that are not one address or network (ranges someone added): flushed and refilled. */
  readonly unreadable: Map<string, number>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readNftTable(json: string, o: NftOptions): NftView {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error('nft -j printed something that is not JSON');
  }
  const items = isObject(doc) && Array.isArray(doc.nftables) ? (doc.nftables as unknown[]) : [];
  const members: KernelMember[] = [];
  const view: NftView = { repairs: [], rebuild: [], members, unreadable: new Map() };
  const t = `inet ${o.table}`;

  const sets = new Map<string, Json>();
  const counters = new Set<string>();
  const chains = new Map<string, Json>();
  const rules = new Map<string, string[]>();
  for (const item of items) {
    if (!isObject(item)) continue;
    const [kind, body] = Object.entries(item)[0] ?? [];
    if (!isObject(body) || (kind !== 'table' && body.table !== o.table)) continue;
    if (kind === 'set') sets.set(String(body.name), body);
    else if (kind === 'counter') counters.add(String(body.name));
    else if (kind === 'chain') chains.set(String(body.name), body);
    else if (kind === 'rule') {
      const chain = String(body.chain);
      if (!rules.has(chain)) rules.set(chain, []);
      rules.get(chain)!.push(ruleSpec(body.expr));
    } else if (kind !== 'table' && kind !== 'metainfo') {
      view.rebuild.push(`table ${t} holds a ${kind} "${String(body.name)}" that blocker does not create`);
    }
  }

  for (const s of SETS) {
    const body = sets.get(s.name);
    sets.delete(s.name);
    if (!body) {
      view.repairs.push(`set ${s.name} of table ${t} is missing`);
      continue;
    }
    const type = s.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const flags = Array.isArray(body.flags) ? (body.flags as unknown[]).map(String).sort().join(',') : '';
    const want = s.interval ? 'interval,timeout' : 'timeout';
    if (body.type !== type || flags !== want) {
      view.rebuild.push(`set ${s.name} of table ${t} has type ${String(body.type)} flags "${flags}" instead of ${type} flags "${want}"`);
      continue;
    }
    let bad = 0;
    for (const e of Array.isArray(body.elem) ? (body.elem as unknown[]) : []) {
      const m = member(s.name, s.family, e);
      if (m) members.push(m);
      else bad++;
    }
    if (bad) view.unreadable.set(s.name, bad);
  }
  for (const name of sets.keys()) view.rebuild.push(`table ${t} holds a set "${name}" that blocker does not create`);

  for (const c of ['dropped_v4', 'dropped_v6']) {
    if (!counters.delete(c)) view.repairs.push(`counter ${c} of table ${t} is missing`);
  }
  for (const c of counters) view.rebuild.push(`table ${t} holds a counter "${c}" that blocker does not create`);

  const specs = ruleSpecs(o).sort().join('\n');
  for (const name of chainsOf(o)) {
    const c = chains.get(name);
    chains.delete(name);
    if (!c) {
      view.repairs.push(`chain ${name} of table ${t} is missing`);
      continue;
    }
    if (c.type !== 'filter' || c.hook !== name || c.prio !== o.priority || c.policy !== 'accept') {
      view.rebuild.push(
        `chain ${name} of table ${t} is "type ${String(c.type)} hook ${String(c.hook)} priority ${String(c.prio)} policy ${String(c.policy)}" instead of "type filter hook ${name} priority ${o.priority} policy accept"`,
      );
      continue;
    }
    const have = (rules.get(name) ?? []).slice().sort().join('\n');
    if (have !== specs) view.repairs.push(`the rules of chain ${name} in table ${t} were changed`);
  }
  for (const name of chains.keys()) view.rebuild.push(`table ${t} holds a chain "${name}" that blocker does not create`);
  return view;
}

/** `ip saddr @v4 counter dropped_v4 drop`, the same words as {@link ruleSpecs}; anything else reads differently. */
function ruleSpec(expr: unknown): string {
  if (!Array.isArray(expr)) return '?';
  return expr
    .map((e) => {
      if (!isObject(e)) return '?';
      if (isObject(e.match)) {
        const m = e.match;
        const p = isObject(m.left) && isObject(m.left.payload) ? m.left.payload : null;
        return p && m.op === '==' && typeof m.right === 'string' ? `${String(p.protocol)} ${String(p.field)} ${m.right}` : JSON.stringify(e);
      }
      if (typeof e.counter === 'string') return `counter ${e.counter}`;
      if ('drop' in e) return 'drop';
      // nft fills in the default reject type (icmp / icmpv6 port-unreachable) when listing.
      if (isObject(e.reject) && e.reject.expr === 'port-unreachable') return 'reject';
      return JSON.stringify(e);
    })
    .join(' ');
}

/** One element of a set as nft wrote it, or null when it is not written as an address or network (a range). */
function member(set: NftSet, family: 4 | 6, e: unknown): KernelMember | null {
  let val: unknown = e;
  let remainingMs: number | null = null;
  if (isObject(e) && isObject(e.elem)) {
    val = e.elem.val;
    const left = typeof e.elem.expires === 'number' ? e.elem.expires : e.elem.timeout;
    if (typeof left === 'number') remainingMs = left * 1000;
  }
  let text: string | null = null;
  if (typeof val === 'string') text = val;
  else if (isObject(val) && isObject(val.prefix) && typeof val.prefix.addr === 'string' && typeof val.prefix.len === 'number') {
    text = `${val.prefix.addr}/${val.prefix.len}`;
  }
  return text === null ? null : { set, family, text, remainingMs };
}
