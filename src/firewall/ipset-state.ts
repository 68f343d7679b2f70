import type { KernelMember } from './members.js';
import { RULE_COMMENT } from './ipset-script.js';

/**
 * Reads what `ipset save <set>` and `iptables -S` print. Pure, so every way
 * our sets and rules can be damaged is a unit test.
 */

export interface IpsetHeader {
  readonly type: string;
  readonly family: string | null;
  readonly maxElem: number | null;
  /** Whether members can have timeouts (the set was created with `timeout`). */
  readonly timeouts: boolean;
  /** Other extensions (counters, comment, skbinfo…): ours have none. */
  readonly extensions: string[];
}

export interface IpsetState {
  readonly header: IpsetHeader;
  readonly members: KernelMember[];
  /** Lines that name no member at all (members of the wrong family are found when compared). */
  readonly unreadable: number;
}

/** Keywords of `create` lines that take a value; the rest are flags (counters, comment, …). */
const VALUED = new Set(['family', 'hashsize', 'maxelem', 'timeout', 'bucketsize', 'initval', 'netmask', 'markmask', 'size', 'range']);

export function readIpsetSave(text: string, name: string, family: 4 | 6): IpsetState | null {
  let header: IpsetHeader | null = null;
  const members: KernelMember[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[1] !== name) continue;
    if (w[0] === 'create') {
      const opts = new Map<string, string>();
      const extensions: string[] = [];
      for (let i = 3; i < w.length; i++) {
        if (VALUED.has(w[i]!)) opts.set(w[i]!, w[++i] ?? '');
        else extensions.push(w[i]!);
      }
      const maxElem = Number(opts.get('maxelem') ?? 65536);
      header = {
        type: w[2] ?? '',
        family: opts.get('family') ?? null,
        maxElem: Number.isFinite(maxElem) ? maxElem : null,
        timeouts: opts.has('timeout'),
        extensions,
      };
    } else if (w[0] === 'add') {
      const text = w[2];
      if (!text) {
        unreadable++;
        continue;
      }
      const at = w.indexOf('timeout', 3);
      const seconds = at > 0 ? Number(w[at + 1]) : 0;
      members.push({ set: name, family, text, remainingMs: seconds > 0 ? seconds * 1000 : null });
    }
  }
  return header ? { header, members, unreadable } : null;
}

/** One rule as `iptables -S` prints it. */
export interface IptablesRule {
  readonly chain: string;
  /** The rule's words after `-A CHAIN`, unquoted. */
  readonly args: string[];
}

/**
 * Our rules in `iptables -S` output: in a chain we hook, matching our set and
 * carrying our comment. A rule someone else wrote against our set is theirs.
 */
export function ourRules(text: string, set: string, chains: readonly string[] = ['INPUT', 'FORWARD']): IptablesRule[] {
  const out: IptablesRule[] = [];
  for (const line of text.split('\n')) {
    const words = splitWords(line.trim());
    if (words[0] !== '-A' || !words[1] || !chains.includes(words[1])) continue;
    const args = words.slice(2);
    const at = args.indexOf('--match-set');
    const c = args.indexOf('--comment');
    if (at < 0 || args[at + 1] !== set || c < 0 || args[c + 1] !== RULE_COMMENT) continue;
    out.push({ chain: words[1], args });
  }
  return out;
}

/** Splits a line of `iptables -S` into words; "…" quotes (with \-escapes) are one word. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  }
  return words;
}
