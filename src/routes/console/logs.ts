// IT Settings › IAM Settings › Logs: the read-only audit trail, newest first, 50 rows at a time.
// One URL serves the page and, for htmx, the next rows; paging is by keyset (?before=<id>), never OFFSET.
// Each row opens a detail view (inline with htmx, a full page without JavaScript).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { StoredAuditEntry } from '../../audit/entry.js';
import { interpret } from '../../audit/interpret.js';
import { RULES_BY_ID } from '../../audit/rules.js';
import type { RedFlag } from '../../db/flag-repository.js';
import { HttpPageError } from './index.js';
import { formatTimestamp } from './format.js';
import { IAM_BASE, breadcrumbFor } from './nav.js';

export const LOGS_PAGE_SIZE = 50;
const LOGS_URL = `${IAM_BASE}/logs`;
const RELATED_WINDOW_MS = 60 * 60_000;
const SEVERITY_NAMES = ['', 'low', 'medium', 'high', 'critical'];

const LogsQuery = Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })) });

export interface LogRowView {
  id: number;
  href: string;
  date: { text: string; iso: string | null };
  type: string;
  protocol: string;
  event: string;
  http: string;
  log: string;
  /** the highest severity among the red flags this entry belongs to, or null */
  flag: string | null;
}

export function logRowView(e: StoredAuditEntry, timeZone: string, flagLevel?: number): LogRowView {
  return {
    id: e.id,
    href: `${LOGS_URL}/${e.id}`,
    date: formatTimestamp(e.ts, timeZone),
    type: e.type,
    protocol: e.protocol,
    event: e.event,
    http: e.http === null ? '' : String(e.http),
    log: e.log,
    flag: flagLevel ? SEVERITY_NAMES[flagLevel]! : null,
  };
}

export function flagView(f: RedFlag, timeZone: string) {
  return {
    id: f.id,
    severity: f.severity,
    rule: RULES_BY_ID.get(f.rule)?.name ?? f.rule,
    title: f.title,
    explanation: f.explanation,
    action: f.action,
    status: f.status,
    entryCount: f.entryCount,
    raised: formatTimestamp(f.raisedAt, timeZone),
    updated: formatTimestamp(f.updatedAt, timeZone),
    closedBy: f.closedBy,
    note: f.note,
    href: `${IAM_BASE}/red-flags/${f.id}`,
  };
}

export default async function logsRoutes(app: FastifyInstance): Promise<void> {
  const timeZone = app.config.TZ;
  const { audit, flags } = app.repos;

  app.get<{ Querystring: { before?: number } }>(
    LOGS_URL,
    { preHandler: app.requirePermission(), schema: { querystring: LogsQuery } },
    async (request, reply) => {
      const { before } = request.query;
      const entries = audit.page({ before, limit: LOGS_PAGE_SIZE + 1 });
      const hasMore = entries.length > LOGS_PAGE_SIZE;
      const page = hasMore ? entries.slice(0, LOGS_PAGE_SIZE) : entries;
      const marks = page.length ? flags.flaggedBetween(page[page.length - 1]!.id, page[0]!.id) : new Map<number, number>();
      const rows = page.map((e) => logRowView(e, timeZone, marks.get(e.id)));
      const nextUrl = hasMore ? `${LOGS_URL}?before=${page[page.length - 1]!.id}` : null;
      const fragment = { rows, nextUrl, endOfLog: !hasMore && (rows.length > 0 || before !== undefined) };
      reply.header('Vary', 'HX-Request').header('Cache-Control', 'no-store');
      if (request.headers['hx-request'] === 'true') return reply.view('partials/log-rows', fragment);
      return reply.view(
        'pages/logs',
        app.pageData(request, reply, {
          active: 'logs',
          crumb: breadcrumbFor('logs'),
          timeZone,
          older: before !== undefined,
          empty: rows.length === 0 && before === undefined,
          ...fragment,
        }),
      );
    },
  );

  app.get<{ Params: { id: number } }>(
    `${LOGS_URL}/:id`,
    { preHandler: app.requirePermission(), schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (request, reply) => {
      const entry = audit.byId(request.params.id);
      if (!entry) throw new HttpPageError(404, `There is no log entry #${request.params.id}.`);
      const fields: [string, string][] = [
        ['Entry', `#${entry.id}`],
        ['Date', formatTimestamp(entry.ts, timeZone).text],
        ['Exact instant (UTC)', entry.ts === null ? '-' : new Date(entry.ts).toISOString()],
        ['Type', entry.type],
        ['Protocol', entry.protocol],
        ['Event', entry.event],
        ['Http', entry.http === null ? '' : String(entry.http)],
        ['Action code', entry.action ?? ''],
        ['Outcome', entry.outcome ?? ''],
        ['Principal (who acted)', entry.principal ?? ''],
        ['Target (whom it concerned)', entry.target ?? ''],
        ['Resource id', entry.resourceId ?? ''],
        ['Source IP', entry.sourceIp ?? ''],
        ['Country', entry.country ?? ''],
        ['User agent', entry.userAgent ?? ''],
        ['Target system', entry.targetSystem ?? ''],
        ['Ticket', entry.ticket ?? ''],
        ['Sender event id', entry.eventId ?? ''],
      ];
      const related = audit.related(entry, RELATED_WINDOW_MS, 20).map((e) => logRowView(e, timeZone));
      const data = {
        entry: logRowView(entry, timeZone),
        fields: fields.filter(([, v]) => v !== ''),
        interpretation: interpret(entry),
        related,
        flags: flags.flagsOfEntry(entry.id).map((f) => flagView(f, timeZone)),
        relatedWindow: '1 hour',
      };
      reply.header('Vary', 'HX-Request');
      if (request.headers['hx-request'] === 'true') return reply.view('partials/log-detail', { ...data, inline: true });
      return reply.view('pages/log-entry', app.pageData(request, reply, { active: 'logs', crumb: breadcrumbFor('logs'), ...data, inline: false }));
    },
  );
}
