// The indexed window queries the red-flag rules ask of the audit log. Each one is bounded by an
// index range (day, subject, action, time), so its cost does not grow with the size of the log.
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../db/connection.js';
import { DAY_MS as DAY, ENTRY_DAY_SQL, entryDay } from '../db/schema.js';
import { fold } from '../scim/fold.js';

/** the outcome filter of the subject queries for "every entry that is not a FAILURE" (no outcome included) */
export const NOT_FAILURE = '!FAILURE';
/** window counts stop here; a title then says "1000+" */
export const COUNT_CAP = 1000;
/** a target system as the synchronization rules group it: in lower case as SQLite's lower() folds it
 * (ASCII only), the key of their indexes, so that one flag stands for the entries counted together */
export const systemKey = (system: string | null) => (system === null ? null : system.replace(/[A-Z]+/g, (c) => c.toLowerCase()));
/** the failures of each day of a sync-failing-days run that its flag links */
export const SYNC_IDS_PER_DAY = 3;
/** the causes of a wall of 401s named one by one; the rest are counted together */
export const AUTH_CAUSES = 10;

export function createRuleQueries(sqlite: Sqlite) {
  // subject is target, else principal, folded (src/scim/fold.ts): "Operator" and "operator" are one
  // account, as are "Élodie" and "ÉLODIE". The subject asked is folded here too, not by SQLite's
  // lower(), which folds ASCII only.
  // The action and outcome are written into the SQL, never bound: a statement that binds a value
  // compared against a partial index's literal (audit_log_orphan_ts: action = '…') is re-prepared by
  // SQLite on every run, which cost more than the query itself. One statement per pair, kept.
  //
  // INDEXED BY: for `ORDER BY ts DESC LIMIT n`, SQLite's planner (without ANALYZE statistics) picked
  // audit_log_action_ts (dropped by migration 0016), which walked every entry of the action in the
  // window and checked the subject of each; on a log that grows, that is a scan. bench:ingest's
  // second run spent 35 % of the server's time in it at only 344,000 entries. The plan stays fixed
  // whatever index a later migration adds.
  //
  // The index begins with the entry's UTC day (migration 0012), so each statement asks one day; a
  // window asks each of its days, newest first (most windows lie within one day, a 24-hour one
  // within two).
  //
  // An outcome of NOT_FAILURE asks for every entry but the failures: an entry sent without outcome
  // (optional in the ingest API) counts as done unless it says otherwise. Still read from the
  // index alone: the outcome is its last column.
  const subjectStatements = new Map<string, Statement>();
  function forSubject(kind: 'count' | 'ids', action: string, outcome: string | null, limit = 0): Statement {
    const key = `${kind}|${action}|${outcome ?? ''}|${limit}`;
    let st = subjectStatements.get(key);
    if (!st) {
      if (!/^[A-Z_]+$/.test(action) || (outcome !== null && !/^!?[A-Z_]+$/.test(outcome))) throw new Error(`not an action code: ${key}`);
      if (!Number.isSafeInteger(limit) || limit < 0) throw new Error(`not a limit: ${limit}`);
      const byOutcome = outcome === null ? '' : outcome.startsWith('!') ? ` AND outcome IS NOT '${outcome.slice(1)}'` : ` AND outcome = '${outcome}'`;
      const where = `${ENTRY_DAY_SQL} = ? AND subject = ? AND action = '${action}' AND ts >= ? AND ts <= ?${byOutcome}`;
      // the LIMIT is written in too: a bound LIMIT also makes SQLite re-prepare on every run
      st =
        kind === 'count'
          ? sqlite.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM audit_log INDEXED BY audit_log_day_subject_action_ts WHERE ${where} LIMIT ${COUNT_CAP})`)
          : sqlite.prepare(`SELECT id FROM audit_log INDEXED BY audit_log_day_subject_action_ts WHERE ${where} ORDER BY ts DESC LIMIT ${limit}`);
      subjectStatements.set(key, st);
    }
    return st;
  }
  // Window counts stop at COUNT_CAP rows: a rule needs to know that a threshold is crossed, and a
  // flood (a wall of 401s, thousands of orphans) must not make each new entry re-count the flood.
  // scim-auth-wall: SCIM's authentication failures, from their own partial index (migration 0016),
  // which holds the fingerprint too (the causes) so neither query reads a row
  const scimAuth = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM audit_log WHERE action = 'SCIM_AUTH' AND ts >= ? AND ts <= ? LIMIT ${COUNT_CAP})`,
  );
  const scimAuthIds = sqlite.prepare(`SELECT id FROM audit_log WHERE action = 'SCIM_AUTH' AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?`);
  // the causes among the latest 401s of the window
  const authCauses = sqlite.prepare(
    `SELECT fingerprint, count(*) AS n FROM (SELECT fingerprint FROM audit_log WHERE action = 'SCIM_AUTH' AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ${COUNT_CAP})
     GROUP BY fingerprint ORDER BY n DESC LIMIT ${AUTH_CAUSES}`,
  );
  // the synchronization rules each have a small partial index of their own entries (migrations 0008,
  // 0014); the literal action in each query is what lets SQLite use it. The system is compared in
  // lower case, as the index is keyed ("Workday" and "WORKDAY" are one feed); IS: a missing system
  // is its own group.
  const system = `lower(target_system) IS lower(?)`;
  const orphans = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM audit_log WHERE action = 'SYNCHRONIZATION_ORPHAN' AND ${system} AND ts >= ? AND ts <= ? LIMIT ${COUNT_CAP})`,
  );
  const orphanIds = sqlite.prepare<[string | null, number, number, number], number>(
    `SELECT id FROM audit_log WHERE action = 'SYNCHRONIZATION_ORPHAN' AND ${system} AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?`,
  ).pluck();
  const reconUsers = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT DISTINCT subject FROM audit_log
       WHERE action = 'RECONCILIATION_RECORD_FALSE' AND ${system} AND ts >= ? AND ts <= ? LIMIT ${COUNT_CAP})`,
  );
  // the latest mismatch of each user among the window's latest COUNT_CAP, the latest users first
  const reconIds = sqlite.prepare<[string | null, number, number, number], number>(
    `SELECT id, max(ts) AS last FROM (SELECT id, subject, ts FROM audit_log
       WHERE action = 'RECONCILIATION_RECORD_FALSE' AND ${system} AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ${COUNT_CAP})
     GROUP BY subject ORDER BY last DESC LIMIT ?`,
  ).pluck();
  // a day's failures, newest first (the day counts if there is one; up to SYNC_IDS_PER_DAY are linked)
  const syncFailures = sqlite.prepare<[string | null, number, number], number>(
    `SELECT id FROM audit_log WHERE action = 'SYNCHRONIZATION' AND outcome = 'FAILURE' AND ${system} AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ${SYNC_IDS_PER_DAY}`,
  ).pluck();
  const byFingerprint = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM audit_log WHERE fingerprint = ? AND ts >= ? AND ts <= ? LIMIT ${COUNT_CAP})`,
  );
  const serverErrors = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM audit_log WHERE http >= 500 AND ts >= ? AND ts <= ? AND protocol = 'SCIM' LIMIT ${COUNT_CAP})`,
  );
  // the entries behind a flag, newest first: asked only when a rule raises or refreshes its flag
  const serverErrorIds = sqlite.prepare<[number, number, number], number>(
    `SELECT id FROM audit_log WHERE http >= 500 AND ts >= ? AND ts <= ? AND protocol = 'SCIM' ORDER BY ts DESC LIMIT ?`,
  ).pluck();
  // with the first line of each (the error), to tell whether the failures counted together differ
  const fingerprintEntries = sqlite.prepare<[string, number, number, number], { id: number; first: string }>(
    `SELECT id, substr(log, 1, instr(log || char(10), char(10)) - 1) AS first FROM audit_log WHERE fingerprint = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?`,
  );
  // one token's successful SCIM removals: their own small partial index (migration 0011), which
  // holds every column asked here, so neither query reads a row
  const removalsWhere = `principal = ? AND action IN ('PROVISIONING_DELETE', 'PROVISIONING_DISABLE') AND protocol = 'SCIM' AND outcome = 'SUCCESS'
       AND ts >= ? AND ts <= ?`;
  const scimRemovalCount = sqlite.prepare(
    `SELECT count(*) AS n FROM (SELECT 1 FROM audit_log INDEXED BY audit_log_scim_removal_ts WHERE ${removalsWhere} LIMIT ${COUNT_CAP})`,
  );
  // the LIMIT written in, one statement per limit (a rule's threshold), as for the subject queries
  const removalIdStatements = new Map<number, Statement<[string, number, number], number>>();
  function scimRemovalIds(limit: number): Statement<[string, number, number], number> {
    let st = removalIdStatements.get(limit);
    if (!st) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`not a limit: ${limit}`);
      st = sqlite
        .prepare<[string, number, number], number>(`SELECT id FROM audit_log INDEXED BY audit_log_scim_removal_ts WHERE ${removalsWhere} ORDER BY ts DESC LIMIT ${limit}`)
        .pluck();
      removalIdStatements.set(limit, st);
    }
    return st;
  }
  const addOrigin = sqlite.prepare('INSERT OR IGNORE INTO login_origins (subject, kind, value, first_seen) VALUES (?, ?, ?, ?)');
  const otherOrigin = sqlite.prepare('SELECT 1 FROM login_origins WHERE subject = ? AND kind = ? AND value <> ? LIMIT 1');
  const tokenByName = sqlite.prepare('SELECT expires_at AS expiresAt, revoked_at AS revokedAt, scope FROM api_tokens WHERE lower(name) = lower(?)');

  const n = (row: unknown) => (row as { n: number }).n;
  type TokenInfo = { expiresAt: number | null; revokedAt: number | null; scope: string };
  const tokens = new Map<string, { token: TokenInfo | undefined; at: number }>();
  const reconCounts = new Map<string, number>();

  return {
    /** the subject's entries of an action in a window (at most COUNT_CAP: one account under attack must not make each new failure re-count the attack) */
    countForSubject(subject: string, action: string, since: number, until: number, outcome: string | null = null): number {
      const st = forSubject('count', action, outcome);
      const key = fold(subject);
      let count = 0;
      for (let day = entryDay(until), first = entryDay(since); day >= first && count < COUNT_CAP; day--) count += n(st.get(day, key, since, until));
      return Math.min(count, COUNT_CAP);
    },
    /** ids of the subject's entries of an action in a window, newest first */
    idsForSubject(subject: string, action: string, since: number, until: number, outcome: string | null = null, limit = 50): number[] {
      const st = forSubject('ids', action, outcome, limit);
      const key = fold(subject);
      const ids: number[] = [];
      for (let day = entryDay(until), first = entryDay(since); day >= first && ids.length < limit; day--) {
        for (const r of st.all(day, key, since, until) as { id: number }[]) ids.push(r.id);
      }
      return ids.slice(0, limit);
    },
    /** SCIM 401 entries in a window (at most COUNT_CAP) */
    countScimAuthFailures: (since: number, until: number) => n(scimAuth.get(since, until)),
    scimAuthFailureIds: (since: number, until: number, limit = 50) => (scimAuthIds.all(since, until, limit) as { id: number }[]).map((r) => r.id),
    authFailureCauses: (since: number, until: number) => authCauses.all(since, until) as { fingerprint: string | null; n: number }[],
    /** SYNCHRONIZATION_ORPHAN entries of one source system (any case; null: entries that name none) in a window */
    countOrphans: (since: number, until: number, system: string | null) => n(orphans.get(system, since, until)),
    /** ids of those orphans, newest first */
    orphanIds: (since: number, until: number, system: string | null, limit: number) => orphanIds.all(system, since, until, limit),
    /**
     * Distinct users with RECONCILIATION_RECORD_FALSE on one system (any case) in the `windowMs`
     * before the second of `at`, that second included (at most COUNT_CAP). Counting them takes a
     * temporary b-tree of up to COUNT_CAP names: 250 µs at the cap, for every mismatch of a
     * reconciliation run, which sends thousands (5.6-8.8 % of the ingest writer's time under
     * bench:ingest). So the window is whole seconds, which the mismatches of one second share, and a
     * count that reached `keepFrom` (the rule's threshold) is kept for that window: what the
     * second's later mismatches add can only make it short, and the rule says "at least". A count
     * below the threshold is never kept nor used, so the entry that crosses it is never missed. A
     * rollback may undo entries a kept count saw: forget() drops them (the write queue calls it).
     */
    countReconciliationUsers(windowMs: number, at: number, system: string | null, keepFrom = Infinity): number {
      const second = Math.floor(at / 1000) * 1000;
      // keyed as SQLite's lower() compares the system: ASCII letters only
      const key = `${windowMs}|${second}|${system === null ? '' : `=${systemKey(system)}`}`;
      const kept = reconCounts.get(key);
      if (kept !== undefined && kept >= keepFrom) return kept;
      const count = n(reconUsers.get(system, second - windowMs, second + 999));
      if (count >= keepFrom) {
        if (reconCounts.size >= 64) reconCounts.clear();
        reconCounts.set(key, count);
      }
      return count;
    },
    /** drops the counts kept above (after a rollback) */
    forget(): void {
      reconCounts.clear();
    },
    /** the latest RECONCILIATION_RECORD_FALSE of each of those users, the latest first */
    reconciliationIds: (since: number, until: number, system: string | null, limit: number) => reconIds.all(system, since, until, limit),
    /**
     * Consecutive UTC days, counting back from the day of `at`, with a SYNCHRONIZATION FAILURE on the
     * system (any case; at most maxDays), and the failures that made them count: up to
     * SYNC_IDS_PER_DAY per day, newest first. One index seek per day either way.
     */
    syncFailureDays(at: number, system: string | null, maxDays: number): { days: number; ids: number[] } {
      let run = 0;
      const ids: number[] = [];
      for (let day = Math.floor(at / DAY); run < maxDays; day--, run++) {
        const found = syncFailures.all(system, day * DAY, Math.min((day + 1) * DAY - 1, at));
        if (found.length === 0) break;
        ids.push(...found);
      }
      return { days: run, ids };
    },
    countFingerprint: (fingerprint: string, since: number, until: number) => n(byFingerprint.get(fingerprint, since, until)),
    /** the entries of one failing request in a window, newest first: id and the first line of the log */
    fingerprintEntries: (fingerprint: string, since: number, until: number, limit: number) => fingerprintEntries.all(fingerprint, since, until, limit),
    countServerErrors: (since: number, until: number) => n(serverErrors.get(since, until)),
    /** ids of the SCIM 5xx entries in a window, newest first */
    serverErrorIds: (since: number, until: number, limit: number) => serverErrorIds.all(since, until, limit),
    /** users and groups one token deleted or deactivated over SCIM in a window (at most COUNT_CAP) */
    countScimRemovals: (principal: string, since: number, until: number) => n(scimRemovalCount.get(principal, since, until)),
    /** the entries of those removals, newest first */
    scimRemovalIds: (principal: string, since: number, until: number, limit: number) => scimRemovalIds(limit).all(principal, since, until),
    /** records where a user signed in from; true when the value is new and the user had earlier origins */
    isNewOrigin(subject: string, kind: 'ip' | 'country', value: string, at: number): boolean {
      // the INSERT is the lookup: a known origin changes nothing (first_seen stays), a new one is
      // recorded, and only then are the user's other origins asked for (two statements, not three)
      if (addOrigin.run(subject, kind, value, at).changes === 0) return false;
      return !!otherOrigin.get(subject, kind, value);
    },
    /** a token by name; kept for a second (asked for every SCIM entry; only the expiry flag uses it) */
    token(name: string) {
      const now = Date.now();
      const hit = tokens.get(name);
      if (hit && now - hit.at < 1000) return hit.token;
      const token = tokenByName.get(name) as TokenInfo | undefined;
      if (tokens.size > 100) tokens.clear();
      tokens.set(name, { token, at: now });
      return token;
    },
  };
}

export type RuleQueries = ReturnType<typeof createRuleQueries>;
