// The resource schemas this server supports (RFC 7643 §4, §8.7.1): core User, Group and the
// Enterprise User extension, described once and used for discovery, validation, filters and PATCH.

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: Uniqueness;
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDef[];
}

export interface ResourceTypeDef {
  id: 'User' | 'Group';
  name: string;
  endpoint: string;
  description: string;
  schema: string;
  schemaExtensions: { schema: string; required: boolean }[];
}

type Opts = Partial<Omit<AttributeDef, 'name' | 'type' | 'description'>>;

function attr(name: string, type: AttributeType, description: string, opts: Opts = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...opts,
  };
}
const str = (name: string, description: string, opts: Opts = {}) => attr(name, 'string', description, opts);

/** type / primary / display / value sub-attributes shared by the multi-valued attributes of §4.1.2 */
function multi(name: string, description: string, valueType: AttributeType, types: string[] | undefined, extra: AttributeDef[] = []): AttributeDef {
  const subs: AttributeDef[] = [
    attr('value', valueType, `The value of the ${name} entry.`),
    str('display', 'A human-readable name, primarily used for display purposes.'),
    str('type', `A label indicating the kind of ${name} entry.`, types ? { canonicalValues: types } : {}),
    attr('primary', 'boolean', 'Indicates the primary or preferred value for this attribute.'),
    ...extra,
  ];
  return attr(name, 'complex', description, { multiValued: true, subAttributes: subs });
}

const addressSubs: AttributeDef[] = [
  str('formatted', 'The full mailing address, formatted for display.'),
  str('streetAddress', 'The full street address component.'),
  str('locality', 'The city or locality component.'),
  str('region', 'The state or region component.'),
  str('postalCode', 'The zip code or postal code component.'),
  str('country', 'The country name component (ISO 3166-1 alpha-2).'),
  str('type', 'A label indicating the kind of address.', { canonicalValues: ['work', 'home', 'other'] }),
  attr('primary', 'boolean', 'Indicates the primary or preferred address.'),
];

export const userSchema: SchemaDef = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', 'Unique identifier for the User, typically used to sign in. Unique case-insensitively.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('name', 'complex', "The components of the user's real name.", {
      subAttributes: [
        str('formatted', 'The full name, formatted for display.'),
        str('familyName', 'The family name of the User.'),
        str('givenName', 'The given name of the User.'),
        str('middleName', 'The middle name(s) of the User.'),
        str('honorificPrefix', 'The honorific prefix(es) of the User.'),
        str('honorificSuffix', 'The honorific suffix(es) of the User.'),
      ],
    }),
    str('displayName', 'The name of the User, suitable for display to end-users.'),
    str('nickName', 'The casual way to address the user in real life.'),
    attr('profileUrl', 'reference', "A fully qualified URL pointing to a page representing the User's online profile.", {
      referenceTypes: ['external'],
    }),
    str('title', "The user's title, such as 'Vice President'."),
    str('userType', 'Used to identify the relationship between the organization and the user.'),
    str('preferredLanguage', "The User's preferred written or spoken language (RFC 7231 Accept-Language)."),
    str('locale', "The User's default location for localization (e.g. en-US)."),
    str('timezone', "The User's time zone in IANA format (e.g. Europe/Paris)."),
    attr('active', 'boolean', "A Boolean value indicating the User's administrative status."),
    str('password', "The User's cleartext password. Write-only: stored as a hash, never returned.", {
      caseExact: true,
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multi('emails', 'Email addresses for the user.', 'string', ['work', 'home', 'other']),
    multi('phoneNumbers', 'Phone numbers for the User.', 'string', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    multi('ims', 'Instant messaging addresses for the User.', 'string', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
    multi('photos', 'URLs of photos of the User.', 'reference', ['photo', 'thumbnail']),
    attr('addresses', 'complex', 'A physical mailing address for this User.', { multiValued: true, subAttributes: addressSubs }),
    attr('groups', 'complex', 'A list of groups to which the user belongs (read-only, managed through Group membership).', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'string', "The identifier of the User's group.", { mutability: 'readOnly' }),
        attr('$ref', 'reference', "The URI of the corresponding 'Group' resource.", { mutability: 'readOnly', referenceTypes: ['Group'] }),
        str('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
        str('type', "A label indicating the attribute's function, e.g. 'direct' or 'indirect'.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
    }),
    multi('entitlements', 'A list of entitlements for the User.', 'string', undefined),
    multi('roles', 'A list of roles for the User.', 'string', undefined),
    multi('x509Certificates', 'A list of certificates issued to the User.', 'binary', undefined),
  ],
};

export const enterpriseUserSchema: SchemaDef = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person by the organization.'),
    str('costCenter', 'Identifies the name of a cost center.'),
    str('organization', 'Identifies the name of an organization.'),
    str('division', 'Identifies the name of a division.'),
    str('department', 'Identifies the name of a department.'),
    attr('manager', 'complex', "The User's manager. Entra ID may send the manager's id as a plain string.", {
      subAttributes: [
        attr('value', 'string', 'The id of the SCIM resource representing the manager.', { caseExact: true }),
        attr('$ref', 'reference', 'The URI of the SCIM resource representing the manager.', { referenceTypes: ['User'] }),
        str('displayName', 'The displayName of the manager.', { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const groupSchema: SchemaDef = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', 'A human-readable name for the Group. Unique case-insensitively.', { required: true, uniqueness: 'server' }),
    attr('members', 'complex', 'A list of members of the Group.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', 'Identifier of the member of this Group.', { caseExact: true, mutability: 'immutable' }),
        attr('$ref', 'reference', 'The URI of the member resource.', { mutability: 'immutable', referenceTypes: ['User', 'Group'] }),
        str('display', 'A human-readable name of the member.', { mutability: 'readOnly' }),
        str('type', 'The type of the member: User or Group.', { mutability: 'immutable', canonicalValues: ['User', 'Group'] }),
      ],
    }),
  ],
};

/** Attributes every resource has (RFC 7643 §3.1), described in each schema response by convention. */
export const commonAttributes: AttributeDef[] = [
  str('id', 'Unique identifier for the resource, assigned by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  str('externalId', 'Identifier of the resource as defined by the provisioning client.', { caseExact: true }),
  attr('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      str('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', 'The DateTime that the resource was added to the service provider.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'The most recent DateTime that the details of this resource were updated.', {
        mutability: 'readOnly',
      }),
      attr('location', 'reference', 'The URI of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
      str('version', 'The version (ETag) of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const userResourceType: ResourceTypeDef = {
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  description: 'User Account',
  schema: USER_SCHEMA,
  schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
};

export const groupResourceType: ResourceTypeDef = {
  id: 'Group',
  name: 'Group',
  endpoint: '/Groups',
  description: 'Group',
  schema: GROUP_SCHEMA,
  schemaExtensions: [],
};

export const allSchemas: SchemaDef[] = [userSchema, groupSchema, enterpriseUserSchema];
export const resourceTypes: ResourceTypeDef[] = [userResourceType, groupResourceType];

const schemaById = new Map(allSchemas.map((s) => [s.id.toLowerCase(), s]));
// names as the schemas spell them, the usual case: found without lower-casing (this runs for
// every attribute of every request body)
const schemaByExactId = new Map(allSchemas.map((s) => [s.id, s]));

export function findSchema(id: string): SchemaDef | undefined {
  return schemaByExactId.get(id) ?? schemaById.get(id.toLowerCase());
}

/** A resolved attribute: the schema it belongs to, the top-level attribute and, if any, the sub-attribute. */
export interface ResolvedAttribute {
  schema: SchemaDef;
  /** true for core attributes and id / externalId / meta */
  core: boolean;
  attribute: AttributeDef;
  sub?: AttributeDef;
}

/** Each attribute list by exact and by lower-cased name, built on first use (the schemas are constants). */
const indexes = new WeakMap<AttributeDef[], { exact: Map<string, AttributeDef>; lower: Map<string, AttributeDef> }>();

function findIn(list: AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!list) return undefined;
  let index = indexes.get(list);
  if (!index) {
    index = { exact: new Map(), lower: new Map() };
    // of two names equal but for case, the first wins, as a search of the list would find it
    for (const a of list) {
      if (index.lower.has(a.name.toLowerCase())) continue;
      index.lower.set(a.name.toLowerCase(), a);
      index.exact.set(a.name, a);
    }
    indexes.set(list, index);
  }
  return index.exact.get(name) ?? index.lower.get(name.toLowerCase());
}

export function findSubAttribute(attribute: AttributeDef, name: string): AttributeDef | undefined {
  return findIn(attribute.subAttributes, name);
}

/**
 * Resolves an attribute name as a client wrote it (any case, optional schema URN prefix,
 * optional sub-attribute) against a resource type. Returns undefined for unknown names.
 */
export function resolveAttribute(
  resourceType: ResourceTypeDef,
  path: { uri?: string; attr: string; sub?: string },
): ResolvedAttribute | undefined {
  const core = findSchema(resourceType.schema)!;
  let schema = core;
  if (path.uri) {
    const wanted = findSchema(path.uri);
    const allowed = wanted && (wanted.id === core.id || resourceType.schemaExtensions.some((e) => e.schema === wanted.id));
    if (!wanted || !allowed) return undefined;
    schema = wanted;
  }
  let attribute = findIn(schema.attributes, path.attr);
  let isCore = schema === core;
  if (!attribute && schema === core) attribute = findIn(commonAttributes, path.attr);
  if (!attribute) return undefined;
  if (schema !== core) isCore = false;
  if (path.sub === undefined) return { schema, core: isCore, attribute };
  const sub = findSubAttribute(attribute, path.sub);
  if (!sub) return undefined;
  return { schema, core: isCore, attribute, sub };
}

const schemasByType = new WeakMap<ResourceTypeDef, readonly SchemaDef[]>();

/** The core schema first, then the extensions (one shared, frozen list per resource type). */
export function schemasFor(resourceType: ResourceTypeDef): readonly SchemaDef[] {
  let list = schemasByType.get(resourceType);
  if (!list) {
    list = Object.freeze([findSchema(resourceType.schema)!, ...resourceType.schemaExtensions.map((e) => findSchema(e.schema)!)]);
    schemasByType.set(resourceType, list);
  }
  return list;
}
