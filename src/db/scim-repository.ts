// SCIM Users and Groups storage: rows with indexed lookup columns plus the JSON document, and group
// membership as rows (so large groups change by row, not by rewriting a document). userName and
// displayName are also stored folded (src/scim/fold.ts) in key columns, which the lookups search.
import { fold } from '../scim/fold.js';
import type { Sqlite } from './connection.js';
import type { SqlFragment } from './scim-query.js';

export interface UserRow {
  seq: number;
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  active: boolean;
  data: Record<string, unknown>;
  passwordHash: string | null;
  version: number;
  createdAt: string;
  lastModified: string;
}

export interface GroupRow {
  seq: number;
  id: string;
  displayName: string;
  externalId: string | null;
  data: Record<string, unknown>;
  version: number;
  createdAt: string;
  lastModified: string;
}

export type MemberType = 'User' | 'Group';

export interface Member {
  value: string;
  type: MemberType;
  display: string | null;
}

export interface ListQuery {
  where?: SqlFragment;
  orderBy: string;
  offset: number;
  limit: number;
}

export interface UserRepository {
  byId(id: string): UserRow | undefined;
  byUserName(userName: string): UserRow | undefined;
  /** returns the new row's seq */
  insert(row: Omit<UserRow, 'seq'>): number;
  /** `previous`: the row as it was, so that indexed columns whose value did not change are not rewritten */
  update(row: Omit<UserRow, 'seq'>, previous?: Pick<UserRow, 'userName' | 'externalId' | 'displayName'>): void;
  delete(id: string): void;
  list(q: ListQuery): UserRow[];
  count(where?: SqlFragment): number;
  groupsOf(id: string): { value: string; display: string }[];
  /** a new version for users whose representation changed indirectly (their groups) */
  touch(ids: string[], lastModified: string): void;
  /** for active-state checks at sign-in (console) */
  total(): number;
}

export interface GroupRepository {
  byId(id: string): GroupRow | undefined;
  byDisplayName(displayName: string): GroupRow | undefined;
  /** returns the new row's seq */
  insert(row: Omit<GroupRow, 'seq'>): number;
  /** `previous`: the row as it was, so that indexed columns whose value did not change are not rewritten */
  update(row: Omit<GroupRow, 'seq'>, previous?: Pick<GroupRow, 'displayName' | 'externalId'>): void;
  delete(id: string): void;
  list(q: ListQuery): GroupRow[];
  count(where?: SqlFragment): number;
  members(groupId: string): Member[];
  memberCount(groupId: string): number;
  addMembers(groupId: string, members: { value: string; type: MemberType }[]): void;
  removeMembers(groupId: string, ids: string[]): void;
  /** groups that list this id as a member; used when a user or group is deleted */
  groupsContaining(memberId: string): string[];
  removeMemberEverywhere(memberId: string): void;
  /** the type of each id that names an existing User or Group */
  memberTypes(ids: string[]): Map<string, MemberType>;
  total(): number;
}

interface RawUser extends Omit<UserRow, 'data' | 'active'> {
  data: string;
  active: number;
}
interface RawGroup extends Omit<GroupRow, 'data'> {
  data: string;
}

const USER_COLUMNS = `r.seq, r.id, r.user_name AS userName, r.external_id AS externalId, r.display_name AS displayName,
  r.active, r.data, r.password_hash AS passwordHash, r.version, r.created_at AS createdAt, r.last_modified AS lastModified`;
const GROUP_COLUMNS = `r.seq, r.id, r.display_name AS displayName, r.external_id AS externalId, r.data, r.version,
  r.created_at AS createdAt, r.last_modified AS lastModified`;

const toUser = (raw: RawUser | undefined): UserRow | undefined =>
  raw && { ...raw, active: raw.active === 1, data: JSON.parse(raw.data) as Record<string, unknown> };
const toGroup = (raw: RawGroup | undefined): GroupRow | undefined => raw && { ...raw, data: JSON.parse(raw.data) as Record<string, unknown> };

/**
 * `LIMIT n OFFSET ?`: the page size is written into the SQL, not bound. SQLite re-prepares a
 * statement whose LIMIT is a bound parameter each time it is bound (the value may change the
 * plan), which cost ~10 µs per list, as much as the indexed userName lookup itself. Page sizes
 * are few (at most MAX_RESULTS + 1 values), so the statement cache still holds them.
 */
function limitClause(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`invalid LIMIT ${limit}`);
  return `LIMIT ${limit} OFFSET ?`;
}

/**
 * UPDATE … WHERE id = @id setting the indexed columns only when their value changed: SQLite
 * rewrites the index entries of every indexed column in the SET list, changed or not, and a PATCH
 * of displayName would also rewrite the userName and externalId entries (~10 µs of a ~20 µs
 * UPDATE). One statement per set of changed columns, prepared on first use. A name's fold key
 * (`folded`: the column and its parameter) goes with its name.
 */
function updateByChangedColumns<Row>(
  sqlite: Sqlite,
  table: string,
  indexed: { column: string; key: keyof Row & string; folded?: { column: string; param: string } }[],
  rest: string,
) {
  const statements = new Map<number, ReturnType<Sqlite['prepare']>>();
  return (row: Row, previous: Partial<Row> | undefined, params: Record<string, unknown>): void => {
    let mask = 0;
    indexed.forEach(({ key }, i) => {
      if (!previous || previous[key] !== row[key]) mask |= 1 << i;
    });
    let stmt = statements.get(mask);
    if (!stmt) {
      const set = indexed
        .filter((_, i) => mask & (1 << i))
        .flatMap(({ column, key, folded }) => [`${column} = @${key}`, ...(folded ? [`${folded.column} = @${folded.param}`] : [])]);
      stmt = sqlite.prepare(`UPDATE ${table} SET ${[...set, rest].join(', ')} WHERE id = @id`);
      statements.set(mask, stmt);
    }
    stmt.run(params);
  };
}

/** Prepared statements for dynamic filters are cached by their SQL text (filters repeat a lot). */
function statementCache(sqlite: Sqlite, max = 200) {
  const cache = new Map<string, ReturnType<Sqlite['prepare']>>();
  return (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = sqlite.prepare(sql);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

export function createUserRepository(sqlite: Sqlite): UserRepository {
  const prepared = statementCache(sqlite);
  const byId = sqlite.prepare(`SELECT ${USER_COLUMNS} FROM scim_users r WHERE r.id = ?`);
  const byUserName = sqlite.prepare(`SELECT ${USER_COLUMNS} FROM scim_users r WHERE r.user_name_key = ?`);
  const insert = sqlite.prepare(
    `INSERT INTO scim_users (id, user_name, user_name_key, external_id, display_name, display_name_key, active, data, password_hash, version,
       created_at, last_modified)
     VALUES (@id, @userName, @userNameKey, @externalId, @displayName, @displayNameKey, @active, @data, @passwordHash, @version, @createdAt,
       @lastModified)`,
  );
  const update = updateByChangedColumns<Omit<UserRow, 'seq'>>(
    sqlite,
    'scim_users',
    [
      { column: 'user_name', key: 'userName', folded: { column: 'user_name_key', param: 'userNameKey' } },
      { column: 'external_id', key: 'externalId' },
      { column: 'display_name', key: 'displayName', folded: { column: 'display_name_key', param: 'displayNameKey' } },
    ],
    'active = @active, data = @data, password_hash = @passwordHash, version = @version, last_modified = @lastModified',
  );
  const del = sqlite.prepare('DELETE FROM scim_users WHERE id = ?');
  const groupsOf = sqlite.prepare(
    `SELECT g.id AS value, g.display_name AS display FROM group_members m JOIN scim_groups g ON g.id = m.group_id
     WHERE m.member_id = ? ORDER BY g.seq`,
  );
  const total = sqlite.prepare('SELECT count(*) AS n FROM scim_users');
  const touch = sqlite.prepare('UPDATE scim_users SET version = version + 1, last_modified = ? WHERE id = ?');
  const params = (row: Omit<UserRow, 'seq'>) => ({
    ...row,
    userNameKey: fold(row.userName),
    displayNameKey: row.displayName === null ? null : fold(row.displayName),
    active: row.active ? 1 : 0,
    data: JSON.stringify(row.data),
  });

  return {
    byId: (id) => toUser(byId.get(id) as RawUser | undefined),
    byUserName: (userName) => toUser(byUserName.get(fold(userName)) as RawUser | undefined),
    insert: (row) => Number(insert.run(params(row)).lastInsertRowid),
    update: (row, previous) => update(row, previous, params(row)),
    delete: (id) => void del.run(id),
    list({ where, orderBy, offset, limit }) {
      const sql = `SELECT ${USER_COLUMNS} FROM scim_users r ${where ? `WHERE ${where.sql}` : ''} ORDER BY ${orderBy} ${limitClause(limit)}`;
      return (prepared(sql).all([...(where?.params ?? []), offset]) as RawUser[]).map((r) => toUser(r)!);
    },
    count(where) {
      const sql = `SELECT count(*) AS n FROM scim_users r ${where ? `WHERE ${where.sql}` : ''}`;
      return (prepared(sql).get(where?.params ?? []) as { n: number }).n;
    },
    groupsOf: (id) => groupsOf.all(id) as { value: string; display: string }[],
    touch(ids, lastModified) {
      for (const id of ids) touch.run(lastModified, id);
    },
    total: () => (total.get() as { n: number }).n,
  };
}

export function createGroupRepository(sqlite: Sqlite): GroupRepository {
  const prepared = statementCache(sqlite);
  const byId = sqlite.prepare(`SELECT ${GROUP_COLUMNS} FROM scim_groups r WHERE r.id = ?`);
  const byDisplayName = sqlite.prepare(`SELECT ${GROUP_COLUMNS} FROM scim_groups r WHERE r.display_name_key = ?`);
  const insert = sqlite.prepare(
    `INSERT INTO scim_groups (id, display_name, display_name_key, external_id, data, version, created_at, last_modified)
     VALUES (@id, @displayName, @displayNameKey, @externalId, @data, @version, @createdAt, @lastModified)`,
  );
  const update = updateByChangedColumns<Omit<GroupRow, 'seq'>>(
    sqlite,
    'scim_groups',
    [
      { column: 'display_name', key: 'displayName', folded: { column: 'display_name_key', param: 'displayNameKey' } },
      { column: 'external_id', key: 'externalId' },
    ],
    'data = @data, version = @version, last_modified = @lastModified',
  );
  const del = sqlite.prepare('DELETE FROM scim_groups WHERE id = ?');
  const members = sqlite.prepare(
    `SELECT m.member_id AS value, m.member_type AS type, coalesce(u.display_name, u.user_name, g.display_name) AS display
     FROM group_members m
     LEFT JOIN scim_users u ON m.member_type = 'User' AND u.id = m.member_id
     LEFT JOIN scim_groups g ON m.member_type = 'Group' AND g.id = m.member_id
     WHERE m.group_id = ? ORDER BY m.rowid`,
  );
  const memberCount = sqlite.prepare('SELECT count(*) AS n FROM group_members WHERE group_id = ?');
  const addMember = sqlite.prepare('INSERT OR IGNORE INTO group_members (group_id, member_id, member_type) VALUES (?, ?, ?)');
  const removeMember = sqlite.prepare('DELETE FROM group_members WHERE group_id = ? AND member_id = ?');
  const containing = sqlite.prepare('SELECT group_id AS id FROM group_members WHERE member_id = ?');
  const removeEverywhere = sqlite.prepare('DELETE FROM group_members WHERE member_id = ?');
  const isUser = sqlite.prepare('SELECT 1 FROM scim_users WHERE id = ?');
  const isGroup = sqlite.prepare('SELECT 1 FROM scim_groups WHERE id = ?');
  const total = sqlite.prepare('SELECT count(*) AS n FROM scim_groups');
  const params = (row: Omit<GroupRow, 'seq'>) => ({ ...row, displayNameKey: fold(row.displayName), data: JSON.stringify(row.data) });

  return {
    byId: (id) => toGroup(byId.get(id) as RawGroup | undefined),
    byDisplayName: (name) => toGroup(byDisplayName.get(fold(name)) as RawGroup | undefined),
    insert: (row) => Number(insert.run(params(row)).lastInsertRowid),
    update: (row, previous) => update(row, previous, params(row)),
    delete: (id) => void del.run(id),
    list({ where, orderBy, offset, limit }) {
      const sql = `SELECT ${GROUP_COLUMNS} FROM scim_groups r ${where ? `WHERE ${where.sql}` : ''} ORDER BY ${orderBy} ${limitClause(limit)}`;
      return (prepared(sql).all([...(where?.params ?? []), offset]) as RawGroup[]).map((r) => toGroup(r)!);
    },
    count(where) {
      const sql = `SELECT count(*) AS n FROM scim_groups r ${where ? `WHERE ${where.sql}` : ''}`;
      return (prepared(sql).get(where?.params ?? []) as { n: number }).n;
    },
    members: (groupId) => members.all(groupId) as Member[],
    memberCount: (groupId) => (memberCount.get(groupId) as { n: number }).n,
    addMembers(groupId, list) {
      for (const m of list) addMember.run(groupId, m.value, m.type);
    },
    removeMembers(groupId, ids) {
      for (const id of ids) removeMember.run(groupId, id);
    },
    groupsContaining: (memberId) => (containing.all(memberId) as { id: string }[]).map((r) => r.id),
    removeMemberEverywhere: (memberId) => void removeEverywhere.run(memberId),
    memberTypes(ids) {
      const found = new Map<string, MemberType>();
      for (const id of ids) {
        if (isUser.get(id)) found.set(id, 'User');
        else if (isGroup.get(id)) found.set(id, 'Group');
      }
      return found;
    },
    total: () => (total.get() as { n: number }).n,
  };
}
