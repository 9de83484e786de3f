// The only code that writes or reads the audit_log table. It appends; it never updates or deletes
// (the triggers of migration 0001 would refuse anyway).
import type { AuditEntry, StoredAuditEntry } from '../audit/entry.js';
import type { Sqlite } from './connection.js';

export interface AuditRepository {
  append(entry: AuditEntry): number;
  /** newest first, entries with id < before (keyset; never OFFSET) */
  page(options: { before?: number; limit: number }): StoredAuditEntry[];
  byId(id: number): StoredAuditEntry | undefined;
  latest(filter?: { protocol?: string }): StoredAuditEntry | undefined;
}

const COLUMNS = `id, ts, type, protocol, event, http, log, action, outcome, principal, target,
  resource_id AS resourceId, source_ip AS sourceIp, user_agent AS userAgent`;

export function createAuditRepository(sqlite: Sqlite): AuditRepository {
  const insert = sqlite.prepare(
    `INSERT INTO audit_log (ts, type, protocol, event, http, log, action, outcome, principal, target, resource_id, source_ip, user_agent)
     VALUES (@ts, @type, @protocol, @event, @http, @log, @action, @outcome, @principal, @target, @resourceId, @sourceIp, @userAgent)`,
  );
  const firstPage = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?`);
  const nextPage = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`);
  const one = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id = ?`);
  const latestAny = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id DESC LIMIT 1`);
  const latestByProtocol = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE protocol = ? ORDER BY id DESC LIMIT 1`);

  return {
    append(entry) {
      const info = insert.run({
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
      });
      return Number(info.lastInsertRowid);
    },
    page({ before, limit }) {
      return (before === undefined ? firstPage.all(limit) : nextPage.all(before, limit)) as StoredAuditEntry[];
    },
    byId(id) {
      return one.get(id) as StoredAuditEntry | undefined;
    },
    latest(filter) {
      return (filter?.protocol ? latestByProtocol.get(filter.protocol) : latestAny.get()) as StoredAuditEntry | undefined;
    },
  };
}
