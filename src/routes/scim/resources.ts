// Users and Groups endpoints (RFC 7644 §3.3–§3.6): one route table serves both resource types.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashPassword } from '../../auth/password.js';
import { noneMatch, type ChangeSummary, type ListParams, type PasswordUpdate, type Projection, type ResourceResult } from '../../services/provisioning.js';
import { invalidSyntax, invalidValue } from '../../scim/errors.js';
import { passwordOfPatch, passwordOfResource } from '../../scim/password.js';
import { normalizeResource, parseAttributeList } from '../../scim/resource.js';
import { settle } from '../../services/scim-reads.js';
import { SEARCH_REQUEST_SCHEMA, groupResourceType, userResourceType, type ResourceTypeDef } from '../../scim/schemas.js';
import { appendScimEntry } from './audit.js';
import { toScimError } from './errors.js';
import { SCIM_CONTENT_TYPE, scimBaseUrl } from './index.js';

const ListQuery = Type.Object({
  // the filter parser itself enforces its length limit, with an invalidFilter error
  filter: Type.Optional(Type.String()),
  startIndex: Type.Optional(Type.Integer()),
  count: Type.Optional(Type.Integer()),
  sortBy: Type.Optional(Type.String({ maxLength: 512 })),
  sortOrder: Type.Optional(Type.String({ maxLength: 16 })),
  attributes: Type.Optional(Type.String({ maxLength: 4096 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 4096 })),
});
type ListQueryT = { filter?: string; startIndex?: number; count?: number; sortBy?: string; sortOrder?: string; attributes?: string; excludedAttributes?: string };

const ProjectionQuery = Type.Object({
  attributes: Type.Optional(Type.String({ maxLength: 4096 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 4096 })),
});
type ProjectionQueryT = { attributes?: string; excludedAttributes?: string };

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });
type IdParamsT = { id: string };

/** Every write body is an object; its SCIM shape is checked by the schema-driven normaliser. */
const ObjectBody = Type.Object({});

const SearchBody = Type.Object({
  schemas: Type.Optional(Type.Array(Type.String())),
  filter: Type.Optional(Type.String()),
  startIndex: Type.Optional(Type.Integer()),
  count: Type.Optional(Type.Integer()),
  sortBy: Type.Optional(Type.String({ maxLength: 512 })),
  sortOrder: Type.Optional(Type.String({ maxLength: 16 })),
  attributes: Type.Optional(Type.Union([Type.Array(Type.String()), Type.String()])),
  excludedAttributes: Type.Optional(Type.Union([Type.Array(Type.String()), Type.String()])),
});
/** the SearchRequest attribute each lower-cased name stands for */
const SEARCH_ATTRIBUTES = new Map(Object.keys(SearchBody.properties).map((name) => [name.toLowerCase(), name]));

/**
 * A SearchRequest's attribute names as the schema spells them: attribute names are case-insensitive
 * (RFC 7643 §2.1), and {"Filter": …} must filter rather than be ignored (every user, 200). The same
 * attribute twice in different cases is refused.
 */
function canonicalSearchRequest(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const name = SEARCH_ATTRIBUTES.get(key.toLowerCase()) ?? key;
    if (Object.hasOwn(out, name)) throw invalidSyntax(`The search request has the attribute "${name}" twice (attribute names are case-insensitive)`);
    out[name] = value;
  }
  return out;
}

type SearchBodyT = Omit<ListQueryT, 'attributes' | 'excludedAttributes'> & {
  schemas?: string[];
  attributes?: string[] | string;
  excludedAttributes?: string[] | string;
};

function projection(q: { attributes?: string | string[]; excludedAttributes?: string | string[] }): Projection {
  return { attributes: parseAttributeList(q.attributes), excludedAttributes: parseAttributeList(q.excludedAttributes) };
}

function sendResource(reply: FastifyReply, status: number, result: ResourceResult, withLocation = false): FastifyReply {
  reply.code(status).type(SCIM_CONTENT_TYPE).header('ETag', result.etag);
  if (withLocation) reply.header('Location', result.location);
  return reply.send(result.resource);
}

/** Records what a change did on the request's audit context. */
function describe(request: FastifyRequest, change: ChangeSummary): void {
  Object.assign(request.scimAudit, {
    action: change.action,
    target: change.target,
    resourceId: change.resourceId,
    summary: change.summary,
    event: change.event ?? request.scimAudit.event,
  });
}

interface Handlers {
  rt: ResourceTypeDef;
  noun: string;
  plural: string;
  hasPassword: boolean;
}

export default async function resourceRoutes(app: FastifyInstance): Promise<void> {
  const svc = app.provisioning;
  const bodyLimit = app.config.SCIM_BODY_LIMIT;

  /**
   * Runs a change in the next group commit; its audit entry is appended in the same transaction,
   * or, if the change fails, the failure's entry after its savepoint was rolled back.
   */
  function change<T>(request: FastifyRequest, status: number, run: () => T, summary: (r: T) => ChangeSummary): Promise<T> {
    const event = request.scimAudit.event;
    return app.writeQueue.submit(
      () => {
        const result = run();
        describe(request, summary(result));
        appendScimEntry(request, status);
        return result;
      },
      (error) => {
        const { status: failed, body } = toScimError(error, bodyLimit);
        // the change was rolled back: its description must not leak into the failure's entry
        Object.assign(request.scimAudit, { event, action: undefined, target: undefined, resourceId: undefined, summary: undefined, error: body });
        appendScimEntry(request, failed);
      },
    );
  }

  async function passwordHashOf(password: string | undefined): Promise<string | null> {
    if (password === undefined) return null;
    if (password.length === 0 || password.length > 1024) throw invalidValue('A password must be 1 to 1024 characters');
    return hashPassword(password);
  }

  function register({ rt, noun, plural, hasPassword }: Handlers): void {
    const path = rt.endpoint;
    const isUser = rt.id === 'User';
    const resourceType = rt.id;

    async function listHandler(request: FastifyRequest, reply: FastifyReply, params: ListParams) {
      const outcome = await app.scimReader.read({ kind: 'list', resourceType, params, baseUrl: scimBaseUrl(request) });
      const result = settle(outcome, 'list');
      request.scimAudit.summary = `Listed ${plural}: ${result.summary}`;
      return reply.type(SCIM_CONTENT_TYPE).send(result.body);
    }

    app.get<{ Querystring: ListQueryT }>(
      path,
      { schema: { querystring: ListQuery }, config: { auditType: noun, auditEvent: `List ${plural}` } },
      (request, reply) => {
        const { attributes: _a, excludedAttributes: _e, ...query } = request.query;
        return listHandler(request, reply, { ...query, ...projection(request.query) });
      },
    );

    app.post<{ Body: SearchBodyT }>(
      `${path}/.search`,
      {
        schema: { body: SearchBody },
        config: { auditType: noun, auditEvent: `Search ${plural}` },
        preValidation: async (request) => {
          request.body = canonicalSearchRequest(request.body) as SearchBodyT;
        },
      },
      (request, reply) => {
        const { schemas, attributes: _a, excludedAttributes: _e, ...body } = request.body;
        if (schemas && !schemas.some((s) => s.toLowerCase() === SEARCH_REQUEST_SCHEMA.toLowerCase())) {
          throw invalidSyntax(`A search request lists the schema ${SEARCH_REQUEST_SCHEMA}`);
        }
        return listHandler(request, reply, { ...body, ...projection(request.body) });
      },
    );

    app.get<{ Params: IdParamsT; Querystring: ProjectionQueryT }>(
      `${path}/:id`,
      { schema: { params: IdParams, querystring: ProjectionQuery }, config: { auditType: noun, auditEvent: `Get ${noun}` } },
      async (request, reply) => {
        const job = { kind: 'get', resourceType, id: request.params.id, projection: projection(request.query), baseUrl: scimBaseUrl(request) } as const;
        const result = settle(await app.scimReader.read(job), 'get');
        describe(request, result.change);
        if (noneMatch(request.headers['if-none-match'], result.etag)) return reply.code(304).header('ETag', result.etag).send();
        return reply.code(200).type(SCIM_CONTENT_TYPE).header('ETag', result.etag).send(result.body);
      },
    );

    app.post<{ Querystring: ProjectionQueryT }>(
      path,
      { schema: { querystring: ProjectionQuery, body: ObjectBody }, config: { auditType: noun, auditEvent: `Create ${noun}` } },
      async (request, reply) => {
        const input = normalizeResource(rt, request.body);
        const hash = hasPassword ? await passwordHashOf(passwordOfResource(input)) : null;
        const baseUrl = scimBaseUrl(request);
        const p = projection(request.query);
        const result = await change(
          request,
          201,
          () => (isUser ? svc.createUser(input, hash, baseUrl, p) : svc.createGroup(input, baseUrl, p)),
          (r) => r.change,
        );
        return sendResource(reply, 201, result, true);
      },
    );

    app.put<{ Params: IdParamsT; Querystring: ProjectionQueryT }>(
      `${path}/:id`,
      { schema: { params: IdParams, querystring: ProjectionQuery, body: ObjectBody }, config: { auditType: noun, auditEvent: `Replace ${noun}` } },
      async (request, reply) => {
        const input = normalizeResource(rt, request.body);
        const hash = hasPassword ? await passwordHashOf(passwordOfResource(input)) : null;
        const { id } = request.params;
        const ifMatch = request.headers['if-match'];
        const baseUrl = scimBaseUrl(request);
        const p = projection(request.query);
        const result = await change(
          request,
          200,
          () => (isUser ? svc.replaceUser(id, input, hash, ifMatch, baseUrl, p) : svc.replaceGroup(id, input, ifMatch, baseUrl, p)),
          (r) => r.change,
        );
        return sendResource(reply, 200, result);
      },
    );

    app.patch<{ Params: IdParamsT; Querystring: ProjectionQueryT }>(
      `${path}/:id`,
      { schema: { params: IdParams, querystring: ProjectionQuery, body: ObjectBody }, config: { auditType: noun, auditEvent: `Update ${noun}` } },
      async (request, reply) => {
        const sent = hasPassword ? passwordOfPatch(request.body) : undefined;
        const password: PasswordUpdate | null =
          sent === undefined ? null : sent.kind === 'remove' ? { remove: true } : { hash: (await passwordHashOf(sent.value))! };
        const { id } = request.params;
        const ifMatch = request.headers['if-match'];
        const baseUrl = scimBaseUrl(request);
        const p = projection(request.query);
        const result = await change(
          request,
          200,
          () => (isUser ? svc.patchUser(id, request.body, password, ifMatch, baseUrl, p) : svc.patchGroup(id, request.body, ifMatch, baseUrl, p)),
          (r) => r.change,
        );
        return sendResource(reply, 200, result);
      },
    );

    app.delete<{ Params: IdParamsT }>(
      `${path}/:id`,
      { schema: { params: IdParams }, config: { auditType: noun, auditEvent: `Delete ${noun}` } },
      async (request, reply) => {
        const { id } = request.params;
        const ifMatch = request.headers['if-match'];
        await change(request, 204, () => (isUser ? svc.deleteUser(id, ifMatch) : svc.deleteGroup(id, ifMatch)), (r) => r);
        return reply.code(204).send();
      },
    );
  }

  register({ rt: userResourceType, noun: 'User', plural: 'Users', hasPassword: true });
  register({ rt: groupResourceType, noun: 'Group', plural: 'Groups', hasPassword: false });
}
