import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDryRunBackend } from '../firewall/dry-run.js';
import { createLogger } from '../log.js';
import { packageRoot } from '../paths.js';
import { Daemon } from '../pipeline/daemon.js';
import { policyRules } from '../pipeline/rules.js';
import { openStore } from '../store/store.js';
import { configFrom } from './context.js';
import { relative, table } from './human.js';
import type { Io } from './io.js';

/**
 * Replays the bundled example logs through the live pipeline (sources,
 * signatures, a real SQLite store in a temporary folder, policy, and the
 * dry-run firewall), with the logs' own clock. Needs no root and touches nothing.
 */
export async function demoCommand(io: Io): Promise<number> {
  const configPath = join(packageRoot(), 'examples', 'demo.yaml');
  const cfg = configFrom({ config: configPath });
  const dir = mkdtempSync(join(tmpdir(), 'blocker-demo-'));
  const store = openStore(join(dir, 'demo.db'));
  try {
    io.out(`handshake-blocker demo: replaying ${cfg.sources.map((s) => ('path' in s ? s.path : s.name)).join(', ')}\n`);
    io.out(`policy: ban after ${cfg.policy.maxRetry} failures within ${cfg.policy.findTime / 60000}m; never ban ${cfg.policy.allow.map((a) => a.text).join(', ')} or ${cfg.policy.cdn.join(', ')} ranges\n\n`);
    io.out("the firewall commands it would run (dry-run backend); the demo runs on the logs' own clock,\n");
    io.out('so each timeout is what a ban has left at the end of the tick that wrote it:\n\n');
    let logNow = 0;
    const spared: string[] = [];
    const daemon = new Daemon({
      store,
      backend: createDryRunBackend(cfg.firewall.table, io.out),
      rules: policyRules(cfg),
      sources: cfg.sources.map((s) => ({ ...s, readFrom: 'start' as const })),
      log: createLogger((line) => {
        if (line.startsWith('info not banned')) spared.push(line.replace(/^info not banned: protected /, '  '));
      }),
      clock: () => logNow,
      replay: true,
    });
    await daemon.run({ once: true });
    const all = store.db.prepare('SELECT max(banned_at) AS t FROM bans').get() as { t: number | null };
    logNow = all.t ?? 0;
    const bans = store.bans.active(logNow);
    io.out(`\nit would ban ${bans.length} address(es), as \`blocker list\` would show them at the logs' last ban:\n\n`);
    io.out(
      table(
        ['IP', 'FAILURES', 'EXPIRES', 'REASON'],
        bans.map((b) => [b.ip.text, b.failures, relative(b.expiresAt, logNow), b.reason]),
      ),
    );
    if (spared.length) {
      io.out(`\nreached the threshold but protected, so never banned:\n${spared.join('')}`);
    }
    io.out('\nTry it on your own logs:  node dist/blocker/bin.js check /var/log/nginx/error.log\n');
    return 0;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
