import type { FirewallBackend } from './backend.js';
import { createNftablesBackend } from './nftables.js';

/**
 * Touches nothing: prints the exact script the nftables backend would run, in a
 * form that can be pasted into a root shell.
 */
export function createDryRunBackend(table: string, print: (text: string) => void): FirewallBackend {
  return createNftablesBackend(
    table,
    async (script) => print(`nft -f - <<'EOF'\n${script}EOF\n`),
    'dry-run',
  );
}
