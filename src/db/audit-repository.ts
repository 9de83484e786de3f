// The only code that writes or reads the audit_log table. It appends; it never updates or deletes
// (the triggers of migration 0001 would refuse anyway).
import type { AuditEntry, StoredAuditEntry } from '../audit/entry.js';
import { fold } from '../scim/fold.js';
import type { Sqlite } from './connection.js';
import { DAY_MS, ENTRY_DAY_SQL, entryDay } from './schema.js';

/** Called inside the appending transaction with the stored entry (the red-flag rules listen here). */
export type AppendListener = (entry: StoredAuditEntry) => void;

export interface AuditRepository {
  append(entry: AuditEntry): number;
  /** appends unless an entry with the same sender event id exists; returns the id or null */
  appendIfNew(entry: AuditEntry): number | null;
  onAppend(listener: AppendListener): void;
  /** newest first, entries with id < before (keyset; never OFFSET) */
  page(options: { before?: number; limit: number }): StoredAuditEntry[];
  byId(id: number): StoredAuditEntry | undefined;
  latest(filter?: { protocol?: string }): StoredAuditEntry | undefined;
  /** oldest first, entries with id > after: the export walks the whole log in constant memory */
  ascending(after: number, limit: number): StoredAuditEntry[];
  /** entries about the same user, resource or actor (token) within ±window of the entry, newest first */
  related(entry: StoredAuditEntry, windowMs: number, limit: number): StoredAuditEntry[];
}

const COLUMNS = `id, ts, type, protocol, event, http, log, action, outcome, principal, target,
  resource_id AS resourceId, source_ip AS sourceIp, user_agent AS userAgent, event_id AS eventId, country, ticket,
  target_system AS targetSystem, fingerprint, subject`;

/** whom an entry is about, as stored in `subject`: folded, so "Operator" and "operator" are one account */
const subjectOf = (name: string | null | undefined): string | null => (name == null ? null : fold(name));

export function createAuditRepository(sqlite: Sqlite): AuditRepository {
  const insert = sqlite.prepare(
    `INSERT INTO audit_log (ts, type, protocol, event, http, log, action, outcome, principal, target, resource_id, source_ip, user_agent,
       event_id, country, ticket, target_system, fingerprint, subject)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // positional, not named, parameters: binding 19 names cost 2.5 µs more per entry (measured)
  const insertRow = (v: ReturnType<typeof row>) =>
    insert.run(v.ts, v.type, v.protocol, v.event, v.http, v.log, v.action, v.outcome, v.principal, v.target, v.resourceId, v.sourceIp, v.userAgent,
      v.eventId, v.country, v.ticket, v.targetSystem, v.fingerprint, v.subject);
  // a duplicate sender event id: the no-replace trigger of migration 0005 refuses the INSERT (the
  // statement only; the transaction goes on), which is cheaper than looking first for every event
  const DUPLICATE = 'audit_log is append-only: an existing entry cannot be replaced';
  const listeners: AppendListener[] = [];
  const firstPage = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?`);
  const nextPage = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`);
  const ascending = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id > ? ORDER BY id ASC LIMIT ?`);
  const one = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id = ?`);
  const latestAny = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT 1`);
  const latestByProtocol = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE protocol = ? ORDER BY id DESC LIMIT 1`);
  // each OR branch has its own index (day and subject…, resource_id, principal…): SQLite unions the
  // lookups. The same resource's entries are found under each subject it has had (a user renamed:
  // audit_resource_subjects, migration 0019), and by resource id when they have no subject. The
  // subject index begins with the UTC day (migration 0012), so its branches name the window's
  // days: a window of at most a day spans two. The principal index is partial (actor ≠ subject,
  // migration 0008), so its branch repeats that condition, and the window (SQLite seeks a branch
  // with its own terms only: without it, every entry the actor ever made was read, migration
  // 0017); the entries it leaves out are the ones whose subject is the principal: the last branch,
  // which compares the principal folded in JS as subjects are (SQLite's lower() folds ASCII only).
  const related = sqlite.prepare(
    `SELECT ${COLUMNS} FROM audit_log
     WHERE id <> @id AND ts BETWEEN @from AND @to
       AND ((${ENTRY_DAY_SQL} IN (@firstDay, @lastDay) AND subject = @subject)
            OR (${ENTRY_DAY_SQL} IN (@firstDay, @lastDay) AND resource_id = @resourceId
                AND subject IN (SELECT subject FROM audit_resource_subjects WHERE resource_id = @resourceId))
            OR (resource_id = @resourceId AND subject IS NULL)
            OR (principal = @principal AND lower(principal) <> subject AND ts BETWEEN @from AND @to)
            OR (${ENTRY_DAY_SQL} IN (@firstDay, @lastDay) AND subject = @principalSubject))
     ORDER BY ts DESC, id DESC LIMIT @limit`,
  );

  function row(entry: AuditEntry) {
    return {
      ts: entry.ts,
      type: entry.type,
      protocol: entry.protocol,
      event: entry.event,
      http: entry.http ?? null,
      log: entry.log,
      action: entry.action ?? null,
      outcome: entry.outcome ?? null,
      principal: entry.principal ?? null,
      target: entry.target ?? null,
      resourceId: entry.resourceId ?? null,
      sourceIp: entry.sourceIp ?? null,
      userAgent: entry.userAgent ?? null,
      eventId: entry.eventId ?? null,
      country: entry.country ?? null,
      ticket: entry.ticket ?? null,
      targetSystem: entry.targetSystem ?? null,
      fingerprint: entry.fingerprint ?? null,
      subject: subjectOf(entry.target ?? entry.principal),
    };
  }

  function notify(id: number, values: ReturnType<typeof row>): void {
    if (listeners.length === 0) return;
    const stored = { id, ...values } as StoredAuditEntry;
    for (const listener of listeners) listener(stored);
  }

  return {
    append(entry) {
      const values = row(entry);
      const id = Number(insertRow(values).lastInsertRowid);
      notify(id, values);
      return id;
    },
    appendIfNew(entry) {
      const values = row(entry);
      let id: number;
      try {
        id = Number(insertRow(values).lastInsertRowid);
      } catch (error) {
        if (values.eventId !== null && (error as Error).message === DUPLICATE) return null;
        throw error;
      }
      notify(id, values);
      return id;
    },
    onAppend(listener) {
      listeners.push(listener);
    },
    page({ before, limit }) {
      return (before === undefined ? firstPage.all(limit) : nextPage.all(before, limit)) as StoredAuditEntry[];
    },
    byId(id) {
      return one.get(id) as StoredAuditEntry | undefined;
    },
    ascending(after, limit) {
      return ascending.all(after, limit) as StoredAuditEntry[];
    },
    related(entry, windowMs, limit) {
      if (entry.ts === null) return [];
      if (!(windowMs >= 0 && 2 * windowMs < DAY_MS)) throw new RangeError(`related(): a window of ${windowMs} ms spans more than two days`);
      const from = entry.ts - windowMs;
      const to = entry.ts + windowMs;
      return related.all({
        id: entry.id,
        from,
        to,
        firstDay: entryDay(from),
        lastDay: entryDay(to),
        subject: entry.subject,
        resourceId: entry.resourceId,
        principal: entry.principal,
        principalSubject: subjectOf(entry.principal),
        limit,
      }) as StoredAuditEntry[];
    },
    latest(filter) {
      return (filter?.protocol ? latestByProtocol.get(filter.protocol) : latestAny.get()) as StoredAuditEntry | undefined;
    },
  };
}
