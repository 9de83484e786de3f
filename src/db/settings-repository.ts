// Key/value settings shared by the server and the CLI. Cached in memory (db/read-cache.ts): a change
// made by the CLI in another process still takes effect on the running server at its next request.
import type { Sqlite } from './connection.js';
import { createReadCache } from './read-cache.js';

export type ProvisioningMode = 'scim' | 'entra';

export interface SettingsRepository {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  scimEnabled(): boolean;
  provisioningMode(): ProvisioningMode;
  /** SCIM requests refused while Entra ID mode was on (count and time of the last one) */
  entraRefusals(): { count: number; lastAt: number | null };
  countEntraRefusal(at: number): void;
}

export function createSettingsRepository(sqlite: Sqlite): SettingsRepository {
  const select = sqlite.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const upsert = sqlite.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const increment = sqlite.prepare(
    `INSERT INTO settings (key, value) VALUES ('entra_refused_count', '1')
     ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
  );
  const cache = createReadCache<string, string | undefined>(sqlite);
  const get = (key: string) => cache.get(key, () => select.get(key)?.value);
  // every write goes through set() (the refusal counter too), which drops the cache
  const set = (key: string, value: string) => {
    cache.clear();
    upsert.run(key, value);
  };

  return {
    get,
    set,
    scimEnabled: () => get('scim_enabled') === 'true',
    provisioningMode: () => (get('provisioning_mode') === 'entra' ? 'entra' : 'scim'),
    entraRefusals() {
      const last = get('entra_refused_last_at');
      return { count: Number(get('entra_refused_count') ?? 0), lastAt: last ? Number(last) : null };
    },
    countEntraRefusal(at) {
      sqlite.transaction(() => {
        increment.run();
        set('entra_refused_last_at', String(at));
      })();
    },
  };
}
