import { dirname, isAbsolute, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

export interface CommonOptions {
  config?: string;
  dryRun?: boolean;
}

/** Loads the config, with relative paths taken from the config file's folder and CLI overrides applied. */
export function configFrom(opts: CommonOptions): Config {
  const { config, path } = loadConfig(opts.config);
  const base = path ? dirname(resolve(path)) : process.cwd();
  const abs = (p: string) => (isAbsolute(p) || p === ':memory:' ? p : resolve(base, p));
  return {
    ...config,
    database: abs(config.database),
    sources: config.sources.map((s) => (s.type === 'file' ? { ...s, path: abs(s.path) } : s)),
    // --dry-run prints the scripts of the configured backend.
    firewall: opts.dryRun
      ? { ...config.firewall, backend: 'dry-run', dryRunOf: config.firewall.backend === 'dry-run' ? config.firewall.dryRunOf : config.firewall.backend }
      : config.firewall,
  };
}
