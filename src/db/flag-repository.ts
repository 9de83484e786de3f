// Red flags and the entries they link; one open flag per rule and subject collects every entry
// that triggers the rule again until someone acknowledges or resolves it.
import type { Sqlite } from './connection.js';

export type FlagStatus = 'open' | 'acknowledged' | 'resolved';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * Earlier entries that belong to a flag besides the one that raised it: ids, or a function given the
 * time from which entries are worth reading (-Infinity for a new flag; for an open one, the time of
 * its last entry), so that a flood does not re-read its window for every entry.
 */
export type RelatedEntries = number[] | ((after: number) => number[]);

export interface RedFlag {
  id: number;
  rule: string;
  subject: string;
  severity: Severity;
  title: string;
  explanation: string;
  action: string;
  status: FlagStatus;
  entryCount: number;
  firstEntryId: number | null;
  lastEntryId: number | null;
  raisedAt: number;
  updatedAt: number;
  closedAt: number | null;
  closedBy: string | null;
  note: string | null;
}

const COLUMNS = `id, rule, subject, severity, title, explanation, action, status, entry_count AS entryCount,
  first_entry_id AS firstEntryId, last_entry_id AS lastEntryId, raised_at AS raisedAt, updated_at AS updatedAt,
  closed_at AS closedAt, closed_by AS closedBy, note`;

export function createFlagRepository(sqlite: Sqlite) {
  const tsOf = sqlite.prepare('SELECT ts FROM audit_log WHERE id = ?').pluck();
  const openFor = sqlite.prepare(`SELECT id, last_entry_id AS lastEntryId FROM red_flags WHERE rule = ? AND subject = ? AND status = 'open'`);
  const insert = sqlite.prepare(
    `INSERT INTO red_flags (rule, subject, severity, title, explanation, action, status, entry_count, first_entry_id, last_entry_id, raised_at, updated_at)
     VALUES (@rule, @subject, @severity, @title, @explanation, @action, 'open', 0, @firstId, @lastId, @now, @now)`,
  );
  const refresh = sqlite.prepare(
    `UPDATE red_flags SET title = @title, explanation = @explanation, action = @action, severity = @severity,
       last_entry_id = max(coalesce(last_entry_id, 0), @entryId), updated_at = @now WHERE id = @id`,
  );
  const link = sqlite.prepare('INSERT OR IGNORE INTO red_flag_entries (flag_id, entry_id) VALUES (?, ?)');
  const bump = sqlite.prepare('UPDATE red_flags SET entry_count = entry_count + ? WHERE id = ?');
  const byId = sqlite.prepare(`SELECT ${COLUMNS} FROM red_flags WHERE id = ?`);
  const listByStatus = sqlite.prepare(`SELECT ${COLUMNS} FROM red_flags WHERE status = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`);
  const listAll = sqlite.prepare(`SELECT ${COLUMNS} FROM red_flags WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`);
  const entriesOf = sqlite.prepare('SELECT entry_id AS id FROM red_flag_entries WHERE flag_id = ? ORDER BY entry_id DESC LIMIT ?');
  const flagsOfEntry = sqlite.prepare(`SELECT ${COLUMNS} FROM red_flags WHERE id IN (SELECT flag_id FROM red_flag_entries WHERE entry_id = ?) ORDER BY id DESC`);
  const flaggedIn = sqlite.prepare(
    `SELECT e.entry_id AS entryId, max(CASE f.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) AS level
     FROM red_flag_entries e JOIN red_flags f ON f.id = e.flag_id WHERE e.entry_id BETWEEN ? AND ? GROUP BY e.entry_id`,
  );
  const close = sqlite.prepare(`UPDATE red_flags SET status = @status, closed_at = @now, closed_by = @by, note = @note, updated_at = @now WHERE id = @id`);
  const openCount = sqlite.prepare(`SELECT count(*) AS n FROM red_flags WHERE status = 'open'`);

  return {
    /** Opens a flag for (rule, subject) or refreshes the open one, and links the entries. Returns the flag id. */
    raise(
      f: Pick<RedFlag, 'rule' | 'subject' | 'severity' | 'title' | 'explanation' | 'action'> & {
        /** the entry that raised it */
        entryId: number;
        related?: RelatedEntries;
        now: number;
      },
    ): number {
      const existing = openFor.get(f.rule, f.subject) as { id: number; lastEntryId: number | null } | undefined;
      let related = f.related ?? [];
      if (typeof related === 'function') {
        const lastTs = existing?.lastEntryId ? (tsOf.get(existing.lastEntryId) as number | null | undefined) : undefined;
        related = related(typeof lastTs === 'number' ? lastTs : -Infinity);
      }
      const entryIds = [...related, f.entryId];
      const last = Math.max(...entryIds);
      let id: number;
      let linked = 0;
      if (existing) {
        // the related entries up to its last one were linked when the flag was last refreshed: an
        // account under attack refreshes its flag with every failure, and re-linking its 20 latest
        // failures each time cost more than the rest of the entry
        linked = existing.lastEntryId ?? 0;
        id = existing.id;
        refresh.run({ id, title: f.title, explanation: f.explanation, action: f.action, severity: f.severity, entryId: last, now: f.now });
      } else {
        id = Number(
          insert.run({ rule: f.rule, subject: f.subject, severity: f.severity, title: f.title, explanation: f.explanation, action: f.action, firstId: Math.min(...entryIds), lastId: last, now: f.now })
            .lastInsertRowid,
        );
      }
      let added = 0;
      for (const entryId of entryIds) if (entryId > linked) added += link.run(id, entryId).changes;
      if (added) bump.run(added, id);
      return id;
    },
    byId: (id: number) => byId.get(id) as RedFlag | undefined,
    list(options: { status?: FlagStatus; before?: number; limit: number }): RedFlag[] {
      const before = options.before ?? null;
      return (options.status ? listByStatus.all(options.status, before, before, options.limit) : listAll.all(before, before, options.limit)) as RedFlag[];
    },
    entryIds: (flagId: number, limit = 200) => (entriesOf.all(flagId, limit) as { id: number }[]).map((r) => r.id),
    flagsOfEntry: (entryId: number) => flagsOfEntry.all(entryId) as RedFlag[],
    /** entry id → highest severity level (1–4) among its flags, for the markers on a page of the Logs */
    flaggedBetween(low: number, high: number): Map<number, number> {
      return new Map((flaggedIn.all(low, high) as { entryId: number; level: number }[]).map((r) => [r.entryId, r.level]));
    },
    close: (id: number, status: 'acknowledged' | 'resolved', by: string, note: string, now: number) => void close.run({ id, status, by, note, now }),
    openCount: () => (openCount.get() as { n: number }).n,
  };
}

export type FlagRepository = ReturnType<typeof createFlagRepository>;
