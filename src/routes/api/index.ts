// The /api/v1 scope: the JSON API for other systems. Every route declares the token scope it needs
// (config.tokenScope: ingest, read…) and is authenticated with `Authorization: Bearer <token>`
// before its body is read; a route without one is refused at start-up. Errors are JSON
// { error, message } — also 401, 403, 404, 413, 415, malformed bodies and unexpected faults.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkBearer } from '../../auth/tokens.js';
import type { TokenRecord, TokenScope } from '../../db/token-repository.js';
import eventsRoutes from './events.js';
import readRoutes from './read.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the authenticated token of an /api/v1 request */
    apiToken: TokenRecord | null;
    /** why authentication failed, for the audit entry */
    apiAuthFailure: { status: 401 | 403; detail: string; tokenName: string | null } | null;
  }
  interface FastifyContextConfig {
    /** /api/v1 routes: the scope a token needs */
    tokenScope?: TokenScope;
    /** /api/v1 routes: what the route accepts, for the 415 message */
    accepts?: string;
    /** /api/v1 read routes: a console session may stand in for the token (checked by the route) */
    sessionAllowed?: boolean;
  }
}

export const API_CONTENT_TYPE = 'application/json; charset=utf-8';

/** An error the API answers as { error, message } with this status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} MiB (${bytes.toLocaleString('en-US')} bytes)`;

/** Maps anything thrown in the scope to a status and a JSON body; unexpected faults are 500s. */
export function toApiError(error: unknown, request: FastifyRequest): { status: number; body: { error: string; message: string } } {
  const e = error as Partial<FastifyError> & { error?: unknown };
  // our own errors: a 4xx, or a 503 the client should retry (the ingest writer is restarting or the server closing)
  if (typeof e.statusCode === 'number' && typeof e.error === 'string' && ((e.statusCode >= 400 && e.statusCode < 500) || e.statusCode === 503)) {
    return { status: e.statusCode, body: { error: e.error, message: e.message ?? e.error } };
  }
  const route = `${request.method} ${request.url.split('?', 1)[0]}`;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: 'body_too_large', message: `The request body is larger than the limit of ${mib(request.routeOptions.bodyLimit ?? 0)} for ${route}. Split it into several requests.` },
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const sent = request.headers['content-type'];
      const accepts = request.routeOptions.config.accepts;
      return {
        status: 415,
        body: {
          error: 'unsupported_media_type',
          message: `${sent ? `Content-Type "${sent}" is not accepted` : 'No Content-Type header'} for ${route}${accepts ? `: send ${accepts}` : ''}.`,
        },
      };
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { error: 'bad_request', message: 'The Content-Length header does not match the body.' } };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'bad_request', message: e.message ?? 'Bad request' } };
  }
  return {
    status: 500,
    body: { error: 'internal_error', message: `The server could not complete ${route}; nothing of this request was stored. The cause is in the server's log (request ${request.id}).` },
  };
}

export default async function apiRoutes(app: FastifyInstance): Promise<void> {
  app.decorateRequest('apiToken', null);
  app.decorateRequest('apiAuthFailure', null);

  // deny by default: a route that forgets to declare its token scope would be open to anyone
  app.addHook('onRoute', (route) => {
    if (!route.config?.tokenScope) throw new Error(`API route ${route.method} ${route.url} declares no config.tokenScope`);
  });

  // audit data: no browser or proxy cache keeps an answer (the export sets its own headers)
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  // before the body is read: a request without a valid token costs no parsing
  app.addHook('onRequest', async (request, reply) => {
    const { tokenScope: scope, sessionAllowed } = request.routeOptions.config;
    if (!scope) return; // the 404 handler
    // no token at all on a route a signed-in administrator may read: the route checks the session
    if (sessionAllowed && !request.headers.authorization) return;
    const check = checkBearer(request.headers.authorization, app.repos.tokens, scope, Date.now());
    if (check.ok) {
      request.apiToken = check.token;
      return;
    }
    const tokenName = check.token?.name ?? null;
    if (check.reason === 'wrong-scope') {
      const detail = `${check.detail}: this endpoint needs a token with scope "${scope}" (create one with \`npx iamtrail token create --name NAME --scope ${scope}\`)`;
      request.apiAuthFailure = { status: 403, detail, tokenName };
      reply.header('WWW-Authenticate', `Bearer realm="iamtrail API", error="insufficient_scope", scope="${scope}"`);
      throw new ApiError(403, 'insufficient_scope', detail);
    }
    request.apiAuthFailure = { status: 401, detail: check.detail, tokenName };
    reply.header('WWW-Authenticate', check.reason === 'missing' ? 'Bearer realm="iamtrail API"' : 'Bearer realm="iamtrail API", error="invalid_token"');
    throw new ApiError(401, 'unauthorized', check.detail);
  });

  app.setErrorHandler((error, request, reply: FastifyReply) => {
    const { status, body } = toApiError(error, request);
    if (status >= 500) request.log.error({ err: error }, 'API request failed');
    if (status === 503) reply.header('Retry-After', '1');
    return reply.code(status).type(API_CONTENT_TYPE).send(body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(API_CONTENT_TYPE)
      .send({ error: 'not_found', message: `No API endpoint ${request.method} ${request.url.split('?', 1)[0]}` }),
  );

  await app.register(eventsRoutes);
  await app.register(readRoutes);
}
