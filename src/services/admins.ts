// Local console accounts managed by an operator (CLI) or an administrator (console).
import type { AuditEntry } from '../audit/entry.js';
import { hashPassword } from '../auth/password.js';
import type { Sqlite } from '../db/connection.js';
import type { Repositories } from '../plugins/db.js';
import { checkPasswordPolicy, PasswordPolicyError } from './auth.js';
import type { Actor } from './settings.js';

export function createAdminService(sqlite: Sqlite, repos: Repositories, clock: () => number = Date.now) {
  const { accounts } = repos;
  const record = (actor: Actor, e: Omit<AuditEntry, 'ts' | 'protocol' | 'principal' | 'outcome'>) =>
    repos.audit.append({ ...e, ts: clock(), protocol: actor.protocol, principal: actor.name, outcome: 'SUCCESS', sourceIp: actor.ip ?? null, userAgent: actor.userAgent ?? null });

  return {
    async createAccount(username: string, password: string, roleName: string, actor: Actor): Promise<string> {
      const name = username.trim();
      if (!/^[\w.@+-]{1,128}$/.test(name)) throw new PasswordPolicyError('A username is 1 to 128 letters, digits, dots, @, +, _ or -');
      checkPasswordPolicy(password);
      const role = accounts.roleByName(roleName);
      if (!role) throw new PasswordPolicyError(`No role named "${roleName}"`);
      const hash = await hashPassword(password);
      return sqlite.transaction(() => {
        if (accounts.byUsername(name)) throw new PasswordPolicyError(`An account named "${name}" already exists`);
        const account = accounts.insert(name, hash, clock());
        accounts.grantRole(account.id, role.id);
        record(actor, {
          type: 'Account',
          event: 'Create Account',
          action: 'ACCOUNT_CREATED',
          target: name,
          log: `Created the local account "${name}" with the role ${role.name}\nBy ${actor.name}${actor.protocol === 'CLI' ? ' with the iamtrail CLI' : ` from ${actor.ip ?? 'unknown address'}`}`,
        });
        return `Created ${role.name.toLowerCase()} "${name}". Sign in at /login.`;
      })();
    },

    createAdministrator(username: string, password: string, actor: Actor): Promise<string> {
      return this.createAccount(username, password, 'Administrator', actor);
    },

    async setPassword(username: string, password: string, actor: Actor): Promise<string> {
      checkPasswordPolicy(password);
      const account = accounts.byUsername(username);
      if (!account) throw new PasswordPolicyError(`No local account named "${username}"`);
      const hash = await hashPassword(password);
      sqlite.transaction(() => {
        accounts.setPassword(account.id, hash, clock());
        accounts.clearFailures(account.username);
        record(actor, {
          type: 'Account',
          event: 'Reset Password',
          action: 'USER_RESET_PASSWORD_ON_BEHALF',
          target: account.username,
          log: `${actor.name} set the password of "${account.username}" on their behalf (and cleared any lock)`,
        });
      })();
      return `Password of "${account.username}" set.`;
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
