// Key/value settings shared by the server and the CLI. Read on every use (no cache), so a change
// made by the CLI in another process takes effect on the running server at once.
import type { Sqlite } from './connection.js';

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
  const get = (key: string) => select.get(key)?.value;
  const set = (key: string, value: string) => void upsert.run(key, value);

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
