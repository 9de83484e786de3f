// IT Settings › IAM Settings › Logs: the read-only audit trail, newest first, 50 rows at a time.
// One URL serves the page and, for htmx, the next rows; paging is by keyset (?before=<id>), never OFFSET.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { StoredAuditEntry } from '../../audit/entry.js';
import { formatTimestamp } from './format.js';
import { IAM_BASE, breadcrumbFor } from './nav.js';

export const LOGS_PAGE_SIZE = 50;
const LOGS_URL = `${IAM_BASE}/logs`;

const LogsQuery = Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })) });

export interface LogRowView {
  id: number;
  date: { text: string; iso: string | null };
  type: string;
  protocol: string;
  event: string;
  http: string;
  log: string;
}

export function logRowView(e: StoredAuditEntry, timeZone: string): LogRowView {
  return {
    id: e.id,
    date: formatTimestamp(e.ts, timeZone),
    type: e.type,
    protocol: e.protocol,
    event: e.event,
    http: e.http === null ? '' : String(e.http),
    log: e.log,
  };
}

export default async function logsRoutes(app: FastifyInstance): Promise<void> {
  const timeZone = app.config.TZ;

  app.get<{ Querystring: { before?: number } }>(
    LOGS_URL,
    { preHandler: app.requirePermission(), schema: { querystring: LogsQuery } },
    async (request, reply) => {
      const { before } = request.query;
      const entries = app.repos.audit.page({ before, limit: LOGS_PAGE_SIZE + 1 });
      const hasMore = entries.length > LOGS_PAGE_SIZE;
      const page = hasMore ? entries.slice(0, LOGS_PAGE_SIZE) : entries;
      const rows = page.map((e) => logRowView(e, timeZone));
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
}
