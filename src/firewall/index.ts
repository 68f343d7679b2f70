import { accessSync, constants } from 'node:fs';
import type { FirewallConfig } from '../config/schema.js';
import type { FirewallBackend } from './backend.js';
import { createDryRunBackend } from './dry-run.js';
import { FirewallUnavailable, resolveCommand } from './exec.js';
import { createIpsetBackend } from './ipset.js';
import { iptablesCommand } from './ipset-script.js';
import { createNftablesBackend } from './nftables.js';

export function createBackend(cfg: FirewallConfig, print: (text: string) => void): FirewallBackend {
  switch (cfg.backend) {
    case 'dry-run':
      return createDryRunBackend(cfg, print, realBackendOf(cfg, cfg.dryRunOf, false));
    case 'auto':
    case 'nftables':
    case 'ipset':
      return realBackendOf(cfg, cfg.backend, true) === 'ipset' ? createIpsetBackend(cfg) : createNftablesBackend(cfg);
  }
}

/**
 * `auto`: nftables where `nft` is installed, else ipset + iptables. Strict (a
 * real backend), finding neither is an error saying what to install; for
 * dry-run it falls back to printing nft scripts.
 */
export function realBackendOf(cfg: FirewallConfig, wanted: 'auto' | 'nftables' | 'ipset', strict: boolean): 'nftables' | 'ipset' {
  if (wanted !== 'auto') return wanted;
  if (installed('nft')) return 'nftables';
  if (installed('ipset') && installed(iptablesCommand(cfg, 4))) return 'ipset';
  if (!strict) return 'nftables';
  throw new FirewallUnavailable(
    'firewall.backend is auto, but neither nft nor ipset with iptables is installed: install nftables (Debian: apt-get install nftables), or ipset and iptables',
  );
}

function installed(cmd: string): boolean {
  const path = resolveCommand(cmd);
  if (!path.startsWith('/')) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
