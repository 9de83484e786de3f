// The indexed window queries the red-flag rules ask of the audit log. Each one is bounded by an
// index range (subject, action, time), so its cost does not grow with the size of the log.
import type { Sqlite } from '../db/connection.js';

export function createRuleQueries(sqlite: Sqlite) {
  // subject is lower(target, else principal): "Operator" and "operator" are one account
  const bySubject = sqlite.prepare(
    `SELECT count(*) AS n FROM audit_log WHERE subject = lower(?) AND action = ? AND ts >= ? AND ts <= ? AND (? IS NULL OR outcome = ?)`,
  );
  const idsBySubject = sqlite.prepare(
    `SELECT id FROM audit_log WHERE subject = lower(?) AND action = ? AND ts >= ? AND ts <= ? AND (? IS NULL OR outcome = ?) ORDER BY ts DESC LIMIT ?`,
  );
  // per target system (IS: a missing system is its own group)
  const byAction = sqlite.prepare(
    `SELECT count(*) AS n FROM audit_log WHERE action = ? AND ts >= ? AND ts <= ? AND (? IS NULL OR outcome = ?) AND target_system IS ?`,
  );
  const idsByAction = sqlite.prepare(`SELECT id FROM audit_log WHERE action = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?`);
  const distinctSubjects = sqlite.prepare(
    `SELECT count(DISTINCT subject) AS n FROM audit_log WHERE action = ? AND ts >= ? AND ts <= ? AND target_system IS ?`,
  );
  const failureDays = sqlite.prepare(
    `SELECT DISTINCT CAST(ts / 86400000 AS INTEGER) AS day FROM audit_log
     WHERE action = ? AND outcome = 'FAILURE' AND ts >= ? AND ts <= ? AND target_system IS ? ORDER BY day DESC`,
  );
  const byFingerprint = sqlite.prepare(`SELECT count(*) AS n FROM audit_log WHERE fingerprint = ? AND ts >= ? AND ts <= ?`);
  const serverErrors = sqlite.prepare(`SELECT count(*) AS n FROM audit_log WHERE http >= 500 AND ts >= ? AND ts <= ? AND protocol = 'SCIM'`);
  const authCauses = sqlite.prepare(
    `SELECT fingerprint, count(*) AS n FROM audit_log WHERE action = 'SCIM_AUTH' AND ts >= ? AND ts <= ? GROUP BY fingerprint ORDER BY n DESC LIMIT 5`,
  );
  const scimRemovals = sqlite.prepare(
    `SELECT id FROM audit_log WHERE principal = ? AND action IN ('PROVISIONING_DELETE', 'PROVISIONING_DISABLE') AND ts >= ? AND ts <= ?
       AND protocol = 'SCIM' AND outcome = 'SUCCESS' ORDER BY ts DESC`,
  );
  const origin = sqlite.prepare('SELECT 1 FROM login_origins WHERE subject = ? AND kind = ? AND value = ?');
  const anyOrigin = sqlite.prepare('SELECT 1 FROM login_origins WHERE subject = ? AND kind = ? LIMIT 1');
  const addOrigin = sqlite.prepare('INSERT OR IGNORE INTO login_origins (subject, kind, value, first_seen) VALUES (?, ?, ?, ?)');
  const tokenByName = sqlite.prepare('SELECT expires_at AS expiresAt, revoked_at AS revokedAt, scope FROM api_tokens WHERE lower(name) = lower(?)');

  const n = (row: unknown) => (row as { n: number }).n;

  return {
    countForSubject: (subject: string, action: string, since: number, until: number, outcome: string | null = null) =>
      n(bySubject.get(subject, action, since, until, outcome, outcome)),
    idsForSubject: (subject: string, action: string, since: number, until: number, outcome: string | null = null, limit = 50) =>
      (idsBySubject.all(subject, action, since, until, outcome, outcome, limit) as { id: number }[]).map((r) => r.id),
    /** entries of one action in a window, for one target system (null: entries that name none) */
    countForAction: (action: string, since: number, until: number, system: string | null, outcome: string | null = null) =>
      n(byAction.get(action, since, until, outcome, outcome, system)),
    idsForAction: (action: string, since: number, until: number, limit = 50) => (idsByAction.all(action, since, until, limit) as { id: number }[]).map((r) => r.id),
    distinctSubjects: (action: string, since: number, until: number, system: string | null) => n(distinctSubjects.get(action, since, until, system)),
    /** UTC day numbers with at least one failure of the action on one system, newest first */
    failureDays: (action: string, since: number, until: number, system: string | null) =>
      (failureDays.all(action, since, until, system) as { day: number }[]).map((r) => r.day),
    countFingerprint: (fingerprint: string, since: number, until: number) => n(byFingerprint.get(fingerprint, since, until)),
    countServerErrors: (since: number, until: number) => n(serverErrors.get(since, until)),
    authFailureCauses: (since: number, until: number) => authCauses.all(since, until) as { fingerprint: string | null; n: number }[],
    /** ids of the users and groups one token deleted or deactivated over SCIM in a window */
    scimRemovals: (principal: string, since: number, until: number) => (scimRemovals.all(principal, since, until) as { id: number }[]).map((r) => r.id),
    /** records where a user signed in from; true when the value is new and the user had earlier origins */
    isNewOrigin(subject: string, kind: 'ip' | 'country', value: string, at: number): boolean {
      if (origin.get(subject, kind, value)) return false;
      const hadAny = !!anyOrigin.get(subject, kind);
      addOrigin.run(subject, kind, value, at);
      return hadAny;
    },
    token: (name: string) => tokenByName.get(name) as { expiresAt: number | null; revokedAt: number | null; scope: string } | undefined,
  };
}

export type RuleQueries = ReturnType<typeof createRuleQueries>;
