// Fills the fold keys (user_name_key, display_name_key; migration 0013) of SCIM rows written before
// they existed. Run at start-up after the migrations; the write paths set the keys themselves.
import { fold } from '../scim/fold.js';
import type { Sqlite } from './connection.js';

interface Pending {
  seq: number;
  id: string;
  name: string;
  displayName: string | null;
}

const isUniqueViolation = (error: unknown) => (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';

/**
 * Fills the NULL keys, oldest row first, in one transaction; returns one warning per row left
 * without a key. Rows written before migration 0013 were unique by SQLite's ASCII-only lower(), so
 * "Élodie…" and "élodie…" may both exist: the first keeps the key, the later one keeps a NULL key
 * (a unique index never compares NULLs), so the server still starts; that row is not found by
 * userName (or group displayName) lookups until the first start after one of the two was renamed
 * or deleted (the backfill runs at start-up only).
 * Cheap when there is nothing to fill: one seek of each key index for NULL. A user's display key is
 * filled with its userName key (rows written since migration 0013 have both), so users whose key
 * is NULL because they have no displayName are not read at every start.
 */
export function backfillScimKeys(sqlite: Sqlite): string[] {
  const warnings: string[] = [];
  const pendingUsers = sqlite.prepare(
    `SELECT seq, id, user_name AS name, display_name AS displayName FROM scim_users WHERE user_name_key IS NULL ORDER BY seq`,
  );
  const pendingGroups = sqlite.prepare(`SELECT seq, id, display_name AS name, NULL AS displayName FROM scim_groups WHERE display_name_key IS NULL ORDER BY seq`);
  const anyUser = sqlite.prepare('SELECT 1 FROM scim_users WHERE user_name_key IS NULL LIMIT 1');
  const anyGroup = sqlite.prepare('SELECT 1 FROM scim_groups WHERE display_name_key IS NULL LIMIT 1');
  if (!anyUser.get() && !anyGroup.get()) return warnings;

  const setUserName = sqlite.prepare('UPDATE scim_users SET user_name_key = ? WHERE seq = ?');
  const setUserDisplay = sqlite.prepare('UPDATE scim_users SET display_name_key = ? WHERE seq = ?');
  const userHolding = sqlite.prepare('SELECT id, user_name AS name FROM scim_users WHERE user_name_key = ?');
  const setGroup = sqlite.prepare('UPDATE scim_groups SET display_name_key = ? WHERE seq = ?');
  const groupHolding = sqlite.prepare('SELECT id, display_name AS name FROM scim_groups WHERE display_name_key = ?');

  /** sets a unique key; on a conflict, leaves it NULL and says which row holds it */
  const setUnique = (row: Pending, set: typeof setUserName, holding: typeof userHolding, what: 'userName' | 'group displayName') => {
    const key = fold(row.name);
    try {
      set.run(key, row.seq);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const other = holding.get(key) as { id: string; name: string };
      warnings.push(
        `${what} ${JSON.stringify(row.name)} (id ${row.id}) is a case variant of ${JSON.stringify(other.name)} (id ${other.id}): ` +
          `${what} is unique case-insensitively, but both were created before iamtrail folded non-ASCII letters. ` +
          `Until iamtrail starts again after one of the two was renamed or deleted, a ${what} lookup or filter of either name finds ${other.id} only.`,
      );
    }
  };

  // IMMEDIATE: the CLI runs this too, beside a running server that writes (a deferred transaction
  // that reads first could not take the write lock once the server had committed)
  sqlite.transaction(() => {
    for (const row of pendingUsers.all() as Pending[]) {
      setUnique(row, setUserName, userHolding, 'userName');
      setUserDisplay.run(row.displayName === null ? null : fold(row.displayName), row.seq);
    }
    for (const row of pendingGroups.all() as Pending[]) setUnique(row, setGroup, groupHolding, 'group displayName');
  }).immediate();
  return warnings;
}
