// buildApp(config): the whole iamtrail application as Fastify plugins and route scopes, ready to
// listen (src/server.ts) or to be injected into (tests).
import { STATUS_CODES } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config } from './config.js';
import dbPlugin from './plugins/db.js';
import servicesPlugin from './plugins/services.js';
import apiRoutes from './routes/api/index.js';
import consoleRoutes from './routes/console/index.js';
import { clientErrorHandler, isScimTarget } from './routes/scim/client-errors.js';
import scimRoutes, { refuseUnroutableScimRequest } from './routes/scim/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    /** what an operator should do next on this installation, printed by the server at start-up */
    startupNotes(): string[];
  }
}

export async function buildApp(config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      // secrets never reach the process log either
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    },
    trustProxy: config.TRUST_PROXY,
    routerOptions: {
      // a tenant URL entered with a trailing slash (Microsoft's docs show https://…/scim/v2/) makes
      // clients that concatenate send /scim/v2//Users; /Users/ is the list, not a user with an empty
      // id. Only routing ignores them: request.url, and so the audit entry, keeps the path as sent.
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: true,
    },
    // one request id per request, also used in the audit detail
    requestIdHeader: false,
    // every request is in the audit trail already; the process log gets them only at debug level
    logController: new LogController({ disableRequestLogging: config.LOG_LEVEL !== 'debug' && config.LOG_LEVEL !== 'trace' }),
    // what Node's HTTP parser refuses (431 for a query string over 16 KB): SCIM answers under /scim/v2
    clientErrorHandler,
    // a path the router cannot take (a malformed %-encoding, a segment over 100 characters): under
    // /scim/v2 an RFC 7644 error and an audit entry like any SCIM request; under /api/v1 the API's
    // JSON error; elsewhere (the console) a readable page
    frameworkErrors: (error, request, reply) => {
      if (isScimTarget(request.url)) {
        return refuseUnroutableScimRequest(error, request, reply);
      }
      refuseUnroutableRequest(error, request.url, reply as FastifyReply);
    },
  });
  app.decorate('config', config);

  await app.register(dbPlugin, { databasePath: config.DATABASE_PATH, timeZone: config.TZ });
  await app.register(servicesPlugin);

  app.get('/healthz', async () => {
    app.database.sqlite.prepare('SELECT 1').get();
    return { status: 'ok' };
  });

  app.decorate('startupNotes', () => {
    const notes: string[] = [];
    const base = `${config.publicUrl ?? `http://${config.HOST}:${config.PORT}`}/scim/v2`;
    if (!app.repos.settings.scimEnabled()) notes.push(`SCIM provisioning is disabled: run \`npx iamtrail scim enable\` (SCIM base URL: ${base})`);
    if (config.publicUrl?.startsWith('https://') && !config.TRUST_PROXY) {
      notes.push('PUBLIC_URL is https but TRUST_PROXY is false: behind a TLS-terminating proxy the console cannot set its Secure session cookie; set TRUST_PROXY=true');
    }
    if (app.repos.accounts.list().length === 0) {
      notes.push('No console administrator yet: run `echo PASSWORD | npx iamtrail admin create --username NAME --password-stdin`');
    }
    if (!app.repos.tokens.list().some((t) => t.scope === 'scim' && t.revokedAt === null)) {
      notes.push('No SCIM token yet: run `npx iamtrail token create --name entra` and paste it into your identity provider');
    }
    return notes;
  });

  await app.register(scimRoutes, { prefix: '/scim/v2' });
  await app.register(consoleRoutes);
  await app.register(apiRoutes, { prefix: '/api/v1' });
  return app;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the router refused outside /scim/v2: the API's JSON error, or a plain page for the console. */
function refuseUnroutableRequest(error: { code?: string; statusCode?: number }, url: string, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'No page has a path segment that long.' : 'The address is not a valid URL (a malformed %-encoding).';
  reply.header('Cache-Control', 'no-store');
  if (url.startsWith('/api/')) {
    reply.code(status).type('application/json; charset=utf-8').send({ error: status === 404 ? 'not_found' : 'bad_request', message });
    return;
  }
  const title = `${status} ${STATUS_CODES[status] ?? 'Bad Request'}`;
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · iamtrail</title>` +
        `<link rel="stylesheet" href="/public/css/console.css"></head><body><main class="error-page"><h1>${escapeHtml(title)}</h1>` +
        `<p>${escapeHtml(message)}</p><p><a href="/">Go to the start page</a></p></main></body></html>`,
    );
}
