import { UserError } from '../errors.js';
import { wantedNow, type FirewallBackend, type ReconcileReport } from './backend.js';
import { tool } from './exec.js';
import { diffMembers, type Placed } from './members.js';
import { Mirror } from './mirror.js';
import { PendingChanges } from './pending.js';
import {
  changeLines,
  declareLines,
  placeAll,
  rebuildLines,
  removeTableLines,
  setFor,
  SETS,
  syncLines,
  type NftOptions,
} from './nftables-script.js';
import { readNftTable, type NftView } from './nftables-state.js';

/** How the backend reaches the kernel: `nft` itself, or a printer (dry-run). */
export interface NftIo {
  check(): Promise<void>;
  /** Our table as the kernel holds it; null when it does not exist. */
  read(o: NftOptions, mirror: Mirror): Promise<NftView | null>;
  /** Runs one script as one transaction. */
  run(script: string): Promise<void>;
  /** Whether our table exists (for what flush reports). */
  exists(table: string): Promise<boolean>;
}

export function createNftablesBackend(
  o: NftOptions,
  io: NftIo = nftIo,
  opts: { name?: string; clock?: () => number } = {},
): FirewallBackend {
  const mirror = new Mirror(opts.clock ?? Date.now);
  const pending = new PendingChanges();
  const t = `inet ${o.table}`;
  // Validates the options before anything runs.
  declareLines(o);

  const run = async (lines: string[], onDone: () => void) => {
    try {
      await io.run(lines.join('\n') + '\n');
      onDone();
    } catch (err) {
      mirror.forget();
      throw err;
    }
  };

  return {
    name: opts.name ?? 'nftables',
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
      const fresh: Placed[] = [];
      const reset: Placed[] = [];
      for (const entry of batch.adds) {
        const p = { set: setFor(entry.net), entry };
        (mirror.surelyAbsent(p.set, entry.net) ? fresh : reset).push(p);
      }
      const gone = batch.removes.map((net) => ({ set: setFor(net), net }));
      await run([...declareLines(o), ...changeLines(o, { fresh, reset, removes: gone })], () =>
        mirror.applied([...fresh, ...reset], gone),
      );
    },
    async sync(active) {
      pending.clear();
      await run(syncLines(o, active), () => mirror.reset(placeAll(active)));
    },
    async reconcile(wanted) {
      pending.clear();
      const view = await io.read(o, mirror);
      const active = wantedNow(wanted);
      const placed = placeAll(active);
      if (!view) {
        await run([...declareLines(o), ...changeLines(o, { fresh: placed })], () => mirror.reset(placed));
        return { added: placed.length, removed: 0, refreshed: 0, recreated: true, repairs: [`table ${t} was missing`] };
      }
      let diff = diffMembers(view.members, placed);
      const unreadable = new Map(view.unreadable);
      for (const [set, n] of diff.unreadable) unreadable.set(set, (unreadable.get(set) ?? 0) + n);
      // A set with foreign elements is flushed and refilled: compare again without its members.
      if (unreadable.size) diff = diffMembers([...view.members].filter((m) => !unreadable.has(m.set)), placed);
      const repairs = [...view.rebuild, ...view.repairs];
      for (const [set, n] of unreadable) repairs.push(`set ${set} held ${n} element(s) that are not addresses or networks of its family`);
      const report: ReconcileReport = {
        added: diff.add.length,
        removed: diff.remove.length + [...unreadable.values()].reduce((a, b) => a + b, 0),
        refreshed: diff.refresh.length,
        recreated: repairs.length > 0,
        repairs,
      };
      if (view.rebuild.length) {
        await run(rebuildLines(o, active), () => mirror.reset(placed));
        return report;
      }
      if (!repairs.length && !diff.add.length && !diff.remove.length && !diff.refresh.length) {
        mirror.reset(placed);
        return report;
      }
      const flushed = SETS.filter((s) => unreadable.has(s.name)).map((s) => `flush set ${t} ${s.name}`);
      await run(
        [...declareLines(o), ...flushed, ...changeLines(o, { fresh: diff.add, reset: diff.refresh, removes: diff.remove })],
        () => mirror.reset(placed),
      );
      return report;
    },
    async flush() {
      const existed = await io.exists(o.table);
      await run(removeTableLines(o.table), () => mirror.forget());
      return { removed: existed ? [`nftables table ${t} (its sets, counters, chains and rules)`] : [] };
    },
    async shutdown() {},
  };
}

const SHOWN = 600;

async function nft(args: string[], input?: string) {
  return tool('nft', args, input);
}

/** The real kernel, through the `nft` command. */
export const nftIo: NftIo = {
  async check() {
    const r = await nft(['list', 'tables']);
    if (!r.ok) throw new UserError(`nft does not work here: ${r.stderr.slice(0, SHOWN)}`);
  },
  async read(o) {
    // -n: numbers only, no name lookups (a tenth faster with 100k members).
    const r = await nft(['-j', '-n', 'list', 'table', 'inet', o.table]);
    if (r.ok) return readNftTable(r.stdout, o);
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new UserError(`nft -j list table inet ${o.table} failed: ${r.stderr.slice(0, SHOWN)}`);
  },
  async run(script) {
    const r = await nft(['-f', '-'], script);
    if (!r.ok) throw new UserError(`nft failed: ${r.stderr.slice(0, SHOWN) || 'no message'}`);
  },
  async exists(table) {
    // -t (terse) leaves the members out, so this stays quick with 100k of them.
    return (await nft(['-t', 'list', 'table', 'inet', table])).ok;
  },
};
