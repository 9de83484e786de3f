// Discovery endpoints (RFC 7644 §4): read-only, authenticated like the rest of /scim/v2.
import type { FastifyInstance } from 'fastify';
import { ScimError } from '../../scim/errors.js';
import { listOf, resourceTypeDocument, schemaDocument, serviceProviderConfig } from '../../scim/discovery.js';
import { allSchemas, findSchema, resourceTypes } from '../../scim/schemas.js';
import { SCIM_CONTENT_TYPE, scimBaseUrl } from './index.js';

export default async function discoveryRoutes(app: FastifyInstance): Promise<void> {
  const config = (event: string) => ({ auditType: 'Schema', auditEvent: event });

  app.get('/ServiceProviderConfig', { config: config('Get Service Provider Config') }, async (request, reply) => {
    request.scimAudit.summary = 'Returned the service provider configuration';
    return reply.type(SCIM_CONTENT_TYPE).send(serviceProviderConfig(scimBaseUrl(request)));
  });

  app.get('/ResourceTypes', { config: config('List Resource Types') }, async (request, reply) => {
    request.scimAudit.summary = `Returned ${resourceTypes.length} resource types`;
    const base = scimBaseUrl(request);
    return reply.type(SCIM_CONTENT_TYPE).send(listOf(resourceTypes.map((rt) => resourceTypeDocument(rt, base))));
  });

  app.get<{ Params: { id: string } }>('/ResourceTypes/:id', { config: config('Get Resource Type') }, async (request, reply) => {
    const rt = resourceTypes.find((r) => r.id.toLowerCase() === request.params.id.toLowerCase());
    if (!rt) throw new ScimError(404, `Resource type ${request.params.id} not found`);
    request.scimAudit.summary = `Returned resource type ${rt.id}`;
    return reply.type(SCIM_CONTENT_TYPE).send(resourceTypeDocument(rt, scimBaseUrl(request)));
  });

  app.get('/Schemas', { config: config('List Schemas') }, async (request, reply) => {
    request.scimAudit.summary = `Returned ${allSchemas.length} schemas`;
    const base = scimBaseUrl(request);
    return reply.type(SCIM_CONTENT_TYPE).send(listOf(allSchemas.map((s) => schemaDocument(s, base))));
  });

  app.get<{ Params: { id: string } }>('/Schemas/:id', { config: config('Get Schema') }, async (request, reply) => {
    const schema = findSchema(request.params.id);
    if (!schema) throw new ScimError(404, `Schema ${request.params.id} not found`);
    request.scimAudit.summary = `Returned schema ${schema.id}`;
    return reply.type(SCIM_CONTENT_TYPE).send(schemaDocument(schema, scimBaseUrl(request)));
  });
}
