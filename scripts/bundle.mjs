// Bundles the CLI that `npm run build` compiled (dist/src) into dist/blocker:
// the `blocker` binary users run. Node loads an ES module per file, and
// resolving, reading and linking the program's ~150 files and its packages'
// (zod alone is ~80 of them) took a third of `blocker check`'s start-up and
// its config loading a quarter of a second; one file per entry point and a
// shared chunk per lazily loaded command take a fraction of that.
//
// better-sqlite3 stays outside: it is a native addon found at run time.
// The worker that check's big files are matched in is an entry of its own,
// next to the chunk that starts it (parallel-read finds it beside itself).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'blocker');
rmSync(out, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/bin.js', 'dist/src/pipeline/replay-worker.js'],
  outdir: out,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3'],
  // The CommonJS packages (commander, cli-table3, ipaddr.js) call require() for Node's own
  // modules, which an ES module has no binding for.
  banner: { js: "import { createRequire as __blockerRequire } from 'node:module'; const require = __blockerRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
