// Console principals: local accounts, roles and their permissions, Roles Mapping (IdP group → role)
// and the failed-sign-in counters used for lockout.
import type { Sqlite } from './connection.js';

export interface Account {
  id: number;
  username: string;
  passwordHash: string;
  disabled: boolean;
  createdAt: number;
  passwordChangedAt: number | null;
}

export interface Role {
  id: number;
  name: string;
  description: string;
  permissions: string[];
}

export interface RoleMapping {
  groupId: string;
  groupName: string;
  memberCount: number;
  roleId: number | null;
  roleName: string | null;
}

export interface FailureState {
  count: number;
  windowStart: number;
  lockedUntil: number | null;
}

export function createAccountRepository(sqlite: Sqlite) {
  const accountCols = `id, username, password_hash AS passwordHash, disabled, created_at AS createdAt, password_changed_at AS passwordChangedAt`;
  const byName = sqlite.prepare(`SELECT ${accountCols} FROM accounts WHERE lower(username) = lower(?)`);
  const byId = sqlite.prepare(`SELECT ${accountCols} FROM accounts WHERE id = ?`);
  const all = sqlite.prepare(`SELECT ${accountCols} FROM accounts ORDER BY lower(username)`);
  const insert = sqlite.prepare('INSERT INTO accounts (username, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?)');
  const setPassword = sqlite.prepare('UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE id = ?');
  const grant = sqlite.prepare('INSERT OR IGNORE INTO account_roles (account_id, role_id) VALUES (?, ?)');
  const accountRoles = sqlite.prepare(
    'SELECT r.id, r.name, r.description, r.permissions FROM account_roles ar JOIN roles r ON r.id = ar.role_id WHERE ar.account_id = ? ORDER BY r.name',
  );
  const scimUserRoles = sqlite.prepare(
    `SELECT DISTINCT r.id, r.name, r.description, r.permissions FROM group_members m
     JOIN role_mappings rm ON rm.group_id = m.group_id JOIN roles r ON r.id = rm.role_id
     WHERE m.member_id = ? ORDER BY r.name`,
  );
  const roleList = sqlite.prepare('SELECT id, name, description, permissions FROM roles ORDER BY id');
  const roleByName = sqlite.prepare('SELECT id, name, description, permissions FROM roles WHERE lower(name) = lower(?)');
  const mappings = sqlite.prepare(
    `SELECT g.id AS groupId, g.display_name AS groupName,
       (SELECT count(*) FROM group_members m WHERE m.group_id = g.id) AS memberCount,
       r.id AS roleId, r.name AS roleName
     FROM scim_groups g LEFT JOIN role_mappings rm ON rm.group_id = g.id LEFT JOIN roles r ON r.id = rm.role_id
     ORDER BY lower(g.display_name)`,
  );
  const upsertMapping = sqlite.prepare(
    'INSERT INTO role_mappings (group_id, role_id, created_at) VALUES (?, ?, ?) ON CONFLICT(group_id) DO UPDATE SET role_id = excluded.role_id',
  );
  const deleteMapping = sqlite.prepare('DELETE FROM role_mappings WHERE group_id = ?');
  const failures = sqlite.prepare('SELECT count, window_start AS windowStart, locked_until AS lockedUntil FROM sign_in_failures WHERE username = ?');
  const saveFailures = sqlite.prepare(
    `INSERT INTO sign_in_failures (username, count, window_start, locked_until) VALUES (@username, @count, @windowStart, @lockedUntil)
     ON CONFLICT(username) DO UPDATE SET count = excluded.count, window_start = excluded.window_start, locked_until = excluded.locked_until`,
  );
  const clearFailures = sqlite.prepare('DELETE FROM sign_in_failures WHERE username = ?');
  const adminCount = sqlite.prepare(
    `SELECT count(DISTINCT a.id) AS n FROM accounts a JOIN account_roles ar ON ar.account_id = a.id JOIN roles r ON r.id = ar.role_id
     WHERE a.disabled = 0 AND r.permissions LIKE '%"IT Settings IAM"%'`,
  );

  const toAccount = (row: unknown): Account | undefined => {
    if (!row) return undefined;
    const r = row as Omit<Account, 'disabled'> & { disabled: number };
    return { ...r, disabled: r.disabled === 1 };
  };
  const toRole = (row: unknown): Role => {
    const r = row as Omit<Role, 'permissions'> & { permissions: string };
    return { ...r, permissions: JSON.parse(r.permissions) as string[] };
  };

  return {
    byUsername: (username: string) => toAccount(byName.get(username)),
    byId: (id: number) => toAccount(byId.get(id)),
    list: () => all.all().map((r) => toAccount(r)!),
    insert(username: string, passwordHash: string, now: number): Account {
      const info = insert.run(username, passwordHash, now, now);
      return toAccount(byId.get(info.lastInsertRowid))!;
    },
    setPassword: (id: number, passwordHash: string, now: number) => void setPassword.run(passwordHash, now, id),
    grantRole: (accountId: number, roleId: number) => void grant.run(accountId, roleId),
    rolesOfAccount: (accountId: number) => accountRoles.all(accountId).map(toRole),
    rolesOfScimUser: (userId: string) => scimUserRoles.all(userId).map(toRole),
    roles: () => roleList.all().map(toRole),
    roleByName: (name: string) => {
      const r = roleByName.get(name);
      return r ? toRole(r) : undefined;
    },
    roleMappings: () => mappings.all() as RoleMapping[],
    setRoleMapping: (groupId: string, roleId: number, now: number) => void upsertMapping.run(groupId, roleId, now),
    removeRoleMapping: (groupId: string) => void deleteMapping.run(groupId),
    failures: (username: string) => failures.get(username.toLowerCase()) as FailureState | undefined,
    saveFailures: (username: string, state: FailureState) => void saveFailures.run({ username: username.toLowerCase(), ...state }),
    clearFailures: (username: string) => void clearFailures.run(username.toLowerCase()),
    activeAdministratorCount: () => (adminCount.get() as { n: number }).n,
  };
}

export type AccountRepository = ReturnType<typeof createAccountRepository>;
