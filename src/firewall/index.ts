import type { FirewallConfig } from '../config/schema.js';
import type { FirewallBackend } from './backend.js';
import { createDryRunBackend } from './dry-run.js';
import { createNftablesBackend } from './nftables.js';

export function createBackend(cfg: FirewallConfig, print: (text: string) => void): FirewallBackend {
  switch (cfg.backend) {
    case 'dry-run':
      return createDryRunBackend(cfg.table, print);
    case 'nftables':
      return createNftablesBackend(cfg.table);
  }
}
