// Resource bodies in and out of the SCIM API, kept free of HTTP and storage concerns:
//  - normalizeResource: validation and canonical form of client bodies (RFC 7643 §2 attribute
//    characteristics and data types, §2.2 read-only attributes, §2.4 multi-valued "primary",
//    §3 schemas / extensions, §3.3 extension attributes under their URN, RFC 7644 §3.3 and §3.5.1).
//  - applyPatch: PATCH operations add / replace / remove (RFC 7644 §3.5.2).
//  - projectResource: the attributes / excludedAttributes parameters (RFC 7644 §3.4.2.5, §3.9).
// Canonical form: attribute names spelled as in the schema, core attributes at the top level,
// extension attributes under their schema URN, unassigned attributes absent (RFC 7643 §2.5),
// and a `schemas` list computed from what is present.

import type { AttrPath, Filter } from './filter-ast.js';
import { evaluateFilter, parsePatchPath } from './filter.js';
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget } from './errors.js';
import {
  PATCH_OP_SCHEMA,
  enterpriseUserSchema,
  findSchema,
  findSubAttribute,
  groupSchema,
  resolveAttribute,
  schemasFor,
  type AttributeDef,
  type ResourceTypeDef,
  type SchemaDef,
} from './schemas.js';

type Json = Record<string, unknown>;
type PatchOpName = 'add' | 'replace' | 'remove';

const MANAGER = enterpriseUserSchema.attributes.find((a) => a.name === 'manager')!;
const MEMBERS = groupSchema.attributes.find((a) => a.name === 'members')!;
const MEMBER_TYPES = ['User', 'Group'];
/** Never omitted by projection; `schemas` is not an attribute but RFC 7644 §3.4.2.5 treats it so. */
const ALWAYS_RETURNED = ['schemas', 'id'];

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of a JSON value (a stored resource): for documents of this size, about a fifth of
 * structuredClone's cost, which was a quarter of applyPatch's.
 */
function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const key of Object.keys(value)) {
    const copy = cloneJson((value as Json)[key]);
    // an own "__proto__" key (JSON.parse makes one) stays a key, not the copy's prototype
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out as T;
}

/** Equal JSON values; the order of an object's keys does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

// ---------------------------------------------------------------------------------------------
// Attribute names

/** An attribute (and optionally one sub-attribute) a client named, resolved against the schemas. */
interface Target {
  schema: SchemaDef;
  /** core attributes live at the top level, extension attributes under the schema URN */
  core: boolean;
  attribute: AttributeDef;
  sub?: AttributeDef;
  /** canonical name for messages */
  label: string;
}

/** Every schema id is a URN: a name that is not one (most names) is answered without lower-casing. */
const URN = /^urn:/i;

function extensionByUrn(rt: ResourceTypeDef, name: string): SchemaDef | undefined {
  if (!URN.test(name)) return undefined;
  const schema = findSchema(name);
  return schema && schemasFor(rt).indexOf(schema) > 0 ? schema : undefined;
}

function splitDotted(name: string, uri?: string): AttrPath | undefined {
  const dot = name.indexOf('.');
  const attr = dot < 0 ? name : name.slice(0, dot);
  if (attr === '') return undefined;
  return { ...(uri !== undefined && { uri }), attr, ...(dot >= 0 && { sub: name.slice(dot + 1) }) };
}

/** `name.givenName`, `urn:...:enterprise:2.0:User:manager.value` and plain names, as an attrPath. */
function parseName(rt: ResourceTypeDef, name: string): AttrPath | undefined {
  if (!URN.test(name)) return splitDotted(name);
  const lower = name.toLowerCase();
  for (const schema of schemasFor(rt)) {
    const prefix = `${schema.id.toLowerCase()}:`;
    if (lower.startsWith(prefix)) return splitDotted(name.slice(prefix.length), schema.id);
  }
  if (lower.startsWith('urn:')) return undefined;
  return splitDotted(name);
}

function labelOf(schema: SchemaDef, core: boolean, attribute: AttributeDef, sub?: AttributeDef): string {
  return `${core ? '' : `${schema.id}:`}${attribute.name}${sub ? `.${sub.name}` : ''}`;
}

/**
 * Like resolveAttribute, but a name without a URN that is not a core attribute may name an
 * extension attribute: Azure AD's documented PATCH uses `"path": "manager"`.
 */
function resolveTarget(rt: ResourceTypeDef, path: AttrPath): Target | undefined {
  let resolved = resolveAttribute(rt, path);
  if (!resolved && path.uri === undefined) {
    for (const ext of rt.schemaExtensions) {
      resolved = resolveAttribute(rt, { ...path, uri: ext.schema });
      if (resolved) break;
    }
  }
  if (!resolved) return undefined;
  const { schema, core, attribute, sub } = resolved;
  return { schema, core, attribute, ...(sub && { sub }), label: labelOf(schema, core, attribute, sub) };
}

function isReadOnly(target: Target): boolean {
  return target.attribute.mutability === 'readOnly' || target.sub?.mutability === 'readOnly';
}

/** Where a target's attribute lives: the resource itself or its extension object. */
function containerOf(doc: Json, target: Target, create: boolean): Json | undefined {
  if (target.core) return doc;
  const existing = doc[target.schema.id];
  if (isRecord(existing)) return existing;
  if (!create) return undefined;
  const created: Json = {};
  doc[target.schema.id] = created;
  return created;
}

// ---------------------------------------------------------------------------------------------
// Values (RFC 7643 §2.3 data types)

function coerceBoolean(value: unknown, label: string): boolean {
  if (typeof value === 'boolean') return value;
  // Entra ID sends booleans as "True" / "False" strings.
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`Attribute "${label}" must be a boolean`);
}

function coerceNumber(value: unknown, label: string, integer: boolean): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw invalidValue(`Attribute "${label}" must be ${integer ? 'an integer' : 'a number'}`);
  }
  return n;
}

function checkString(value: unknown, label: string): string {
  if (typeof value !== 'string') throw invalidValue(`Attribute "${label}" must be a string`);
  return value;
}

/** One value of an attribute (one element for a multi-valued one); undefined means unassigned. */
function normalizeSingle(rt: ResourceTypeDef, def: AttributeDef, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'boolean':
      return coerceBoolean(value, label);
    case 'integer':
    case 'decimal':
      return coerceNumber(value, label, def.type === 'integer');
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
        throw invalidValue(`Attribute "${label}" must be an ISO 8601 dateTime string`);
      }
      return value;
    case 'complex':
      return normalizeComplex(rt, def, value, label);
    default:
      return checkString(value, label);
  }
}

function normalizeComplex(rt: ResourceTypeDef, def: AttributeDef, value: unknown, label: string): Json | undefined {
  // Entra ID sends the manager as the manager's id, and an empty string to clear it.
  if (def === MANAGER && typeof value === 'string') return value === '' ? undefined : { value };
  const out = normalizeSubValues(rt, def, value, label);
  if (def === MEMBERS) return normalizeMember(out, label);
  if (def === MANAGER && (out.value === undefined || out.value === '')) return undefined;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The sub-attributes of one complex value, each checked on its own. */
function normalizeSubValues(rt: ResourceTypeDef, def: AttributeDef, value: unknown, label: string): Json {
  if (!isRecord(value)) throw invalidValue(`Attribute "${label}" must be an object`);
  const out: Json = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = findSubAttribute(def, key);
    if (!sub) throw invalidValue(`Unknown attribute "${label}.${key}" for ${rt.name}`);
    // The server derives a member's display and $ref; read-only values are ignored (RFC 7643 §2.2).
    if (sub.mutability === 'readOnly' || (def === MEMBERS && sub.name === '$ref')) continue;
    const normalized = normalizeSingle(rt, sub, raw, `${label}.${sub.name}`);
    if (normalized !== undefined) out[sub.name] = normalized;
  }
  return out;
}

function normalizeMember(member: Json, label: string): Json {
  if (typeof member.value !== 'string' || member.value === '') {
    throw invalidValue(`Attribute "${label}.value" is required for every member`);
  }
  if (member.type !== undefined) {
    const type = MEMBER_TYPES.find((t) => t.toLowerCase() === String(member.type).toLowerCase());
    if (!type) throw invalidValue(`Attribute "${label}.type" must be "User" or "Group"`);
    member.type = type;
  }
  return member;
}

/** A whole attribute value; multi-valued attributes always come back as a non-empty array or undefined. */
function normalizeAttr(rt: ResourceTypeDef, def: AttributeDef, value: unknown, label: string): unknown {
  if (value === null || value === undefined) return undefined;
  if (!def.multiValued) {
    // A single complex value wrapped in an array, as Azure AD's documented manager PATCH does.
    const single = def.type === 'complex' && Array.isArray(value) && value.length === 1 ? value[0] : value;
    return normalizeSingle(rt, def, single, label);
  }
  const items = (Array.isArray(value) ? value : [value])
    .map((item) => normalizeSingle(rt, def, item, label))
    .filter((item) => item !== undefined);
  const unique = def === MEMBERS ? uniqueMembers(items as Json[]) : uniqueValues(items);
  if (unique.filter((item) => isRecord(item) && item.primary === true).length > 1) {
    throw invalidValue(`Attribute "${label}" has more than one value with "primary": true`);
  }
  return unique.length === 0 ? undefined : unique;
}

function uniqueValues(items: unknown[]): unknown[] {
  return items.filter((item, i) => items.findIndex((other) => deepEqual(other, item)) === i);
}

function uniqueMembers(members: Json[]): Json[] {
  const seen = new Set<unknown>();
  return members.filter((m) => !seen.has(m.value) && seen.add(m.value));
}

function normalizeTargetValue(rt: ResourceTypeDef, target: Target, value: unknown): unknown {
  return target.sub
    ? normalizeSingle(rt, target.sub, value, target.label)
    : normalizeAttr(rt, target.attribute, value, target.label);
}

// ---------------------------------------------------------------------------------------------
// Assignments: a body (or a PATCH value without a path) as a list of attribute := value

type Assignment = { target: Target; value: unknown } | { clear: SchemaDef };

const IGNORED_SCHEMA_PREFIXES = ['http://schemas.microsoft.com/2006/11/resourcemanagement/adscim/'];

function checkSchemas(rt: ResourceTypeDef, value: unknown): void {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw invalidValue('"schemas" must be an array of schema URNs');
  }
  const allowed = schemasFor(rt).map((s) => s.id.toLowerCase());
  // Entra ID's own tutorial lists its ADSCIM schema next to the core one on group creation: ignore it
  const unknown = value.find((s: string) => !allowed.includes(s.toLowerCase()) && !IGNORED_SCHEMA_PREFIXES.some((p) => s.toLowerCase().startsWith(p)));
  if (unknown !== undefined) throw invalidValue(`Unknown schema "${unknown}" for ${rt.name}`);
}

function collectAssignments(rt: ResourceTypeDef, body: Json, scope?: SchemaDef): Assignment[] {
  const out: Assignment[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (!scope && key.toLowerCase() === 'schemas') {
      checkSchemas(rt, value);
      continue;
    }
    const extension = scope ? undefined : extensionByUrn(rt, key);
    if (extension) {
      out.push(...extensionAssignments(rt, extension, value));
      continue;
    }
    const path = scope ? splitDotted(key, scope.id) : parseName(rt, key);
    const target = path && resolveTarget(rt, path);
    if (!target) throw invalidValue(`Unknown attribute "${scope ? `${scope.id}:` : ''}${key}" for ${rt.name}`);
    if (isReadOnly(target)) continue;
    if (target.sub && target.attribute.multiValued) {
      throw invalidValue(`Attribute "${target.label}" belongs to a multi-valued attribute; use a PATCH path with a filter`);
    }
    out.push({ target, value: normalizeTargetValue(rt, target, value) });
  }
  return out;
}

function extensionAssignments(rt: ResourceTypeDef, extension: SchemaDef, value: unknown): Assignment[] {
  if (value === null) return [{ clear: extension }];
  if (!isRecord(value)) throw invalidValue(`"${extension.id}" must be an object of extension attributes`);
  return collectAssignments(rt, value, extension);
}

/**
 * Applies one assignment with PATCH semantics (RFC 7644 §3.5.2.1 / §3.5.2.3): multi-valued
 * attributes are merged by add and overwritten by replace; complex attributes are merged by both.
 */
function assign(doc: Json, assignment: Assignment, op: 'add' | 'replace'): void {
  if ('clear' in assignment) {
    delete doc[assignment.clear.id];
    return;
  }
  const { target, value } = assignment;
  if (value === undefined) return unassign(doc, target);
  const container = containerOf(doc, target, true)!;
  const name = target.attribute.name;
  const current = container[name];
  if (target.sub) {
    container[name] = { ...(isRecord(current) ? current : {}), [target.sub.name]: value };
  } else if (target.attribute.multiValued && op === 'add' && Array.isArray(current)) {
    container[name] = mergeElements(target.attribute, current, value as unknown[]);
  } else if (target.attribute.type === 'complex' && !target.attribute.multiValued && target.attribute !== MANAGER) {
    // Sub-attributes not given stay as they were (§3.5.2.3). Not so for the manager: it is a
    // reference, and a new id must not keep the old $ref.
    container[name] = { ...(isRecord(current) ? current : {}), ...(value as Json) };
  } else {
    container[name] = value;
  }
}

function unassign(doc: Json, target: Target): void {
  const container = containerOf(doc, target, false);
  if (!container) return;
  const name = target.attribute.name;
  if (!target.sub) {
    delete container[name];
    return;
  }
  const current = container[name];
  if (!isRecord(current)) return;
  const { [target.sub.name]: _removed, ...rest } = current;
  if (Object.keys(rest).length === 0) delete container[name];
  else container[name] = rest;
}

function mergeElements(def: AttributeDef, current: unknown[], added: unknown[]): unknown[] {
  const isDuplicate = (item: unknown) =>
    def === MEMBERS
      ? current.some((m) => isRecord(m) && isRecord(item) && m.value === item.value)
      : current.some((existing) => deepEqual(existing, item));
  const fresh = added.filter((item) => !isDuplicate(item));
  return demoteOtherPrimaries([...current, ...fresh], fresh);
}

/** RFC 7644 §3.5.2: setting "primary" true on a value sets it false on the others. */
function demoteOtherPrimaries(list: unknown[], touched: unknown[]): unknown[] {
  if (!touched.some((item) => isRecord(item) && item.primary === true)) return list;
  return list.map((item) =>
    isRecord(item) && item.primary === true && !touched.includes(item) ? { ...item, primary: false } : item,
  );
}

// ---------------------------------------------------------------------------------------------
// normalizeResource

function checkRequired(rt: ResourceTypeDef, resource: Json): void {
  for (const attribute of schemasFor(rt)[0]!.attributes) {
    if (!attribute.required) continue;
    const value = resource[attribute.name];
    if (value === undefined || value === '') {
      throw invalidValue(`Attribute "${attribute.name}" is required for ${rt.name}`);
    }
  }
}

/** Puts the computed `schemas` first: the core schema plus each extension that has attributes. */
function withSchemas(rt: ResourceTypeDef, resource: Json): Json {
  const { schemas: _ignored, ...rest } = resource;
  const extensions = schemasFor(rt)
    .slice(1)
    .map((s) => s.id);
  for (const id of extensions) {
    const value = rest[id];
    if (isRecord(value) && Object.keys(value).length === 0) delete rest[id];
  }
  return { schemas: [rt.schema, ...extensions.filter((id) => id in rest)], ...rest };
}

/**
 * Validates a client-supplied resource body (POST / PUT, or a PATCH value when `partial`) and
 * returns it in canonical form. Read-only attributes are dropped (RFC 7643 §2.2); `password`
 * is kept for the caller to hash.
 */
export function normalizeResource(
  rt: ResourceTypeDef,
  input: unknown,
  options: { partial?: boolean } = {},
): Record<string, unknown> {
  if (!isRecord(input)) throw invalidSyntax(`A ${rt.name} must be a JSON object`);
  const out: Json = {};
  for (const assignment of collectAssignments(rt, input)) assign(out, assignment, 'replace');
  if (!options.partial) checkRequired(rt, out);
  return withSchemas(rt, out);
}

// ---------------------------------------------------------------------------------------------
// applyPatch (RFC 7644 §3.5.2)

interface Operation {
  op: PatchOpName;
  path?: string;
  value?: unknown;
}

function keyOf(body: Json, name: string): unknown {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : body[key];
}

function parseOperations(body: unknown): Operation[] {
  if (!isRecord(body)) throw invalidSyntax('A PATCH request must be a JSON object');
  const schemas = keyOf(body, 'schemas');
  const isPatchOp = (s: unknown) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.some(isPatchOp)) {
    throw invalidSyntax(`A PATCH request must list the schema "${PATCH_OP_SCHEMA}"`);
  }
  const operations = keyOf(body, 'Operations');
  if (!Array.isArray(operations)) throw invalidSyntax('A PATCH request must have an "Operations" array');
  if (operations.length === 0) throw invalidValue('"Operations" must contain at least one operation');
  return operations.map(parseOperation);
}

function parseOperation(raw: unknown, index: number): Operation {
  if (!isRecord(raw)) throw invalidSyntax(`Operation ${index + 1} must be an object`);
  const op = keyOf(raw, 'op');
  const name = typeof op === 'string' ? op.toLowerCase() : undefined;
  if (name !== 'add' && name !== 'replace' && name !== 'remove') {
    throw invalidSyntax(`Operation ${index + 1}: "op" must be "add", "replace" or "remove"`);
  }
  const path = keyOf(raw, 'path');
  if (path !== undefined && typeof path !== 'string') throw invalidSyntax(`Operation ${index + 1}: "path" must be a string`);
  const value = keyOf(raw, 'value');
  if (name !== 'remove' && value === undefined) throw invalidValue(`Operation ${index + 1}: "${name}" requires a "value"`);
  return { op: name, ...(path !== undefined && path !== '' && { path }), ...(value !== undefined && { value }) };
}

function applyOperation(rt: ResourceTypeDef, doc: Json, operation: Operation): void {
  const { op, path, value } = operation;
  if (path === undefined) {
    if (op === 'remove') throw noTarget('A "remove" operation requires a "path"');
    if (!isRecord(value)) throw invalidValue(`An "${op}" operation without a "path" needs an object of attributes as its value`);
    for (const assignment of collectAssignments(rt, value)) assign(doc, assignment, op);
    return;
  }
  const extension = extensionByUrn(rt, path);
  if (extension) return applyToExtension(rt, doc, op, extension, value);
  applyToPath(rt, doc, op, path, value);
}

/** A path that is just an extension URN targets the whole extension object. */
function applyToExtension(rt: ResourceTypeDef, doc: Json, op: PatchOpName, extension: SchemaDef, value: unknown): void {
  if (op === 'remove') {
    delete doc[extension.id];
    return;
  }
  for (const assignment of extensionAssignments(rt, extension, value)) assign(doc, assignment, op);
}

function applyToPath(rt: ResourceTypeDef, doc: Json, op: PatchOpName, path: string, value: unknown): void {
  const parsed = parsePatchPath(path);
  const target = resolveTarget(rt, parsed.path);
  const valueSub = parsed.valueSub === undefined ? undefined : target && findSubAttribute(target.attribute, parsed.valueSub);
  if (!target || (parsed.valueSub !== undefined && !valueSub)) {
    throw invalidPath(`"${path}" does not name an attribute of ${rt.name}`);
  }
  if (isReadOnly(target) || valueSub?.mutability === 'readOnly') {
    throw mutability(`Attribute "${target.label}${valueSub ? `.${valueSub.name}` : ''}" is read-only`);
  }
  if (parsed.filter || (target.sub && target.attribute.multiValued)) {
    const elements = elementTarget(target, parsed.filter, valueSub ?? target.sub, path);
    return op === 'remove' ? removeFromElements(doc, elements) : setOnElements(rt, doc, elements, op, value);
  }
  if (op === 'remove') return removeAttribute(rt, doc, target, value);
  assign(doc, { target, value: normalizeTargetValue(rt, target, value) }, op);
}

function removeAttribute(rt: ResourceTypeDef, doc: Json, target: Target, value: unknown): void {
  if (!target.sub && target.attribute.required) {
    throw invalidValue(`Attribute "${target.label}" is required and cannot be removed`);
  }
  if (target.sub || !target.attribute.multiValued || value === undefined || value === null) {
    return unassign(doc, target);
  }
  // Entra ID removes group members with path "members" and the members to remove as the value.
  const unwanted = (normalizeAttr(rt, target.attribute, value, target.label) ?? []) as Json[];
  const container = containerOf(doc, target, false);
  const current = container?.[target.attribute.name];
  if (!container || !Array.isArray(current)) return;
  const kept = current.filter((item) => !unwanted.some((u) => matchesValue(target.attribute, item, u)));
  if (kept.length === 0) delete container[target.attribute.name];
  else container[target.attribute.name] = kept;
}

/** Members are identified by value (case-sensitive ids); other values by the sub-attributes given. */
function matchesValue(def: AttributeDef, item: unknown, given: unknown): boolean {
  if (!isRecord(item) || !isRecord(given)) return deepEqual(item, given);
  if (def === MEMBERS) return item.value === given.value;
  return Object.entries(given).every(([k, v]) => deepEqual(item[k], v));
}

// --- operations on the elements of a multi-valued complex attribute (valuePath, or attr.sub)

interface ElementTarget {
  parent: Target;
  /** undefined: every element (a path like `emails.value`) */
  filter: Filter | undefined;
  sub: AttributeDef | undefined;
}

function elementTarget(target: Target, filter: Filter | undefined, sub: AttributeDef | undefined, path: string): ElementTarget {
  const { attribute, schema, core } = target;
  if (!attribute.multiValued || attribute.type !== 'complex') {
    throw invalidPath(`"${path}": a filter needs a multi-valued complex attribute`);
  }
  if (filter) checkFilterNames(attribute, filter, path);
  return { parent: { schema, core, attribute, label: labelOf(schema, core, attribute) }, filter, sub };
}

function checkFilterNames(def: AttributeDef, filter: Filter, path: string): void {
  switch (filter.op) {
    case 'and':
    case 'or':
      checkFilterNames(def, filter.left, path);
      return checkFilterNames(def, filter.right, path);
    case 'not':
      return checkFilterNames(def, filter.filter, path);
    case 'valuePath':
      break;
    default:
      if (filter.path.uri === undefined && filter.path.sub === undefined && findSubAttribute(def, filter.path.attr)) return;
  }
  throw invalidPath(`"${path}": the filter may only name sub-attributes of "${def.name}"`);
}

function elementMatcher(def: AttributeDef, filter: Filter | undefined): (item: unknown) => boolean {
  if (!filter) return () => true;
  const caseExact = (p: AttrPath) => findSubAttribute(def, p.attr)?.caseExact ?? false;
  return (item) => isRecord(item) && evaluateFilter(filter, item, { caseExact });
}

function removeFromElements(doc: Json, { parent, filter, sub }: ElementTarget): void {
  const container = containerOf(doc, parent, false);
  const name = parent.attribute.name;
  const current = container?.[name];
  if (!container || !Array.isArray(current)) return;
  const matches = elementMatcher(parent.attribute, filter);
  // A filter that matches nothing leaves the resource as it is (no error, RFC 7644 §3.5.2.2 is silent).
  const kept = sub
    ? current.map((item) => (matches(item) ? withoutKey(item as Json, sub.name) : item)).filter(isNonEmpty)
    : current.filter((item) => !matches(item));
  if (kept.length === 0) delete container[name];
  else container[name] = kept;
}

function isNonEmpty(item: unknown): boolean {
  return !isRecord(item) || Object.keys(item).length > 0;
}

function withoutKey(item: Json, key: string): Json {
  const { [key]: _removed, ...rest } = item;
  return rest;
}

function setOnElements(rt: ResourceTypeDef, doc: Json, elements: ElementTarget, op: 'add' | 'replace', value: unknown): void {
  const { parent, filter, sub } = elements;
  const label = `${parent.label}${sub ? `.${sub.name}` : ''}`;
  if (value === null) return removeFromElements(doc, elements);
  // A whole-element value is merged into the matching elements, like a complex replace (§3.5.2.3).
  const patch = sub ? { [sub.name]: normalizeSingle(rt, sub, value, label) } : normalizeSubValues(rt, parent.attribute, value, label);
  const container = containerOf(doc, parent, true)!;
  const name = parent.attribute.name;
  const matches = elementMatcher(parent.attribute, filter);
  const touched: Json[] = [];
  const list = (Array.isArray(container[name]) ? (container[name] as unknown[]) : []).map((item) => {
    if (!matches(item)) return item;
    const updated = { ...(item as Json), ...patch };
    touched.push(updated);
    return updated;
  });
  if (touched.length === 0) {
    const created = { ...newElementSeed(rt, parent, filter, label, op), ...patch };
    list.push(created);
    touched.push(created);
  }
  container[name] = demoteOtherPrimaries(list, touched);
}

/**
 * RFC 7644 §3.5.2.3 answers a replace whose filter matches nothing with 400 noTarget, but Entra ID
 * sends `replace emails[type eq "work"].value` for users that have no work email yet and treats
 * the error as a failed sync. As a compromise, add and replace build the missing element from the
 * filter's `eq` conditions (joined by `and`) plus the value; other filters still get noTarget.
 */
function newElementSeed(rt: ResourceTypeDef, parent: Target, filter: Filter | undefined, label: string, op: string): Json {
  const seed = filter && eqConditions(parent.attribute, filter);
  if (!seed) throw noTarget(`No value of "${parent.label}" matches the path of this "${op}" operation`);
  return (normalizeSingle(rt, parent.attribute, seed, label) as Json | undefined) ?? {};
}

function eqConditions(def: AttributeDef, filter: Filter): Json | undefined {
  if (filter.op === 'and') {
    const left = eqConditions(def, filter.left);
    const right = eqConditions(def, filter.right);
    return left && right && { ...left, ...right };
  }
  if (filter.op !== 'eq') return undefined;
  const sub = findSubAttribute(def, filter.path.attr);
  return sub && { [sub.name]: filter.value };
}

/**
 * Applies a SCIM PATCH request to a canonical resource (without id / meta: read-only attributes
 * are not part of the result) and returns the canonical result; `changed` is false when the
 * operations left the resource as it was.
 */
export function applyPatch(
  rt: ResourceTypeDef,
  resource: Record<string, unknown>,
  body: unknown,
): { resource: Record<string, unknown>; changed: boolean } {
  const operations = parseOperations(body);
  const doc = cloneJson(resource);
  for (const operation of operations) applyOperation(rt, doc, operation);
  // Re-validating the whole result enforces required attributes, a single primary, no duplicate
  // members, and recomputes `schemas`.
  const result = normalizeResource(rt, doc);
  return { resource: result, changed: !deepEqual(normalizeResource(rt, resource, { partial: true }), result) };
}

// ---------------------------------------------------------------------------------------------
// projectResource (RFC 7644 §3.4.2.5)

/** container ('' for the top level, else an extension URN) → attribute → 'all' or sub-attribute names */
type Selection = Map<string, Map<string, 'all' | Set<string>> | 'all'>;

function buildSelection(rt: ResourceTypeDef, names: string[]): Selection {
  const selection: Selection = new Map();
  for (const name of names) {
    const extension = extensionByUrn(rt, name);
    if (extension) {
      selection.set(extension.id, 'all');
      continue;
    }
    const path = parseName(rt, name);
    const target = path && resolveTarget(rt, path);
    if (!target) continue; // unknown names are ignored (RFC 7644 §3.4.2.5 / §3.9)
    const key = target.core ? '' : target.schema.id;
    const attributes = selection.get(key) ?? new Map<string, 'all' | Set<string>>();
    if (attributes === 'all') continue;
    selection.set(key, attributes);
    const current = attributes.get(target.attribute.name);
    if (!target.sub) attributes.set(target.attribute.name, 'all');
    else if (current !== 'all') attributes.set(target.attribute.name, (current ?? new Set()).add(target.sub.name));
  }
  return selection;
}

function pickSubs(value: unknown, subs: Set<string>): unknown {
  const pick = (item: unknown) => {
    if (!isRecord(item)) return undefined;
    const picked = Object.fromEntries(Object.entries(item).filter(([k]) => subs.has(k)));
    return Object.keys(picked).length > 0 ? picked : undefined;
  };
  if (!Array.isArray(value)) return pick(value);
  const items = value.map(pick).filter((item) => item !== undefined);
  return items.length > 0 ? items : undefined;
}

function include(resource: Json, selection: Selection): Json {
  const out: Json = {};
  for (const key of ALWAYS_RETURNED) if (resource[key] !== undefined) out[key] = resource[key];
  for (const [key, attributes] of selection) {
    const source = key === '' ? resource : resource[key];
    if (!isRecord(source)) continue;
    if (attributes === 'all') {
      out[key] = source;
      continue;
    }
    const target: Json = {};
    for (const [name, choice] of attributes) {
      const value = choice === 'all' ? source[name] : pickSubs(source[name], choice);
      if (value !== undefined) target[name] = value;
    }
    if (key === '') Object.assign(out, target);
    else if (Object.keys(target).length > 0) out[key] = target;
  }
  return out;
}

function exclude(resource: Json, selection: Selection): Json {
  const out: Json = { ...resource };
  for (const [key, attributes] of selection) {
    if (attributes === 'all') {
      delete out[key];
    } else if (key === '') {
      removeAttributes(out, attributes, ALWAYS_RETURNED);
    } else if (isRecord(out[key])) {
      const extension = { ...(out[key] as Json) };
      removeAttributes(extension, attributes, []);
      if (Object.keys(extension).length > 0) out[key] = extension;
      else delete out[key];
    }
  }
  return out;
}

function removeAttributes(container: Json, attributes: Map<string, 'all' | Set<string>>, keep: string[]): void {
  for (const [name, choice] of attributes) {
    if (keep.includes(name)) continue;
    const value = choice === 'all' ? undefined : dropSubs(container[name], choice);
    if (value === undefined) delete container[name];
    else container[name] = value;
  }
}

function dropSubs(value: unknown, subs: Set<string>): unknown {
  const drop = (item: unknown) => {
    if (!isRecord(item)) return item;
    const kept = Object.fromEntries(Object.entries(item).filter(([k]) => !subs.has(k)));
    return Object.keys(kept).length > 0 ? kept : undefined;
  };
  if (!Array.isArray(value)) return drop(value);
  const items = value.map(drop).filter((item) => item !== undefined);
  return items.length > 0 ? items : undefined;
}

const neverReturnedNames = new WeakMap<SchemaDef, string[]>();

function neverReturned(schema: SchemaDef): string[] {
  let names = neverReturnedNames.get(schema);
  if (!names) {
    names = schema.attributes.filter((a) => a.returned === 'never').map((a) => a.name);
    neverReturnedNames.set(schema, names);
  }
  return names;
}

/** Removes `returned: never` attributes (password) wherever they are defined. */
function withoutNeverReturned(rt: ResourceTypeDef, resource: Json): Json {
  const out: Json = { ...resource };
  schemasFor(rt).forEach((schema, i) => {
    const never = neverReturned(schema);
    const container = out[schema.id];
    // deleting only what is there keeps the object's shape (and its serialisation) fast
    if (i === 0) never.forEach((name) => Object.hasOwn(out, name) && delete out[name]);
    else if (never.length > 0 && isRecord(container)) {
      out[schema.id] = Object.fromEntries(Object.entries(container).filter(([name]) => !never.includes(name)));
    }
  });
  return out;
}

/**
 * Applies the attributes / excludedAttributes query parameters to a full representation.
 * `schemas` and `id` are always returned; `password` never.
 */
export function projectResource(
  rt: ResourceTypeDef,
  resource: Record<string, unknown>,
  options: { attributes?: string[]; excludedAttributes?: string[] },
): Record<string, unknown> {
  let out = withoutNeverReturned(rt, resource);
  if (options.attributes && options.attributes.length > 0) out = include(out, buildSelection(rt, options.attributes));
  if (options.excludedAttributes && options.excludedAttributes.length > 0) {
    out = exclude(out, buildSelection(rt, options.excludedAttributes));
  }
  return out;
}

/**
 * Whether projectResource with these options can return the core attribute `name` (canonical
 * spelling), or some of its sub-attributes: lets a caller skip computing one it would drop
 * (a user's groups, a group's members). Names resolve as projectResource resolves them, so
 * `urn:ietf:params:scim:schemas:core:2.0:User:groups` is `groups` (RFC 7644 §3.10).
 */
export function projectionReturns(
  rt: ResourceTypeDef,
  options: { attributes?: string[]; excludedAttributes?: string[] },
  name: string,
): boolean {
  // core attributes are under '' (only an extension is ever selected whole)
  const core = (names: string[]) => {
    const attributes = buildSelection(rt, names).get('');
    return attributes instanceof Map ? attributes : undefined;
  };
  if (options.attributes && options.attributes.length > 0 && !core(options.attributes)?.has(name)) return false;
  if (options.excludedAttributes && options.excludedAttributes.length > 0 && core(options.excludedAttributes)?.get(name) === 'all') return false;
  return true;
}

/** `attributes=userName,name.givenName` (possibly repeated) as a list of names. */
export function parseAttributeList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = (Array.isArray(value) ? value : [value])
    .flatMap((part) => part.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return names.length > 0 ? names : undefined;
}
