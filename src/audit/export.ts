// Streams the whole audit trail as CSV (RFC 4180) or NDJSON in constant memory: keyset chunks of
// rows, never one long-lived cursor (better-sqlite3 would hold the connection busy meanwhile).
import { Readable } from 'node:stream';
import type { AuditRepository } from '../db/audit-repository.js';
import type { StoredAuditEntry } from './entry.js';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_FIELDS = [
  'id', 'ts', 'time', 'type', 'protocol', 'event', 'http', 'action', 'outcome', 'principal', 'target', 'resourceId',
  'sourceIp', 'country', 'userAgent', 'targetSystem', 'ticket', 'eventId', 'log',
] as const;

/** The JSON shape of an entry in the API and the NDJSON export. */
export function entryJson(e: StoredAuditEntry) {
  return {
    id: e.id,
    ts: e.ts,
    time: e.ts === null ? null : new Date(e.ts).toISOString(),
    type: e.type,
    protocol: e.protocol,
    event: e.event,
    http: e.http,
    action: e.action,
    outcome: e.outcome,
    principal: e.principal,
    target: e.target,
    resourceId: e.resourceId,
    sourceIp: e.sourceIp,
    country: e.country,
    userAgent: e.userAgent,
    targetSystem: e.targetSystem,
    ticket: e.ticket,
    eventId: e.eventId,
    log: e.log,
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  // a leading = + - @ would be a formula in a spreadsheet: prefix it so the export is inert
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The log up to entry `upTo` (the newest when the export began): a fixed, reproducible end. */
export function exportStream(audit: AuditRepository, format: ExportFormat, upTo: number, chunk = 1000): Readable {
  async function* lines() {
    if (format === 'csv') yield `${EXPORT_FIELDS.join(',')}\r\n`;
    let after = 0;
    while (after < upTo) {
      const rows = audit.ascending(after, chunk).filter((r) => r.id <= upTo);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      let text = '';
      for (const row of rows) {
        const json = entryJson(row);
        text += format === 'csv' ? `${EXPORT_FIELDS.map((f) => csvCell(json[f])).join(',')}\r\n` : `${JSON.stringify(json)}\n`;
      }
      yield text;
    }
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 1 });
}
