import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firewallBench } from './firewall.bench.js';
import { liveBench } from './live.bench.js';
import { parseBench } from './parse.bench.js';
import type { BenchModule } from './types.js';

/**
 * `npm run bench [name…]`: every module below, in order (or the named ones).
 * To add a benchmark, write bench/<name>.bench.ts exporting a BenchModule and
 * add it to this list.
 */
const MODULES: BenchModule[] = [parseBench, liveBench, firewallBench];

const root = fileURLToPath(new URL('../../', import.meta.url));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !MODULES.some((m) => m.name === w));
if (unknown.length) {
  process.stderr.write(`bench: no module named ${unknown.join(', ')}; there are: ${MODULES.map((m) => m.name).join(', ')}\n`);
  process.exit(2);
}
const cpu = cpus();
process.stdout.write(
  `bench: ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}\n`,
);
let failed = false;
for (const m of MODULES.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
  const tmpDir = mkdtempSync(join(tmpdir(), `blocker-bench-${m.name}-`));
  process.stdout.write(`\n[${m.name}] ${m.description}\n`);
  try {
    await m.run({ tmpDir, cli: join(root, 'dist', 'blocker', 'bin.js'), log: (line) => void process.stdout.write(`  ${line}\n`) });
  } catch (err) {
    failed = true;
    process.stdout.write(`  FAILED: ${(err as Error).message}\n`);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
process.exit(failed ? 1 : 0);
