import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The installed package's root (where package.json, migrations/ and data/ are).
 * Found by walking up, because the code runs both from src/ (tests) and dist/src/.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'migrations'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('handshake-blocker: cannot find the package root (package.json + migrations/)');
    dir = up;
  }
  root = dir;
  return root;
}
