import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../paths.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the database and applies pending migrations, each
 * in its own transaction and recorded in schema_migrations.
 */
export function openDatabase(
  path: string,
  options: { readonly?: boolean; busyTimeoutMs?: number; cacheKiB?: number } = {},
): Db {
  if (path !== ':memory:' && !options.readonly) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new UserError(`cannot create the directory for database ${path}: ${(err as Error).message}`);
    }
  }
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    // Another process (a CLI command beside the daemon) may hold the write lock briefly.
    // The daemon asks for less: a wait blocks its whole event loop, so it retries a tick instead.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    // Page cache per connection; better-sqlite3's build default is 16 MiB.
    if (options.cacheKiB) db.pragma(`cache_size = -${Math.floor(options.cacheKiB)}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as Error & { code?: string };
    throw new UserError(
      `cannot open database ${path}: ${e.message}` +
        (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT'
          ? ' (the file is not a usable SQLite database: move it aside and blocker will start a new one)'
          : ''),
    );
  }
  return db;
}

export function migrate(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const dir = join(packageRoot(), 'migrations');
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      record.run(version, file, Date.now());
    })();
  }
}
