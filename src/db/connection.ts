// Opens the SQLite database (WAL, synchronous=FULL so an acknowledged change survives power loss)
// and applies the drizzle-kit migrations from db/migrations at start-up (not for a second connection
// of a running server: the ingest writer thread's, { migrate: false }), then fills the SCIM fold
// keys of rows written before they existed.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { appPath } from '../paths.js';
import { foldSqlValue } from '../scim/fold.js';
import * as schema from './schema.js';
import { backfillScimKeys } from './scim-keys.js';

export type Sqlite = Database.Database;
export type Db = BetterSQLite3Database<typeof schema>;

export interface Connection {
  sqlite: Sqlite;
  db: Db;
  /** what the start-up found and could not repair (legacy case-variant names), for the operator */
  warnings: string[];
  close(): void;
}

export function openDatabase(path: string, options: { migrate?: boolean } = {}): Connection {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  // REPLACE then fires DELETE triggers too: one more guard of the append-only audit_log
  sqlite.pragma('recursive_triggers = ON');
  // the CLI writes to the same file while the server runs
  sqlite.pragma('busy_timeout = 5000');
  // 32 MiB of page cache: the audit indexes' hot pages stay in memory at tens of millions of rows
  // (bench:logs), while the process stays near 200 MB under SCIM load (bench:scim measured
  // 239 MB with 64 MiB, 199 MB with 32 MiB)
  sqlite.pragma('cache_size = -32768');
  // the append-only triggers make each INSERT keep a statement journal: in memory, not a temp file
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoint every ~200 MiB of WAL instead of 4 MiB. A checkpoint copies each page once however
  // often the WAL holds it, and the audit log's subject index takes a write on a random page of its
  // current day per entry: with more WAL between checkpoints, more of those writes land on pages
  // already in it.
  // bench:ingest (profiled: the checkpoint was 18 % of the writer thread) went from 12,653 ev/s with
  // ~40 MiB (10,000 pages) to 14,591-15,707 with 50,000 pages; 100,000 pages made the checkpoints
  // long enough to stall batches (p99 439 ms). The WAL file stays at that size on disk under load.
  sqlite.pragma('wal_autocheckpoint = 50000');
  // case-insensitive SCIM comparisons of values that have no stored key (JSON attributes): the same
  // fold as the keys (src/scim/fold.ts), where SQLite's lower() folds ASCII only. Queries only, never
  // the schema: an index or view on it would leave the file unusable by other SQLite tools.
  sqlite.function('scim_fold', { deterministic: true }, foldSqlValue);
  const db = drizzle(sqlite, { schema });
  let warnings: string[] = [];
  if (options.migrate !== false) {
    migrate(db, { migrationsFolder: appPath(import.meta.url, join('db', 'migrations'), join('meta', '_journal.json')) });
    warnings = backfillScimKeys(sqlite);
  }
  return {
    sqlite,
    db,
    warnings,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}
