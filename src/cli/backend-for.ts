import type { Config } from '../config/schema.js';
import type { FirewallBackend } from '../firewall/backend.js';
import { createBackend } from '../firewall/index.js';
import type { Io } from './io.js';

/**
 * The firewall backend of a config. Apart from context.ts so that commands
 * that never touch the firewall (check, list, status …) do not load it.
 */
export function backendFor(cfg: Config, io: Io): FirewallBackend {
  return createBackend(cfg.firewall, io.out);
}
