// SCIM use cases for Users and Groups: read, apply, write. Every function is synchronous so that it
// can run inside a group-commit job together with its audit entry (see db/write-queue.ts).
import type { GroupRepository, GroupRow, UserRepository, UserRow } from '../db/scim-repository.js';
import { compileFilter, compileSort } from '../db/scim-query.js';
import { invalidValue, notFound, preconditionFailed, uniqueness } from '../scim/errors.js';
import { parseFilter } from '../scim/filter.js';
import { uuidv7 } from '../scim/ids.js';
import { applyPatch, deepEqual, projectionReturns, projectResource } from '../scim/resource.js';
import {
  ENTERPRISE_USER_SCHEMA,
  LIST_RESPONSE_SCHEMA,
  groupResourceType,
  userResourceType,
  type ResourceTypeDef,
} from '../scim/schemas.js';

export const MAX_RESULTS = 1000;

/** What the audit entry of a change needs from the use case. */
export interface ChangeSummary {
  event?: string;
  action: string;
  target: string;
  resourceId: string;
  /** the human first line of the log entry */
  summary: string;
}

export interface ResourceResult {
  resource: Record<string, unknown>;
  etag: string;
  location: string;
  change: ChangeSummary;
}

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

export interface ListParams extends Projection {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex?: number;
  count?: number;
}

export interface ListResult {
  body: Record<string, unknown>;
  summary: string;
}

export const etagOf = (version: number) => `W/"${version}"`;

/** A password set (already hashed) or removed by a PATCH. */
export type PasswordUpdate = { hash: string } | { remove: true };

/** RFC 7232 §3.2 If-None-Match: "*" or a list of entity tags, compared weakly. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const weak = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || weak(t) === weak(etag));
}

function checkIfMatch(ifMatch: string | undefined, version: number, what: string): void {
  if (ifMatch === undefined) return;
  const wanted = ifMatch.split(',').map((t) => t.trim());
  if (wanted.includes('*') || wanted.includes(etagOf(version)) || wanted.includes(`"${version}"`)) return;
  throw preconditionFailed(`${what} has version ${etagOf(version)}, not ${ifMatch}: it changed since it was read`);
}

const describeUser = (u: { userName: string; id: string; externalId: string | null }) =>
  `"${u.userName}" (id ${u.id}${u.externalId ? `, externalId ${u.externalId}` : ''})`;
const describeGroup = (g: { displayName: string; id: string; externalId: string | null }) =>
  `"${g.displayName}" (id ${g.id}${g.externalId ? `, externalId ${g.externalId}` : ''})`;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Stored documents keep neither `schemas` nor server-managed attributes. */
function toStored(resource: Record<string, unknown>): Record<string, unknown> {
  const { schemas: _s, id: _i, meta: _m, groups: _g, members: _mm, password: _p, ...rest } = resource;
  return rest;
}

export function pageParams(startIndex: number | undefined, count: number | undefined) {
  // RFC 7644 §3.4.2.4: startIndex < 1 is 1, a negative count is 0; count is capped at maxResults.
  // A startIndex past 2^53 (9223372036854775808, 1e300: JSON and query strings allow them) is the
  // largest exact one: past every resource, an empty page, as any index past the end. Unclamped, the
  // OFFSET bound to SQLite was not an integer and the list failed with a 500.
  const start = startIndex === undefined || !(startIndex >= 1) ? 1 : Math.min(Math.floor(startIndex), Number.MAX_SAFE_INTEGER);
  const requested = count === undefined ? MAX_RESULTS : Math.max(0, Math.floor(count));
  return { start, limit: Math.min(requested, MAX_RESULTS), capped: requested > MAX_RESULTS };
}

function describeList(kind: string, p: ListParams, total: number, returned: number, capped: boolean): string {
  const parts = [`${total} ${kind} matched`, `${returned} returned`];
  if (p.filter) parts.unshift(`filter ${p.filter}`);
  if (p.startIndex && p.startIndex > 1) parts.push(`from index ${p.startIndex}`);
  if (capped) parts.push(`count ${p.count} capped to ${MAX_RESULTS}`);
  return parts.join(', ');
}

export interface ProvisioningService {
  getUser(id: string, baseUrl: string, projection: Projection): ResourceResult;
  listUsers(params: ListParams, baseUrl: string): ListResult;
  createUser(input: Record<string, unknown>, passwordHash: string | null, baseUrl: string, projection: Projection): ResourceResult;
  replaceUser(id: string, input: Record<string, unknown>, passwordHash: string | null, ifMatch: string | undefined, baseUrl: string, projection: Projection): ResourceResult;
  patchUser(id: string, body: unknown, password: PasswordUpdate | null, ifMatch: string | undefined, baseUrl: string, projection: Projection): ResourceResult;
  deleteUser(id: string, ifMatch: string | undefined): ChangeSummary;
  getGroup(id: string, baseUrl: string, projection: Projection): ResourceResult;
  listGroups(params: ListParams, baseUrl: string): ListResult;
  createGroup(input: Record<string, unknown>, baseUrl: string, projection: Projection): ResourceResult;
  replaceGroup(id: string, input: Record<string, unknown>, ifMatch: string | undefined, baseUrl: string, projection: Projection): ResourceResult;
  patchGroup(id: string, body: unknown, ifMatch: string | undefined, baseUrl: string, projection: Projection): ResourceResult;
  deleteGroup(id: string, ifMatch: string | undefined): ChangeSummary;
}

export function createProvisioningService(deps: { users: UserRepository; groups: GroupRepository; now?: () => Date }): ProvisioningService {
  const { users, groups } = deps;
  const now = () => (deps.now ? deps.now() : new Date()).toISOString();

  // ---- representation -------------------------------------------------------------------------

  /** `groups`: the user's groups when known without a query (a user just created has none) */
  function userResource(u: UserRow, baseUrl: string, p: Projection, groups?: { value: string; display: string }[]): Record<string, unknown> {
    const schemas = [userResourceType.schema];
    if (u.data[ENTERPRISE_USER_SCHEMA]) schemas.push(ENTERPRISE_USER_SCHEMA);
    const full: Record<string, unknown> = { schemas, id: u.id, ...u.data };
    if (projectionReturns(userResourceType, p, 'groups')) {
      const gs = groups ?? users.groupsOf(u.id);
      if (gs.length > 0) full.groups = gs.map((g) => ({ value: g.value, display: g.display, type: 'direct', $ref: `${baseUrl}/Groups/${g.value}` }));
    }
    full.meta = meta('User', u, baseUrl);
    return projectResource(userResourceType, full, p);
  }

  function groupResource(g: GroupRow, baseUrl: string, p: Projection): Record<string, unknown> {
    const full: Record<string, unknown> = { schemas: [groupResourceType.schema], id: g.id, ...g.data };
    if (projectionReturns(groupResourceType, p, 'members')) {
      full.members = groups.members(g.id).map((m) => {
        const member: Record<string, unknown> = { value: m.value, type: m.type, $ref: `${baseUrl}/${m.type}s/${m.value}` };
        if (m.display) member.display = m.display;
        return member;
      });
    }
    full.meta = meta('Group', g, baseUrl);
    return projectResource(groupResourceType, full, p);
  }

  function meta(resourceType: string, row: { id: string; createdAt: string; lastModified: string; version: number }, baseUrl: string) {
    return {
      resourceType,
      created: row.createdAt,
      lastModified: row.lastModified,
      location: `${baseUrl}/${resourceType}s/${row.id}`,
      version: etagOf(row.version),
    };
  }

  function userResult(u: UserRow, baseUrl: string, p: Projection, change: ChangeSummary, groups?: { value: string; display: string }[]): ResourceResult {
    return { resource: userResource(u, baseUrl, p, groups), etag: etagOf(u.version), location: `${baseUrl}/Users/${u.id}`, change };
  }
  function groupResult(g: GroupRow, baseUrl: string, p: Projection, change: ChangeSummary): ResourceResult {
    return { resource: groupResource(g, baseUrl, p), etag: etagOf(g.version), location: `${baseUrl}/Groups/${g.id}`, change };
  }

  // ---- users ----------------------------------------------------------------------------------

  function loadUser(id: string): UserRow {
    const u = users.byId(id);
    if (!u) throw notFound(`User ${id} not found`);
    return u;
  }

  function userRow(data: Record<string, unknown>, base: Pick<UserRow, 'id' | 'createdAt' | 'version'>, passwordHash: string | null): Omit<UserRow, 'seq'> {
    const userName = str(data.userName);
    if (!userName) throw invalidValue('Attribute "userName" is required');
    return {
      id: base.id,
      userName,
      externalId: str(data.externalId),
      displayName: str(data.displayName),
      active: data.active !== false,
      data,
      passwordHash,
      version: base.version,
      createdAt: base.createdAt,
      lastModified: now(),
    };
  }

  /**
   * Writes a user row; the unique index on the folded userName (user_name_key) refuses a taken one, and only then
   * is the other user looked up, for the 409 that names it (no lookup before every write).
   */
  function writeUser<T>(userName: string, selfId: string, write: () => T): T {
    try {
      return write();
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        const other = users.byUserName(userName);
        if (other && other.id !== selfId) throw uniqueness(`userName "${userName}" is already taken by user ${other.id}`);
      }
      throw error;
    }
  }

  /**
   * PROVISIONING_DISABLE / ENABLE when `active` flips; else PROVISIONING_RESET_PASSWORD when the
   * request set a password (Okta's password sync: seed 004's "password reset on a connected system
   * as part of provisioning", and iamtrail is that system); else MODIFY. The entry's log line lists
   * every attribute that changed, the password among them.
   */
  function userChangeAction(before: UserRow, after: { active: boolean }, passwordSet: boolean): { action: string; verb: string } {
    if (before.active && !after.active) return { action: 'PROVISIONING_DISABLE', verb: 'Deactivated' };
    if (!before.active && after.active) return { action: 'PROVISIONING_ENABLE', verb: 'Reactivated' };
    if (passwordSet) return { action: 'PROVISIONING_RESET_PASSWORD', verb: 'Updated' };
    return { action: 'PROVISIONING_MODIFY', verb: 'Updated' };
  }

  /**
   * The top-level attributes that differ, for the audit entry; an extension (a URN key) is not
   * named "User" but by its attributes that differ (department, manager), as core ones are.
   */
  function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
    const differ = (a: Record<string, unknown>, b: Record<string, unknown>) => {
      const names = Object.keys(a).filter((k) => !deepEqual(a[k], b[k]));
      for (const k of Object.keys(b)) if (!Object.hasOwn(a, k) && b[k] !== undefined) names.push(k);
      return names;
    };
    return differ(before, after).flatMap((k) => {
      const [was, is] = [before[k], after[k]];
      if (!k.startsWith('urn:') || !(isObject(was) || isObject(is))) return [k];
      return differ(isObject(was) ? was : {}, isObject(is) ? is : {});
    });
  }

  function list<Row>(
    rt: ResourceTypeDef,
    params: ListParams,
    repo: { list: UserRepository['list'] | GroupRepository['list']; count: UserRepository['count'] },
    render: (row: Row) => Record<string, unknown>,
    kind: string,
  ): ListResult {
    const where = params.filter !== undefined ? compileFilter(rt, parseFilter(params.filter)) : undefined;
    const orderBy = compileSort(rt, params.sortBy, params.sortOrder);
    const { start, limit, capped } = pageParams(params.startIndex, params.count);
    const rows = limit === 0 ? [] : (repo.list({ where, orderBy, offset: start - 1, limit }) as Row[]);
    // a first page that is not full already tells the total (Entra's userName-eq lookups)
    const total = start === 1 && rows.length < limit ? rows.length : repo.count(where);
    const body = {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: total,
      itemsPerPage: rows.length,
      startIndex: start,
      Resources: rows.map(render),
    };
    return { body, summary: describeList(kind, params, total, rows.length, capped) };
  }

  // ---- groups ---------------------------------------------------------------------------------

  function loadGroup(id: string): GroupRow {
    const g = groups.byId(id);
    if (!g) throw notFound(`Group ${id} not found`);
    return g;
  }

  function assertDisplayNameFree(displayName: string, selfId?: string): void {
    const other = groups.byDisplayName(displayName);
    if (other && other.id !== selfId) throw uniqueness(`A group named "${displayName}" already exists (id ${other.id})`);
  }

  /** Members as requested, checked to exist; the member type is the server's knowledge, not the client's. */
  function resolveMembers(groupId: string, requested: unknown): { value: string; type: 'User' | 'Group' }[] {
    const list = Array.isArray(requested) ? (requested as { value: string }[]) : [];
    const ids = [...new Set(list.map((m) => m.value))];
    const types = groups.memberTypes(ids);
    const missing = ids.filter((id) => !types.has(id));
    if (missing.length > 0) {
      throw invalidValue(`Unknown member${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}: no User or Group has that id`);
    }
    if (ids.includes(groupId)) throw invalidValue('A group cannot be a member of itself');
    return ids.map((value) => ({ value, type: types.get(value)! }));
  }

  function groupRow(data: Record<string, unknown>, base: Pick<GroupRow, 'id' | 'createdAt' | 'version'>): Omit<GroupRow, 'seq'> {
    const displayName = str(data.displayName);
    if (!displayName) throw invalidValue('Attribute "displayName" is required');
    return { id: base.id, displayName, externalId: str(data.externalId), data, version: base.version, createdAt: base.createdAt, lastModified: now() };
  }

  function syncMembers(groupId: string, wanted: { value: string; type: 'User' | 'Group' }[]): { added: number; removed: number } {
    const current = new Set(groups.members(groupId).map((m) => m.value));
    const next = new Set(wanted.map((m) => m.value));
    const toAdd = wanted.filter((m) => !current.has(m.value));
    const toRemove = [...current].filter((id) => !next.has(id));
    groups.addMembers(groupId, toAdd);
    groups.removeMembers(groupId, toRemove);
    // a user's representation lists its groups: its version (ETag) changes with them
    users.touch([...toAdd.map((m) => m.value), ...toRemove], now());
    return { added: toAdd.length, removed: toRemove.length };
  }

  function touchGroups(ids: string[]): void {
    for (const id of ids) {
      const g = groups.byId(id);
      if (g) groups.update({ ...g, version: g.version + 1, lastModified: now() }, g);
    }
  }

  function groupEvent(added: number, removed: number, otherChanges: boolean): { event: string; detail: string } {
    const parts: string[] = [];
    if (added) parts.push(`${added} member${added > 1 ? 's' : ''} added`);
    if (removed) parts.push(`${removed} member${removed > 1 ? 's' : ''} removed`);
    if (!otherChanges && added && !removed) return { event: 'Add Group Members', detail: parts.join(', ') };
    if (!otherChanges && removed && !added) return { event: 'Remove Group Members', detail: parts.join(', ') };
    return { event: 'Update Group', detail: parts.join(', ') };
  }

  return {
    getUser(id, baseUrl, p) {
      const u = loadUser(id);
      return userResult(u, baseUrl, p, { action: 'SCIM_READ', target: u.userName, resourceId: u.id, summary: `Returned user ${describeUser(u)}` });
    },

    listUsers(params, baseUrl) {
      return list<UserRow>(userResourceType, params, users, (u) => userResource(u, baseUrl, params), 'users');
    },

    createUser(input, passwordHash, baseUrl, p) {
      const data = toStored(input);
      const row = userRow(data, { id: uuidv7(), createdAt: now(), version: 1 }, passwordHash);
      row.lastModified = row.createdAt;
      // the row as stored (its document is canonical JSON: reading it back would give the same)
      const u: UserRow = { ...row, seq: writeUser(row.userName, row.id, () => users.insert(row)) };
      return userResult(
        u,
        baseUrl,
        p,
        {
          action: 'PROVISIONING_ADD',
          target: u.userName,
          resourceId: u.id,
          summary: `Created ${u.active ? '' : 'inactive '}user ${describeUser(u)}`,
        },
        [], // a new id: no group lists it yet
      );
    },

    replaceUser(id, input, passwordHash, ifMatch, baseUrl, p) {
      const before = loadUser(id);
      checkIfMatch(ifMatch, before.version, `User ${id}`);
      const data = toStored(input);
      // PUT replaces every attribute; a password not sent is kept (it is write-only and never read back)
      const row = userRow(data, { id, createdAt: before.createdAt, version: before.version + 1 }, passwordHash ?? before.passwordHash);
      writeUser(row.userName, id, () => users.update(row, before));
      const after: UserRow = { ...row, seq: before.seq };
      const { action, verb } = userChangeAction(before, after, passwordHash !== null);
      const changed = changedAttributes(before.data, after.data);
      if (passwordHash) changed.push('password');
      return userResult(after, baseUrl, p, {
        action,
        target: after.userName,
        resourceId: id,
        summary: `${verb} user ${describeUser(after)} (full replace${changed.length ? `; changed: ${changed.join(', ')}` : '; no attribute changed'})`,
      });
    },

    patchUser(id, body, password, ifMatch, baseUrl, p) {
      const before = loadUser(id);
      checkIfMatch(ifMatch, before.version, `User ${id}`);
      const current = { schemas: [userResourceType.schema], ...before.data };
      const { resource, changed } = applyPatch(userResourceType, current, body);
      const newHash = password === null ? before.passwordHash : 'hash' in password ? password.hash : null;
      const passwordChanged = newHash !== before.passwordHash;
      if (!changed && !passwordChanged) {
        return userResult(before, baseUrl, p, { action: 'PROVISIONING_MODIFY', target: before.userName, resourceId: id, summary: `User ${describeUser(before)} unchanged: the patch changed nothing` });
      }
      const data = toStored(resource);
      const row = userRow(data, { id, createdAt: before.createdAt, version: before.version + 1 }, newHash);
      writeUser(row.userName, id, () => users.update(row, before));
      const after: UserRow = { ...row, seq: before.seq };
      // a password removed is a change of the account, not a new password
      const { action, verb } = userChangeAction(before, after, passwordChanged && newHash !== null);
      const names = changedAttributes(before.data, after.data);
      if (passwordChanged) names.push(newHash === null ? 'password (removed)' : 'password');
      return userResult(after, baseUrl, p, { action, target: after.userName, resourceId: id, summary: `${verb} user ${describeUser(after)}; changed: ${names.join(', ')}` });
    },

    deleteUser(id, ifMatch) {
      const u = loadUser(id);
      checkIfMatch(ifMatch, u.version, `User ${id}`);
      const affected = groups.groupsContaining(id);
      groups.removeMemberEverywhere(id);
      touchGroups(affected);
      users.delete(id);
      const also = affected.length ? `; removed from ${affected.length} group${affected.length > 1 ? 's' : ''}` : '';
      return { action: 'PROVISIONING_DELETE', target: u.userName, resourceId: id, summary: `Deleted user ${describeUser(u)}${also}` };
    },

    getGroup(id, baseUrl, p) {
      const g = loadGroup(id);
      return groupResult(g, baseUrl, p, { action: 'SCIM_READ', target: g.displayName, resourceId: g.id, summary: `Returned group ${describeGroup(g)}` });
    },

    listGroups(params, baseUrl) {
      return list<GroupRow>(groupResourceType, params, groups, (g) => groupResource(g, baseUrl, params), 'groups');
    },

    createGroup(input, baseUrl, p) {
      const data = toStored(input);
      const id = uuidv7();
      const row = groupRow(data, { id, createdAt: now(), version: 1 });
      row.lastModified = row.createdAt;
      assertDisplayNameFree(row.displayName);
      const members = resolveMembers(id, input.members);
      const g: GroupRow = { ...row, seq: groups.insert(row) };
      groups.addMembers(id, members);
      users.touch(members.map((m) => m.value), row.createdAt);
      const withMembers = members.length ? ` with ${members.length} member${members.length > 1 ? 's' : ''}` : '';
      return groupResult(g, baseUrl, p, { action: 'PROVISIONING_ADD', target: g.displayName, resourceId: id, summary: `Created group ${describeGroup(g)}${withMembers}` });
    },

    replaceGroup(id, input, ifMatch, baseUrl, p) {
      const before = loadGroup(id);
      checkIfMatch(ifMatch, before.version, `Group ${id}`);
      const data = toStored(input);
      const row = groupRow(data, { id, createdAt: before.createdAt, version: before.version + 1 });
      assertDisplayNameFree(row.displayName, id);
      const { added, removed } = syncMembers(id, resolveMembers(id, input.members));
      groups.update(row, before);
      const g: GroupRow = { ...row, seq: before.seq };
      const changed = changedAttributes(before.data, g.data);
      const { detail } = groupEvent(added, removed, true);
      const what = [changed.length ? `changed: ${changed.join(', ')}` : '', detail].filter(Boolean).join('; ');
      return groupResult(g, baseUrl, p, { action: 'PROVISIONING_MODIFY', target: g.displayName, resourceId: id, summary: `Replaced group ${describeGroup(g)}${what ? ` (${what})` : ''}` });
    },

    patchGroup(id, body, ifMatch, baseUrl, p) {
      const before = loadGroup(id);
      checkIfMatch(ifMatch, before.version, `Group ${id}`);
      const currentMembers = groups.members(id).map((m) => ({ value: m.value, type: m.type }));
      const current: Record<string, unknown> = { schemas: [groupResourceType.schema], ...before.data };
      if (currentMembers.length) current.members = currentMembers;
      const { resource } = applyPatch(groupResourceType, current, body);
      const data = toStored(resource);
      const otherChanges = changedAttributes(before.data, data).length > 0;
      const { added, removed } = syncMembers(id, resolveMembers(id, resource.members));
      if (!otherChanges && !added && !removed) {
        return groupResult(before, baseUrl, p, { action: 'PROVISIONING_MODIFY', target: before.displayName, resourceId: id, summary: `Group ${describeGroup(before)} unchanged: the patch changed nothing` });
      }
      const row = groupRow(data, { id, createdAt: before.createdAt, version: before.version + 1 });
      assertDisplayNameFree(row.displayName, id);
      groups.update(row, before);
      const g: GroupRow = { ...row, seq: before.seq };
      const { event, detail } = groupEvent(added, removed, otherChanges);
      const changed = changedAttributes(before.data, g.data);
      const what = [changed.length ? `changed: ${changed.join(', ')}` : '', detail].filter(Boolean).join('; ');
      return groupResult(g, baseUrl, p, { event, action: 'PROVISIONING_MODIFY', target: g.displayName, resourceId: id, summary: `Updated group ${describeGroup(g)} (${what})` });
    },

    deleteGroup(id, ifMatch) {
      const g = loadGroup(id);
      checkIfMatch(ifMatch, g.version, `Group ${id}`);
      const count = groups.memberCount(id);
      users.touch(groups.members(id).map((m) => m.value), now());
      const parents = groups.groupsContaining(id);
      groups.removeMemberEverywhere(id);
      touchGroups(parents);
      groups.delete(id);
      return { action: 'PROVISIONING_DELETE', target: g.displayName, resourceId: id, summary: `Deleted group ${describeGroup(g)} with ${count} member${count === 1 ? '' : 's'}` };
    },
  };
}
