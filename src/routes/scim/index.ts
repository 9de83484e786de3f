// The /scim/v2 scope (RFC 7644): SCIM JSON parsing, bearer authentication, one audit entry per
// request, and RFC 7644 §3.12 error bodies for everything — including 401, 404, 413 and bad JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { checkBearer } from '../../auth/tokens.js';
import { ScimError } from '../../scim/errors.js';
import { logOnSend } from './audit.js';
import discoveryRoutes from './discovery.js';
import { toScimError } from './errors.js';
import resourceRoutes from './resources.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function scimBaseUrl(request: FastifyRequest): string {
  const origin = request.server.config.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${origin}/scim/v2`;
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, body } = toScimError(error, request.server.config.SCIM_BODY_LIMIT);
  if (status >= 500) request.log.error({ err: error }, 'SCIM request failed');
  if (request.scimAudit) request.scimAudit.error = body;
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="iamtrail SCIM"');
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body);
}

export default async function scimRoutes(app: FastifyInstance): Promise<void> {
  const bodyLimit = app.config.SCIM_BODY_LIMIT;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string', bodyLimit }, (req, body, done) => {
    // a DELETE has no body, but clients send their usual Content-Type with it anyway
    if (req.method === 'DELETE' && (body as string).trim() === '') return done(null, undefined);
    try {
      done(null, sjson.parse(body as string, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch (error) {
      const e = error as Error & { code?: string; statusCode?: number };
      e.code = 'IAMTRAIL_JSON';
      e.statusCode = 400;
      done(e, undefined);
    }
  });

  app.decorateRequest('scimAudit', null as never);

  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    request.scimAudit = {
      type: config.auditType ?? 'Endpoint',
      event: config.auditEvent ?? 'Unknown Endpoint',
      written: false,
      skip: false,
    };
    const { settings, tokens } = app.repos;
    const now = Date.now();
    if (settings.provisioningMode() === 'entra') {
      // the seed: while Entra ID provisioning is on, no new SCIM events appear — counted, not logged
      request.scimAudit.skip = true;
      app.writeQueue.submit(() => settings.countEntraRefusal(now)).catch((err) => request.log.error({ err }, 'could not count a refused SCIM request'));
      throw new ScimError(403, 'SCIM provisioning is not available: this installation provisions through Microsoft Entra ID (see IAM Settings › Active Directory)');
    }
    if (!settings.scimEnabled()) {
      request.scimAudit.authFailure = 'SCIM provisioning is disabled';
      request.scimAudit.authReason = 'disabled';
      throw new ScimError(401, 'SCIM provisioning is disabled on this server: enable it on IAM Settings › SCIM Overview or with `iamtrail scim enable`');
    }
    const check = checkBearer(request.headers.authorization, tokens, 'scim', now);
    if (!check.ok) {
      request.scimAudit.authFailure = check.detail;
      request.scimAudit.authReason = check.reason;
      if (check.token) request.scimAudit.principal = check.token.name;
      throw new ScimError(401, check.detail);
    }
    request.scimAudit.principal = check.token.name;
    request.scimAudit.tokenId = check.token.id;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    await logOnSend(request, reply);
    return payload;
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));

  app.setNotFoundHandler(
    {
      // auth first: an unknown path with a bad token is a 401, not a 404
      preHandler: async () => undefined,
    },
    (request, reply) => sendError(request, reply, new ScimError(404, `No SCIM endpoint ${request.method} ${request.url.split('?')[0]}`)),
  );

  await app.register(discoveryRoutes);
  await app.register(resourceRoutes);
}
