import { UserError } from '../errors.js';
import { wantedNow, type FirewallBackend, type ReconcileReport } from './backend.js';
import { mustRun, tool } from './exec.js';
import {
  addLines,
  createLine,
  delLines,
  hooksOf,
  iptablesCommand,
  IPSET_MAX_TIMEOUT_S,
  IPSET_TABLE_MAX,
  maxElemFor,
  placeIpset,
  replaceLines,
  ruleArgs,
  setName,
  tempSetName,
  type IpsetOptions,
} from './ipset-script.js';
import { ourRules, readIpsetSave, type IptablesRule, type IpsetState } from './ipset-state.js';
import { diffMembers, type Placed } from './members.js';
import { Mirror } from './mirror.js';
import { PendingChanges } from './pending.js';

const FAMILIES = [4, 6] as const;
const MAX_TTL_MS = IPSET_MAX_TIMEOUT_S * 1000;

/** How the backend reaches the kernel: ipset and iptables themselves, or a printer (dry-run). */
export interface IpsetIo {
  check(): Promise<void>;
  /** One of our sets as the kernel holds it; null when it does not exist. */
  readSet(name: string, family: 4 | 6, mirror: Mirror): Promise<IpsetState | null>;
  /** `iptables -S` (filter table) for the family. */
  rulesText(family: 4 | 6, mirror: Mirror): Promise<string>;
  /** What flush removes: our rules and the names of our sets that exist. */
  ours(family: 4 | 6): Promise<{ rules: IptablesRule[]; sets: string[] }>;
  setNames(mirror: Mirror): Promise<string[]>;
  /** `ipset restore -exist` with this script (not a transaction: it stops at the first failing line). */
  restore(script: string): Promise<void>;
  iptables(family: 4 | 6, args: string[]): Promise<void>;
}

export function createIpsetBackend(
  o: IpsetOptions,
  io: IpsetIo = realIpsetIo(o),
  opts: { name?: string; clock?: () => number } = {},
): FirewallBackend {
  if (o.table.length > IPSET_TABLE_MAX) {
    throw new UserError(
      `config key firewall.table: "${o.table}" is too long for the ipset backend (at most ${IPSET_TABLE_MAX} characters, as ipset names end in _v4/_v6 and are at most 31)`,
      2,
    );
  }
  const mirror = new Mirror(opts.clock ?? Date.now);
  /**
   * maxelem of our sets as the kernel has them, when known. A commit starts
   * with the set's `create` line (a no-op with -exist when it matches): ipset
   * restore then batches the adds, where otherwise it sends the kernel one
   * message per member (100k adds: 0.4 s instead of 1.5 s).
   */
  const maxElemOf = new Map<4 | 6, number>();
  const pending = new PendingChanges();

  /** Our rules for one family put right: the expected one in each hooked chain, nothing else. */
  const planRules = (family: 4 | 6, rules: readonly IptablesRule[]) => {
    const expected = ruleArgs(o, family).join(' ');
    const drop: IptablesRule[] = [];
    const insert: string[] = [];
    for (const chain of ['INPUT', 'FORWARD'] as const) {
      const here = rules.filter((r) => r.chain === chain);
      const keep = hooksOf(o).includes(chain) ? here.find((r) => r.args.join(' ') === expected) : undefined;
      drop.push(...here.filter((r) => r !== keep));
      if (hooksOf(o).includes(chain) && !keep) insert.push(chain);
    }
    return { drop, insert };
  };

  const applyRules = async (family: 4 | 6, plan: { drop: IptablesRule[]; insert: string[] }, phase: 'drop' | 'insert') => {
    if (phase === 'drop') for (const r of plan.drop) await io.iptables(family, ['-w', '-D', r.chain, ...r.args]);
    else for (const chain of plan.insert) await io.iptables(family, ['-w', '-I', chain, '1', ...ruleArgs(o, family)]);
  };

  const rulesRepairs = (family: 4 | 6, plan: { drop: IptablesRule[]; insert: string[] }) => {
    const cmd = iptablesCommand(o, family);
    const out: string[] = [];
    if (plan.drop.length) out.push(`${cmd}: removed ${plan.drop.length} changed or duplicate rule(s) for ipset ${setName(o.table, family)}`);
    for (const chain of plan.insert) out.push(`${cmd}: the rule for ipset ${setName(o.table, family)} in ${chain} was missing`);
    return out;
  };

  /** Creates missing sets and rules, members aside: for a commit that found our sets gone. */
  const ensureStructure = async () => {
    const names = await io.setNames(mirror);
    const missing = FAMILIES.filter((f) => !names.includes(setName(o.table, f)));
    if (missing.length) await io.restore(missing.map((f) => createLine(setName(o.table, f), f, maxElemFor(o, 0), 0)).join('\n') + '\n');
    for (const f of missing) maxElemOf.set(f, maxElemFor(o, 0));
    for (const f of FAMILIES) {
      const plan = planRules(f, ourRules(await io.rulesText(f, mirror), setName(o.table, f)));
      await applyRules(f, plan, 'drop');
      await applyRules(f, plan, 'insert');
    }
  };

  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      mirror.forget();
      maxElemOf.clear();
      throw err;
    }
  };

  return {
    name: opts.name ?? 'ipset',
    check: () => io.check(),
    add(entry) {
      pending.add(entry);
    },
    remove(net) {
      pending.remove(net);
    },
    async commit() {
      const batch = pending.take();
      if (!batch) return;
      const { adds: added, removes: gone } = batch;
      const build = () => {
        const lines: string[] = [];
        for (const f of FAMILIES) {
          const name = setName(o.table, f);
          const mine = added.filter((e) => e.net.family === f);
          const max = maxElemOf.get(f);
          if (mine.length && max !== undefined) lines.push(createLine(name, f, max, 0));
          lines.push(...delLines(name, gone.filter((n) => n.family === f)));
          lines.push(...addLines(name, mine));
        }
        return lines.join('\n') + '\n';
      };
      await guarded(async () => {
        try {
          await io.restore(build());
        } catch (err) {
          if (!/does not exist/.test((err as Error).message)) throw err;
          await ensureStructure();
          await io.restore(build());
        }
      });
      mirror.applied(
        placeIpset(o.table, added),
        gone.map((net) => ({ set: setName(o.table, net.family), net })),
      );
    },
    async sync(active) {
      pending.clear();
      const placed = placeIpset(o.table, active);
      await guarded(async () => {
        const names = await io.setNames(mirror);
        const lines: string[] = [];
        for (const f of FAMILIES) {
          const name = setName(o.table, f);
          const want = active.filter((e) => e.net.family === f);
          if (names.includes(name)) lines.push(...replaceLines(o.table, f, want, maxElemFor(o, want.length)));
          else lines.push(createLine(name, f, maxElemFor(o, want.length), want.length), ...addLines(name, want));
        }
        await io.restore(lines.join('\n') + '\n');
        for (const f of FAMILIES) maxElemOf.set(f, maxElemFor(o, active.filter((e) => e.net.family === f).length));
        for (const f of FAMILIES) {
          const plan = planRules(f, ourRules(await io.rulesText(f, mirror), setName(o.table, f)));
          await applyRules(f, plan, 'drop');
          await applyRules(f, plan, 'insert');
        }
      });
      mirror.reset(placed);
    },
    async reconcile(wanted) {
      pending.clear();
      let placed: Placed[] = [];
      let added = 0;
      let removed = 0;
      let refreshed = 0;
      const repairs: string[] = [];
      const restore: string[] = [];
      const rulePlans = new Map<4 | 6, ReturnType<typeof planRules>>();
      const resulting = new Map<4 | 6, number>();
      await guarded(async () => {
        const kernel = new Map<4 | 6, { state: IpsetState | null; rules: IptablesRule[] }>();
        for (const f of FAMILIES) {
          const name = setName(o.table, f);
          kernel.set(f, { state: await io.readSet(name, f, mirror), rules: ourRules(await io.rulesText(f, mirror), name) });
        }
        placed = placeIpset(o.table, wantedNow(wanted));
        for (const f of FAMILIES) {
          const name = setName(o.table, f);
          const want = placed.filter((p) => p.entry.net.family === f);
          const need = maxElemFor(o, want.length);
          const state = kernel.get(f)!.state;
          let rules = kernel.get(f)!.rules;
          const familyWord = f === 4 ? 'inet' : 'inet6';
          resulting.set(f, need);
          if (!state) {
            repairs.push(`ipset ${name} was missing`);
            restore.push(createLine(name, f, need, want.length), ...addLines(name, want.map((p) => p.entry)));
            added += want.length;
          } else if (state.header.type !== 'hash:net' || state.header.family !== familyWord || !state.header.timeouts || state.header.extensions.length) {
            const extras = state.header.extensions.length ? ` with ${state.header.extensions.join(', ')}` : '';
            repairs.push(
              `ipset ${name} was ${state.header.type} family ${String(state.header.family)}${state.header.timeouts ? '' : ' without timeouts'}${extras}, not hash:net family ${familyWord} with timeouts`,
            );
            // A set of another type cannot be swapped for ours: our rules let go of it, and it is made anew.
            rulePlans.set(f, { drop: rules, insert: [] });
            rules = [];
            restore.push(`destroy ${name}`, createLine(name, f, need, want.length), ...addLines(name, want.map((p) => p.entry)));
            added += want.length;
            removed += state.members.length + state.unreadable;
          } else {
            const d = diffMembers(state.members, want, { maxTtlMs: MAX_TTL_MS });
            const unreadable = state.unreadable + (d.unreadable.get(name) ?? 0);
            added += d.add.length;
            removed += d.remove.length + unreadable;
            refreshed += d.refresh.length;
            const tooSmall = (state.header.maxElem ?? 0) < need;
            if (tooSmall || unreadable) {
              if (tooSmall) repairs.push(`ipset ${name} had maxelem ${String(state.header.maxElem)}, too small for ${want.length} members with headroom: now ${need}`);
              if (unreadable) repairs.push(`ipset ${name} held ${unreadable} member(s) that are not addresses or networks of its family`);
              restore.push(...replaceLines(o.table, f, want.map((p) => p.entry), need));
            } else {
              const max = state.header.maxElem ?? need;
              resulting.set(f, max);
              const toAdd = [...d.add, ...d.refresh].map((p) => p.entry);
              if (toAdd.length) restore.push(createLine(name, f, max, 0));
              restore.push(...delLines(name, d.remove.map((r) => r.net)));
              restore.push(...addLines(name, toAdd));
            }
          }
          const plan = planRules(f, rules);
          const earlier = rulePlans.get(f);
          rulePlans.set(f, { drop: [...(earlier?.drop ?? []), ...plan.drop], insert: plan.insert });
          repairs.push(...rulesRepairs(f, plan));
        }
        for (const f of FAMILIES) await applyRules(f, rulePlans.get(f)!, 'drop');
        if (restore.length) await io.restore(restore.join('\n') + '\n');
        for (const [f, max] of resulting) maxElemOf.set(f, max);
        for (const f of FAMILIES) await applyRules(f, rulePlans.get(f)!, 'insert');
      });
      mirror.reset(placed);
      const report: ReconcileReport = { added, removed, refreshed, recreated: repairs.length > 0, repairs };
      return report;
    },
    async flush() {
      const removed: string[] = [];
      const destroy: string[] = [];
      for (const f of FAMILIES) {
        const { rules, sets } = await io.ours(f);
        for (const r of rules) {
          await io.iptables(f, ['-w', '-D', r.chain, ...r.args]);
          removed.push(`${iptablesCommand(o, f)} rule in ${r.chain}: ${r.args.join(' ')}`);
        }
        for (const name of [setName(o.table, f), tempSetName(o.table, f)]) {
          if (!sets.includes(name)) continue;
          destroy.push(`destroy ${name}`);
          removed.push(`ipset ${name}`);
        }
      }
      if (destroy.length) await io.restore(destroy.join('\n') + '\n');
      mirror.forget();
      return { removed };
    },
    async shutdown() {},
  };
}

const SHOWN = 600;

/** The real kernel, through the ipset and iptables commands. */
export function realIpsetIo(o: IpsetOptions): IpsetIo {
  const cmd = (f: 4 | 6) => iptablesCommand(o, f);
  const setNames = async () =>
    (await mustRun('ipset', ['list', '-n']))
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
  return {
    async check() {
      await mustRun('ipset', ['list', '-n']);
      for (const f of FAMILIES) await mustRun(cmd(f), ['-w', '-S', 'INPUT']);
    },
    async readSet(name, family) {
      const r = await tool('ipset', ['save', name]);
      if (r.ok) return readIpsetSave(r.stdout, name, family);
      if (/does not exist/.test(r.stderr)) return null;
      throw new UserError(`ipset save ${name} failed: ${r.stderr.slice(0, SHOWN)}`);
    },
    rulesText: (family) => mustRun(cmd(family), ['-w', '-S']),
    async ours(family) {
      const text = await mustRun(cmd(family), ['-w', '-S']);
      return { rules: ourRules(text, setName(o.table, family)), sets: await setNames() };
    },
    setNames,
    async restore(script) {
      const r = await tool('ipset', ['restore', '-exist'], script);
      if (!r.ok) throw new UserError(`ipset restore failed: ${r.stderr.slice(0, SHOWN) || 'no message'}`);
    },
    async iptables(family, args) {
      await mustRun(cmd(family), args);
    },
  };
}
