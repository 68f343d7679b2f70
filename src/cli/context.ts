import type { Config } from '../config/schema.js';
import { openStore, type Store } from '../store/store.js';

// In a module of its own so that a command needing only the config (check) loads no store.
export { configFrom, type CommonOptions } from './config-from.js';

export function storeFor(cfg: Config): Store {
  return openStore(cfg.database);
}
