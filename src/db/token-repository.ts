// API tokens (SCIM bearer tokens and, later, ingest/read tokens). Only a hash is stored.
import type { Sqlite } from './connection.js';
import { createReadCache } from './read-cache.js';

export type TokenScope = 'scim' | 'ingest' | 'read';

export interface TokenRecord {
  id: number;
  name: string;
  scope: TokenScope;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  createdBy: string | null;
}

export interface TokenRepository {
  insert(t: { name: string; tokenHash: string; scope: TokenScope; createdAt: number; expiresAt: number | null; createdBy: string | null }): TokenRecord;
  /**
   * Served from memory (db/read-cache.ts: a revocation by the CLI in another process applies to the
   * next request); its lastUsedAt may lag behind the table's.
   */
  byHash(tokenHash: string): Readonly<TokenRecord> | undefined;
  byName(name: string): TokenRecord | undefined;
  list(): TokenRecord[];
  revoke(id: number, at: number): void;
  /** marks the token used at `at`, to the second (see TOUCH_INTERVAL_MS) */
  touch(id: number, at: number): void;
}

/**
 * Last use is recorded at most once a second per token: the Tokens screen and `token list` show it
 * to the second (a stored value is at most this much older than the last request), while requests
 * within the same second cost no UPDATE, nor even a statement (the last write is remembered here).
 */
export const TOUCH_INTERVAL_MS = 1000;

const COLUMNS = `id, name, scope, created_at AS createdAt, expires_at AS expiresAt, last_used_at AS lastUsedAt,
  revoked_at AS revokedAt, created_by AS createdBy`;

export function createTokenRepository(sqlite: Sqlite): TokenRepository {
  const insert = sqlite.prepare(
    `INSERT INTO api_tokens (name, token_hash, scope, created_at, expires_at, created_by)
     VALUES (@name, @tokenHash, @scope, @createdAt, @expiresAt, @createdBy)`,
  );
  const byId = sqlite.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`);
  const byHash = sqlite.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ?`);
  const byName = sqlite.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE lower(name) = lower(?)`);
  const list = sqlite.prepare(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC`);
  const revoke = sqlite.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  // the guard also keeps a value written by another process (or before a restart) from going back
  const touch = sqlite.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ? - ?)');
  const cache = createReadCache<string, Readonly<TokenRecord> | undefined>(sqlite, { keepMisses: false });
  /** when this process last wrote each token's last use (a write rolled back costs one interval) */
  const touchedAt = new Map<number, number>();

  return {
    insert(t) {
      cache.clear();
      const info = insert.run(t);
      return byId.get(info.lastInsertRowid) as TokenRecord;
    },
    // frozen: the cached record is shared by every request that presents the token
    byHash: (h) => cache.get(h, () => Object.freeze(byHash.get(h) as TokenRecord | undefined)),
    byName: (n) => byName.get(n) as TokenRecord | undefined,
    list: () => list.all() as TokenRecord[],
    revoke(id, at) {
      cache.clear();
      revoke.run(at, id);
    },
    touch(id, at) {
      const last = touchedAt.get(id);
      if (last !== undefined && at - last <= TOUCH_INTERVAL_MS) return;
      touch.run(at, id, at, TOUCH_INTERVAL_MS);
      if (touchedAt.size >= 1000) touchedAt.clear();
      touchedAt.set(id, at);
    },
  };
}
