// API tokens (SCIM bearer tokens and, later, ingest/read tokens). Only a hash is stored.
import type { Sqlite } from './connection.js';

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
  byHash(tokenHash: string): TokenRecord | undefined;
  byName(name: string): TokenRecord | undefined;
  list(): TokenRecord[];
  revoke(id: number, at: number): void;
  touch(id: number, at: number): void;
}

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
  // at most one write a second per token: last use does not need millisecond precision
  const touch = sqlite.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ? - 1000)');

  return {
    insert(t) {
      const info = insert.run(t);
      return byId.get(info.lastInsertRowid) as TokenRecord;
    },
    byHash: (h) => byHash.get(h) as TokenRecord | undefined,
    byName: (n) => byName.get(n) as TokenRecord | undefined,
    list: () => list.all() as TokenRecord[],
    revoke: (id, at) => void revoke.run(at, id),
    touch: (id, at) => void touch.run(at, id, at),
  };
}
