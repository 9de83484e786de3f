// Discovery documents (RFC 7644 §4, RFC 7643 §5–§7): they describe exactly what this server supports.
import { MAX_RESULTS } from '../services/provisioning.js';
import { allSchemas, commonAttributes, resourceTypes, type ResourceTypeDef, type SchemaDef } from './schemas.js';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: true },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A secret token created with `iamtrail token create` or on the Tokens screen, sent as Authorization: Bearer <token>.',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypeDocument(rt: ResourceTypeDef, baseUrl: string) {
  return {
    schemas: [RT_SCHEMA],
    id: rt.id,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema,
    schemaExtensions: rt.schemaExtensions,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${rt.id}` },
  };
}

export function schemaDocument(schema: SchemaDef, baseUrl: string) {
  // core schemas also describe the common attributes, so a client sees id, externalId and meta
  const isCore = schema.id.includes(':core:');
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: isCore ? [...commonAttributes, ...schema.attributes] : schema.attributes,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function listOf(resources: object[]) {
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}

export const discovery = { allSchemas, resourceTypes };
