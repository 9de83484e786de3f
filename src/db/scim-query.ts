// Compiles a SCIM filter AST (RFC 7644 §3.4.2.2) and sortBy into SQLite SQL with bound parameters,
// so filtering, sorting and paging run in the database. userName, externalId and displayName map to
// indexed columns; other attributes are read from the JSON document with json_extract / json_each.
// Case-insensitive comparisons use one fold (src/scim/fold.ts), never SQLite's ASCII-only lower():
// userName and displayName compare their stored, indexed fold keys; other strings compare
// scim_fold(…) (the same fold as an SQL function, registered by openDatabase); the literal is folded here.
import { fold } from '../scim/fold.js';
import type { AttrPath, CompareOp, Filter, FilterValue } from '../scim/filter-ast.js';
import { invalidFilter, invalidValue } from '../scim/errors.js';
import { resolveAttribute, type AttributeDef, type ResolvedAttribute, type ResourceTypeDef } from '../scim/schemas.js';

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/**
 * Where an attribute lives in a row: a column, or a JSON path in the `data` column. A
 * case-insensitive column may have a `key`: a column holding its fold, indexed, which comparisons
 * and sorting use (presence and null tests stay on the column itself).
 */
type Location =
  | { kind: 'column'; sql: string; key?: string; caseExact: boolean; type: AttributeDef['type'] }
  | { kind: 'json'; base: string; path: string; attribute: AttributeDef }
  | { kind: 'members' }
  | { kind: 'userGroups' };

const LIKE_ESCAPE = `ESCAPE '\\'`;
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function jsonKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : `"${name.replace(/"/g, '\\"')}"`;
}

function pathText(p: AttrPath): string {
  return `${p.uri ? `${p.uri}:` : ''}${p.attr}${p.sub ? `.${p.sub}` : ''}`;
}

/** Column-backed attributes, per resource type: indexed lookups and meta. */
function columnFor(rt: ResourceTypeDef, r: ResolvedAttribute): Location | undefined {
  const top = r.attribute.name;
  const sub = r.sub?.name;
  if (!r.core) return undefined;
  if (top === 'id' && !sub) return { kind: 'column', sql: 'id', caseExact: true, type: 'string' };
  if (top === 'externalId' && !sub) return { kind: 'column', sql: 'external_id', caseExact: true, type: 'string' };
  if (top === 'displayName' && !sub) return { kind: 'column', sql: 'display_name', key: 'display_name_key', caseExact: false, type: 'string' };
  if (rt.id === 'User' && top === 'userName' && !sub) return { kind: 'column', sql: 'user_name', key: 'user_name_key', caseExact: false, type: 'string' };
  if (rt.id === 'User' && top === 'active' && !sub) return { kind: 'column', sql: 'active', caseExact: true, type: 'boolean' };
  if (top === 'meta') {
    switch (sub) {
      case 'created':
        return { kind: 'column', sql: 'created_at', caseExact: true, type: 'dateTime' };
      case 'lastModified':
        return { kind: 'column', sql: 'last_modified', caseExact: true, type: 'dateTime' };
      case 'resourceType':
        return { kind: 'column', sql: `'${rt.id}'`, caseExact: true, type: 'string' };
      case 'version':
        return { kind: 'column', sql: `('W/"' || version || '"')`, caseExact: true, type: 'string' };
      default:
        return undefined;
    }
  }
  if (rt.id === 'Group' && top === 'members') return { kind: 'members' };
  if (rt.id === 'User' && top === 'groups') return { kind: 'userGroups' };
  return undefined;
}

function resolve(rt: ResourceTypeDef, path: AttrPath): ResolvedAttribute {
  const r = resolveAttribute(rt, path);
  if (!r) throw invalidFilter(`Unknown attribute "${pathText(path)}" for ${rt.name}`);
  if (r.attribute.returned === 'never' || r.sub?.returned === 'never') {
    throw invalidFilter(`Attribute "${pathText(path)}" cannot be used in a filter`);
  }
  return r;
}

function locate(rt: ResourceTypeDef, r: ResolvedAttribute): Location {
  const col = columnFor(rt, r);
  if (col) return col;
  if (r.attribute.name === 'meta') throw invalidFilter(`meta.${r.sub?.name ?? ''} cannot be used in a filter`);
  const prefix = r.core ? '$' : `$.${jsonKey(r.schema.id)}`;
  return { kind: 'json', base: 'data', path: `${prefix}.${jsonKey(r.attribute.name)}`, attribute: r.attribute };
}

function checkValue(op: CompareOp, type: AttributeDef['type'], value: FilterValue, where: string): void {
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`"${op}" cannot compare ${where} with null`);
    return;
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') throw invalidFilter(`${where} is a boolean: compare it with true or false`);
    if (op !== 'eq' && op !== 'ne') throw invalidFilter(`"${op}" is not defined for the boolean ${where}`);
    return;
  }
  if (type === 'integer' || type === 'decimal') {
    if (typeof value !== 'number') throw invalidFilter(`${where} is a number: compare it with a number`);
    if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`"${op}" is not defined for the number ${where}`);
    return;
  }
  if (typeof value !== 'string') throw invalidFilter(`${where} is a ${type}: compare it with a quoted string`);
  if (type === 'dateTime') {
    if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`"${op}" is not defined for the dateTime ${where}`);
    if (Number.isNaN(Date.parse(value))) throw invalidFilter(`"${value}" is not a valid dateTime for ${where}`);
  }
}

/**
 * The comparison of one SQL expression with a literal. `key`: an expression already holding the
 * fold of `expr` (an indexed key column), compared instead of scim_fold(expr).
 */
function compare(expr: string, op: CompareOp, value: FilterValue, type: AttributeDef['type'], caseExact: boolean, key?: string): SqlFragment {
  if (value === null) return { sql: op === 'eq' ? `${expr} IS NULL` : `${expr} IS NOT NULL`, params: [] };
  let param: unknown = value;
  if (typeof value === 'boolean') param = value ? 1 : 0;
  if (type === 'dateTime' && typeof value === 'string') param = new Date(value).toISOString();
  const folds = typeof param === 'string' && !caseExact;
  const lhs = folds ? (key ?? `scim_fold(${expr})`) : expr;
  const p = folds ? fold(param as string) : param;
  switch (op) {
    case 'eq':
      return { sql: `${lhs} = ?`, params: [p] };
    case 'ne':
      return { sql: `${lhs} IS NOT ?`, params: [p] };
    case 'gt':
      return { sql: `${lhs} > ?`, params: [p] };
    case 'ge':
      return { sql: `${lhs} >= ?`, params: [p] };
    case 'lt':
      return { sql: `${lhs} < ?`, params: [p] };
    case 'le':
      return { sql: `${lhs} <= ?`, params: [p] };
    case 'sw':
      // a range keeps the key column's index usable
      return { sql: `(${lhs} >= ? AND ${lhs} < ?)`, params: [p, `${p as string}\u{10FFFF}`] };
    case 'ew':
      // every string ends with "" (substr(x, -0) would be the whole of x)
      if (p === '') return { sql: `${lhs} IS NOT NULL`, params: [] };
      // the suffix's length as SQLite counts it (characters), not as JS does (UTF-16 units: an emoji
      // is two), else the suffix taken was one too long for every character beyond the BMP
      return caseExact
        ? { sql: `substr(${lhs}, -length(?)) = ?`, params: [p, p] }
        : { sql: `${lhs} LIKE ? ${LIKE_ESCAPE}`, params: [`%${likeEscape(p as string)}`] };
    case 'co':
      return { sql: `instr(${lhs}, ?) > 0`, params: [p] };
  }
}

/** RFC 7644 "pr": present and neither null, an empty string, an empty array nor an empty object */
function present(data: string, path: string): string {
  const p = `${data}, '${path}'`;
  return `(CASE coalesce(json_type(${p}), 'null') WHEN 'null' THEN 0 WHEN 'text' THEN json_extract(${p}) <> ''
    WHEN 'array' THEN json_array_length(${p}) > 0 WHEN 'object' THEN json_extract(${p}) <> '{}' ELSE 1 END)`;
}

interface Ctx {
  rt: ResourceTypeDef;
  /** table alias of the resource row */
  row: string;
  /** sub-query aliases numbered per compilation, so one filter always compiles to one SQL text */
  alias: () => string;
}

/** Compiles a filter inside a valuePath, whose names are sub-attributes of `parent`. */
function compileElement(ctx: Ctx, parent: ResolvedAttribute, loc: Location, element: string, f: Filter): SqlFragment {
  switch (f.op) {
    case 'and':
    case 'or': {
      const l = compileElement(ctx, parent, loc, element, f.left);
      const r = compileElement(ctx, parent, loc, element, f.right);
      return { sql: `(${l.sql} ${f.op.toUpperCase()} ${r.sql})`, params: [...l.params, ...r.params] };
    }
    case 'not': {
      const inner = compileElement(ctx, parent, loc, element, f.filter);
      return { sql: `NOT coalesce((${inner.sql}), 0)`, params: inner.params };
    }
    case 'valuePath':
      throw invalidFilter('A complex attribute filter cannot be nested inside another');
    default: {
      if (f.path.sub !== undefined || f.path.uri !== undefined) {
        throw invalidFilter(`Inside [ ] name a sub-attribute of ${parent.attribute.name}, not "${pathText(f.path)}"`);
      }
      const sub = parent.attribute.subAttributes?.find((s) => s.name.toLowerCase() === f.path.attr.toLowerCase());
      if (!sub) throw invalidFilter(`Unknown sub-attribute "${f.path.attr}" of ${parent.attribute.name}`);
      const expr = elementExpr(loc, element, sub.name);
      if (f.op === 'pr') return { sql: `${expr} IS NOT NULL`, params: [] };
      const where = `${parent.attribute.name}.${sub.name}`;
      checkValue(f.op, sub.type, f.value, where);
      return compare(expr, f.op, f.value, sub.type, sub.caseExact);
    }
  }
}

function elementExpr(loc: Location, element: string, sub: string): string {
  if (loc.kind === 'members') {
    if (sub === 'value') return `${element}.member_id`;
    if (sub === 'type') return `${element}.member_type`;
    throw invalidFilter(`members.${sub} cannot be used in a filter; use members.value or members.type`);
  }
  if (loc.kind === 'userGroups') {
    if (sub === 'value') return `${element}.group_id`;
    if (sub === 'display') return `(SELECT display_name FROM scim_groups WHERE id = ${element}.group_id)`;
    if (sub === 'type') return `'direct'`;
    throw invalidFilter(`groups.${sub} cannot be used in a filter`);
  }
  return `json_extract(${element}.value, '$.${jsonKey(sub)}')`;
}

/** EXISTS over the elements of a multi-valued (or single complex) attribute. */
function exists(ctx: Ctx, loc: Location, element: string, where: string): string {
  if (loc.kind === 'members') return `EXISTS (SELECT 1 FROM group_members ${element} WHERE ${element}.group_id = ${ctx.row}.id AND ${where})`;
  if (loc.kind === 'userGroups') return `EXISTS (SELECT 1 FROM group_members ${element} WHERE ${element}.member_id = ${ctx.row}.id AND ${where})`;
  if (loc.kind !== 'json') throw new Error('unreachable');
  return `EXISTS (SELECT 1 FROM json_each(${ctx.row}.${loc.base}, '${loc.path}') ${element} WHERE ${where})`;
}


function compileNode(ctx: Ctx, f: Filter): SqlFragment {
  switch (f.op) {
    case 'and':
    case 'or': {
      const l = compileNode(ctx, f.left);
      const r = compileNode(ctx, f.right);
      return { sql: `(${l.sql} ${f.op.toUpperCase()} ${r.sql})`, params: [...l.params, ...r.params] };
    }
    case 'not': {
      const inner = compileNode(ctx, f.filter);
      return { sql: `NOT coalesce((${inner.sql}), 0)`, params: inner.params };
    }
    case 'valuePath': {
      const r = resolve(ctx.rt, f.path);
      if (r.sub || r.attribute.type !== 'complex') throw invalidFilter(`"${pathText(f.path)}" is not a complex attribute and cannot take a [filter]`);
      const loc = locate(ctx.rt, r);
      const alias = ctx.alias();
      if (loc.kind === 'json' && !r.attribute.multiValued) {
        // a single complex attribute (name, manager): the filter applies to the object itself
        const inner = compileElement(ctx, r, loc, alias, f.filter);
        return { sql: `EXISTS (SELECT 1 FROM (SELECT json_extract(${ctx.row}.data, '${loc.path}') AS value) ${alias} WHERE ${alias}.value IS NOT NULL AND ${inner.sql})`, params: inner.params };
      }
      const inner = compileElement(ctx, r, loc, alias, f.filter);
      return { sql: exists(ctx, loc, alias, inner.sql), params: inner.params };
    }
    default:
      return compileLeaf(ctx, f);
  }
}

function compileLeaf(ctx: Ctx, f: Extract<Filter, { path: AttrPath; op: CompareOp | 'pr' }>): SqlFragment {
  const r = resolve(ctx.rt, f.path);
  const loc = locate(ctx.rt, r);
  const where = pathText(f.path);
  if (loc.kind === 'column') {
    const column = /^[a-z_]+$/.test(loc.sql) ? `${ctx.row}.${loc.sql}` : loc.sql;
    if (f.op === 'pr') return { sql: `(${column} IS NOT NULL AND ${column} <> '')`, params: [] };
    checkValue(f.op, loc.type, f.value, where);
    return compare(column, f.op, f.value, loc.type, loc.caseExact, loc.key && `${ctx.row}.${loc.key}`);
  }
  const multi = loc.kind !== 'json' || r.attribute.multiValued;
  if (multi) {
    // emails.value eq x, and emails eq x (which compares the value sub-attribute)
    const alias = ctx.alias();
    if (f.op === 'pr' && !r.sub) {
      if (loc.kind === 'json') return { sql: `coalesce(json_array_length(${ctx.row}.data, '${loc.path}'), 0) > 0`, params: [] };
      return { sql: exists(ctx, loc, alias, '1'), params: [] };
    }
    const subName = r.sub?.name ?? 'value';
    const sub = r.attribute.subAttributes?.find((s) => s.name === subName);
    if (!sub) throw invalidFilter(`"${where}" has no value to compare; name a sub-attribute`);
    const expr = elementExpr(loc, alias, sub.name);
    if (f.op === 'pr') return { sql: exists(ctx, loc, alias, `${expr} IS NOT NULL`), params: [] };
    checkValue(f.op, sub.type, f.value, where);
    const cmp = compare(expr, f.op, f.value, sub.type, sub.caseExact);
    if (loc.kind === 'json' && r.attribute.type !== 'complex') {
      // multi-valued simple attribute: the element itself is the value
      const simple = compare(`${alias}.value`, f.op, f.value, r.attribute.type, r.attribute.caseExact);
      return { sql: exists(ctx, loc, alias, simple.sql), params: simple.params };
    }
    return { sql: exists(ctx, loc, alias, cmp.sql), params: cmp.params };
  }
  const target = r.sub ?? r.attribute;
  const path = r.sub ? `${loc.path}.${jsonKey(r.sub.name)}` : loc.path;
  const expr = `json_extract(${ctx.row}.data, '${path}')`;
  if (f.op === 'pr') return { sql: present(`${ctx.row}.data`, path), params: [] };
  if (target.type === 'complex') throw invalidFilter(`"${where}" is complex: compare one of its sub-attributes, e.g. ${where}.value`);
  checkValue(f.op, target.type, f.value, where);
  return compare(expr, f.op, f.value, target.type, target.caseExact);
}

export function compileFilter(rt: ResourceTypeDef, filter: Filter, row = 'r'): SqlFragment {
  let n = 0;
  return compileNode({ rt, row, alias: () => `e${++n}` }, filter);
}

/**
 * ORDER BY for sortBy (RFC 7644 §3.4.2.3); ties and unsorted lists fall back to creation order.
 * meta.created has millisecond resolution, so resources created in the same millisecond tie: their
 * creation order (seq) then follows the requested direction, or "newest first" would not be.
 */
export function compileSort(rt: ResourceTypeDef, sortBy: string | undefined, sortOrder: string | undefined, row = 'r'): string {
  const order = (sortOrder ?? 'ascending').toLowerCase();
  if (order !== 'ascending' && order !== 'descending') throw invalidValue(`sortOrder must be "ascending" or "descending", not "${sortOrder}"`);
  if (!sortBy) return `${row}.seq ASC`;
  const path = parseSortPath(sortBy);
  const r = resolveAttribute(rt, path);
  if (!r) throw invalidValue(`Unknown sortBy attribute "${sortBy}" for ${rt.name}`);
  const loc = locate(rt, r);
  const dir = order === 'descending' ? 'DESC' : 'ASC';
  let expr: string;
  if (loc.kind === 'column') {
    const column = /^[a-z_]+$/.test(loc.sql) ? `${row}.${loc.sql}` : loc.sql;
    expr = loc.caseExact ? column : loc.key ? `${row}.${loc.key}` : `scim_fold(${column})`;
  }
  else if (loc.kind === 'json' && r.attribute.multiValued) {
    // a multi-valued attribute sorts by its primary (else first) value
    const sub = jsonKey(r.sub?.name ?? 'value');
    expr = `(SELECT scim_fold(json_extract(e.value, '$.${sub}')) FROM json_each(${row}.data, '${loc.path}') e ORDER BY coalesce(json_extract(e.value, '$.primary'), 0) DESC, e.key LIMIT 1)`;
  } else if (loc.kind === 'json') {
    const p = r.sub ? `${loc.path}.${jsonKey(r.sub.name)}` : loc.path;
    expr = `scim_fold(json_extract(${row}.data, '${p}'))`;
  } else throw invalidValue(`Cannot sort by "${sortBy}"`);
  const tieBreak = loc.kind === 'column' && loc.sql === 'created_at' ? dir : 'ASC';
  return `${expr} IS NULL, ${expr} ${dir}, ${row}.seq ${tieBreak}`;
}

function parseSortPath(text: string): AttrPath {
  const m = /^(?:(urn:[^\s]+):)?([A-Za-z$][\w$-]*)(?:\.([A-Za-z$][\w$-]*))?$/i.exec(text.trim());
  if (!m) throw invalidValue(`sortBy "${text}" is not an attribute name`);
  const path: AttrPath = { attr: m[2]! };
  if (m[1]) path.uri = m[1];
  if (m[3]) path.sub = m[3];
  return path;
}
