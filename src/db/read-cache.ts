// In-memory caches of small, rarely written tables read on every request (settings, API tokens),
// kept exact although the CLI writes to the same file from another process while the server runs.
//
// - Another connection's commit changes `PRAGMA data_version` on this connection
//   (https://sqlite.org/pragma.html#pragma_data_version): every cache of the connection is then
//   dropped before its next read.
// - This connection's own commits do not change it: the repository owning a cache calls clear() on
//   each of its writes (all writes to its table go through it).
// - Inside a transaction nothing is cached or served from the cache: the transaction may see, or
//   later roll back, what no committed state holds.
//
// data_version is read at most once per turn of the event loop (a value read is used until the
// next setImmediate runs), so the settings and token checks of the requests read from the network
// in one turn cost one statement. Outside a transaction each statement begins a WAL read
// transaction (shm locks): under bench:scim, one per request was ~6 % of the event loop in the
// GET phase. A value read before another process's commit is used until the next check phase
// has run (a value read during a check phase, in a setImmediate callback, until the one after):
// a request read from the network after that sees the commit. A CLI command's process takes far
// longer to exit after its commit than the server's loop takes to turn, so a request sent after the
// command returned sees what it changed. Code that commits through a second connection
// of the same process and then reads a cache lets a setImmediate pass first (in tests, a request
// through app.inject that reads or writes the database does).
import type { Sqlite } from './connection.js';

export interface ReadCache<K, V> {
  /** the cached value of `key`, or `load()` (cached when outside a transaction) */
  get(key: K, load: () => V): V;
  clear(): void;
}

interface Watch {
  /** data_version, read again after the next setImmediate */
  version(): number;
}

const watches = new WeakMap<Sqlite, Watch>();

function watchOf(sqlite: Sqlite): Watch {
  let watch = watches.get(sqlite);
  if (watch) return watch;
  const dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
  let current = 0;
  let fresh = false;
  const expire = () => {
    fresh = false;
  };
  watch = {
    version() {
      if (!fresh) {
        current = dataVersion.get()!;
        fresh = true;
        setImmediate(expire);
      }
      return current;
    },
  };
  watches.set(sqlite, watch);
  return watch;
}

/**
 * A cache of at most `max` entries (all dropped when full: the tables it mirrors are small).
 * With `keepMisses: false`, an undefined value (no such row) is not kept: lookups by a value the
 * client chooses (a token hash) then cannot fill the cache or push out the entries that matter.
 */
export function createReadCache<K, V>(sqlite: Sqlite, options: { max?: number; keepMisses?: boolean } = {}): ReadCache<K, V> {
  const max = options.max ?? 1000;
  const keepMisses = options.keepMisses ?? true;
  const watch = watchOf(sqlite);
  const entries = new Map<K, V>();
  let version = -1;
  return {
    get(key, load) {
      if (sqlite.inTransaction) return load();
      const v = watch.version();
      if (v !== version) {
        entries.clear();
        version = v;
      } else if (entries.has(key)) {
        return entries.get(key)!;
      }
      const value = load();
      if (value === undefined && !keepMisses) return value;
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
      return value;
    },
    clear() {
      entries.clear();
    },
  };
}
