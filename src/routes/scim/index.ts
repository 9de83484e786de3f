// The /scim/v2 scope (RFC 7644): SCIM JSON parsing, bearer authentication, one audit entry per
// request, and RFC 7644 §3.12 error bodies for everything — including 401, 404, 413 and bad JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { checkBearer } from '../../auth/tokens.js';
import { describeJsonFault } from '../../json-syntax.js';
import { ScimError, type ScimErrorBody } from '../../scim/errors.js';
import { logOnSend } from './audit.js';
import discoveryRoutes from './discovery.js';
import { toScimError } from './errors.js';
import resourceRoutes from './resources.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function scimBaseUrl(request: FastifyRequest): string {
  const origin = request.server.config.publicUrl ?? `${request.protocol}://${request.host}`;
  return `${origin}/scim/v2`;
}

/** Sets the reply's status and headers for an error, notes its body for the audit entry, returns the body. */
function prepareError(request: FastifyRequest, reply: FastifyReply, error: unknown): ScimErrorBody {
  const { status, body } = toScimError(error, request.server.config.SCIM_BODY_LIMIT);
  if (status >= 500) request.log.error({ err: error }, 'SCIM request failed');
  if (request.scimAudit) request.scimAudit.error = body;
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer realm="iamtrail SCIM"');
  reply.code(status).type(SCIM_CONTENT_TYPE);
  return body;
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  return reply.send(prepareError(request, reply, error));
}

export default async function scimRoutes(app: FastifyInstance): Promise<void> {
  const bodyLimit = app.config.SCIM_BODY_LIMIT;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string', bodyLimit }, (req, body, done) => {
    // a DELETE has no body, but clients send their usual Content-Type with it anyway
    if (req.method === 'DELETE' && (body as string).trim() === '') return done(null, undefined);
    try {
      done(null, sjson.parse(body as string, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch {
      // not JSON.parse's message: it quotes the body around the fault, and the detail is logged
      const e = new Error(describeJsonFault(body as string)) as Error & { code?: string; statusCode?: number };
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
    authorize(request);
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

/** Entra ID mode, SCIM disabled, then the bearer token: throws the ScimError of the first that refuses. */
function authorize(request: FastifyRequest): void {
  const app = request.server;
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
}

/**
 * A /scim/v2 request the router could not take (Fastify's frameworkErrors, before any scope's hooks):
 * a malformed percent-encoding in the path (FST_ERR_BAD_URL) or a path segment longer than any id
 * (FST_ERR_MAX_PARAM_LENGTH). Answered and logged as the SCIM scope answers an unknown path:
 * authentication first, then an RFC 7644 error body, and one audit entry.
 */
export function refuseUnroutableScimRequest(error: { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  request.scimAudit = { type: 'Endpoint', event: 'Unknown Endpoint', written: false, skip: false };
  let refusal: unknown;
  try {
    authorize(request);
    refusal =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new ScimError(404, 'No SCIM resource has an id that long')
        : new ScimError(400, 'The request path is not a valid URL (a malformed %-encoding)', 'invalidSyntax');
  } catch (authError) {
    refusal = authError;
  }
  const body = prepareError(request, reply, refusal);
  // this request never entered the SCIM scope, whose onSend hook logs before the answer leaves
  void logOnSend(request, reply).then(() => reply.send(body));
}
