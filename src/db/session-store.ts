// @fastify/session store on SQLite, so console sessions survive a restart. Session ids are only
// ever looked up, never written to the audit log, and stored as their SHA-256 only: the cookie is
// the session id signed with the secret kept in the same file (settings.session_secret), so a
// stored id would let anyone who reads the file (a copied backup) forge a signed-in admin's cookie.
// A hash cannot be turned back into the id. (Rows stored before hashing no longer match: their
// sessions sign in again.)
import { createHash } from 'node:crypto';
import type { Session } from 'fastify';
import type { Sqlite } from './connection.js';

/** what the sessions table stores for a session id */
export const sessionKey = (sid: string): string => createHash('sha256').update(sid, 'utf8').digest('base64url');

type Callback = (err?: unknown) => void;

export function createSessionStore(sqlite: Sqlite, ttlMs: () => number) {
  const get = sqlite.prepare('SELECT data, expires_at AS expiresAt FROM sessions WHERE sid = ?');
  const set = sqlite.prepare(
    'INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?) ON CONFLICT(sid) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at',
  );
  const destroy = sqlite.prepare('DELETE FROM sessions WHERE sid = ?');
  const purge = sqlite.prepare('DELETE FROM sessions WHERE expires_at < ?');
  let lastPurge = 0;

  return {
    get(sid: string, callback: (err: unknown, session?: Session | null) => void): void {
      try {
        const row = get.get(sessionKey(sid)) as { data: string; expiresAt: number } | undefined;
        if (!row || row.expiresAt < Date.now()) return callback(null, null);
        callback(null, JSON.parse(row.data) as Session);
      } catch (error) {
        callback(error);
      }
    },
    set(sid: string, session: Session, callback: Callback): void {
      try {
        const now = Date.now();
        set.run(sessionKey(sid), JSON.stringify(session), now + ttlMs());
        if (now - lastPurge > 60_000) {
          lastPurge = now;
          purge.run(now);
        }
        callback();
      } catch (error) {
        callback(error);
      }
    },
    destroy(sid: string, callback: Callback): void {
      try {
        destroy.run(sessionKey(sid));
        callback();
      } catch (error) {
        callback(error);
      }
    },
  };
}
