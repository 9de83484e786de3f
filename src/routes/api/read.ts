// The read side of the JSON API: keyset-paged logs, red flags, the event catalog and streamed
// exports. Authenticated by a `read` token (checked by the /api/v1 scope) or, without an
// Authorization header, by a console session with "IT Settings IAM".
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CATALOG } from '../../audit/catalog.js';
import { entryJson, exportStream, type ExportFormat } from '../../audit/export.js';
import { describeRule } from '../../audit/rule-engine.js';
import { RULES } from '../../audit/rules.js';
import { PERMISSION_IAM } from '../../auth/permissions.js';
import { checkSession } from '../../auth/viewer.js';
import type { FlagStatus } from '../../db/flag-repository.js';
import sessionPlugin from '../../plugins/session.js';
import { API_CONTENT_TYPE } from './index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who reads: a token name or a console user */
    reader: { name: string; via: 'token' | 'session' } | null;
  }
}

const MAX_LIMIT = 1000;

function fail(reply: FastifyReply, status: number, error: string, message: string) {
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="iamtrail API"');
  return reply.code(status).type(API_CONTENT_TYPE).send({ error, message });
}

export default async function readRoutes(app: FastifyInstance): Promise<void> {
  await app.register(sessionPlugin);
  const { repos, config } = app;
  app.decorateRequest('reader', null);

  async function readAuth(request: FastifyRequest, reply: FastifyReply) {
    const now = Date.now();
    if (request.apiToken) {
      request.reader = { name: request.apiToken.name, via: 'token' };
      return;
    }
    const s = request.session;
    if (!s.principal) return fail(reply, 401, 'unauthorized', 'Sign in to the console or send Authorization: Bearer <read token>');
    const check = checkSession(repos, config, { ...s, principal: s.principal }, now);
    if (!check.viewer) return fail(reply, 401, 'unauthorized', 'The session expired: sign in again');
    if (!check.viewer.permissions.has(PERMISSION_IAM)) return fail(reply, 403, 'forbidden', `The permission "${PERMISSION_IAM}" is required`);
    request.reader = { name: check.viewer.principal.username, via: 'session' };
  }

  const guard = { preHandler: readAuth, config: { tokenScope: 'read' as const, sessionAllowed: true } };

  app.get<{ Querystring: { before?: number; limit?: number } }>(
    '/logs',
    {
      ...guard,
      schema: { querystring: Type.Object({ before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })) }) },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = repos.audit.page({ before: request.query.before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? `/api/v1/logs?before=${page[page.length - 1]!.id}&limit=${limit}` : null;
      return { entries: page.map(entryJson), next };
    },
  );

  app.get<{ Querystring: { status?: FlagStatus | 'all'; before?: number; limit?: number } }>(
    '/red-flags',
    {
      ...guard,
      schema: {
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved'), Type.Literal('all')])),
          before: Type.Optional(Type.Integer({ minimum: 1 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
        }),
      },
    },
    async (request) => {
      const status = request.query.status ?? 'open';
      const limit = request.query.limit ?? 100;
      const rows = repos.flags.list({ status: status === 'all' ? undefined : status, before: request.query.before, limit: limit + 1 });
      const page = rows.slice(0, limit).map((f) => ({ ...f, entryIds: repos.flags.entryIds(f.id, 200) }));
      const next = rows.length > limit ? `/api/v1/red-flags?status=${status}&before=${page[page.length - 1]!.id}&limit=${limit}` : null;
      return { redFlags: page, next };
    },
  );

  app.get('/catalog', guard, async () => ({
    events: CATALOG,
    rules: repos.rules.statuses().map((s) => ({ ...describeRule(s), on: s.rule.on, thresholds: s.thresholds })),
    ruleCount: RULES.length,
  }));

  app.get<{ Params: { format: ExportFormat } }>(
    '/logs/export.:format',
    // no HEAD twin: it would run the export (and log one) to send no data
    { ...guard, exposeHeadRoute: false, schema: { params: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')]) }) } },
    async (request, reply) => {
      const { format } = request.params;
      const reader = request.reader!;
      // the export is itself an audit entry, written before the first byte leaves
      const upTo = await app.writeQueue.submit(() =>
        repos.audit.append({
          ts: Date.now(),
          type: 'Export',
          protocol: reader.via === 'token' ? 'API' : 'WEB',
          event: 'Export Logs',
          log: `Exported the whole audit log as ${format.toUpperCase()}\nBy ${reader.via === 'token' ? `token "${reader.name}"` : `"${reader.name}"`} from ${request.ip}`,
          action: 'LOG_EXPORTED',
          outcome: 'SUCCESS',
          principal: reader.name,
          target: 'Audit log',
          sourceIp: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
        }),
      );
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      reply
        .header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="iamtrail-audit-${stamp}.${format}"`)
        .header('Cache-Control', 'no-store');
      // the export ends with its own entry: the log as it stood when the export began
      return reply.send(exportStream(repos.audit, format, upTo));
    },
  );
}
