// Console sign-in and account events, recorded with the codes of the audit-event guide (seed 004):
// LOGIN (SUCCESS/FAILURE), INCREMENT_FAIL_AUTH_COUNT, USER_ACCOUNT_LOCKED, LOGOUT, CHANGE_PASSWORD,
// USER_RESET_PASSWORD_ON_BEHALF. Each state change and its entries commit in one transaction.
import type { AuditEntry } from '../audit/entry.js';
import { dummyHash, hashPassword, verifyPassword } from '../auth/password.js';
import type { Config } from '../config.js';
import type { AccountRepository } from '../db/account-repository.js';
import type { Sqlite } from '../db/connection.js';
import type { Repositories } from '../plugins/db.js';
import type { SessionPrincipal } from '../plugins/session.js';

export interface RequestInfo {
  ip: string;
  userAgent: string | null;
}

export type SignInResult = { ok: true; principal: SessionPrincipal } | { ok: false; message: string };

export class PasswordPolicyError extends Error {}

const MIN_PASSWORD = 12;

export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD) throw new PasswordPolicyError(`A password has at least ${MIN_PASSWORD} characters`);
  if (password.length > 1024) throw new PasswordPolicyError('A password has at most 1024 characters');
}

interface Candidate {
  principal: SessionPrincipal;
  passwordHash: string | null;
  disabled: boolean;
}

export function createAuthService(sqlite: Sqlite, repos: Repositories, accounts: AccountRepository, config: Config, clock: () => number = Date.now) {
  const lockMs = config.LOCKOUT_MINUTES * 60_000;
  const windowMs = config.LOCKOUT_WINDOW_MINUTES * 60_000;

  function entry(info: RequestInfo, e: Omit<AuditEntry, 'ts' | 'protocol' | 'sourceIp' | 'userAgent' | 'http'>): AuditEntry {
    const ua = info.userAgent ? ` · user agent "${info.userAgent.slice(0, 256)}"` : '';
    return { ...e, log: `${e.log}\nFrom ${info.ip}${ua}`, ts: clock(), protocol: 'WEB', sourceIp: info.ip, userAgent: info.userAgent };
  }

  function find(username: string): Candidate | undefined {
    const local = accounts.byUsername(username);
    if (local) return { principal: { kind: 'local', id: String(local.id), username: local.username }, passwordHash: local.passwordHash, disabled: local.disabled };
    const scim = repos.users.byUserName(username);
    if (scim) return { principal: { kind: 'scim', id: scim.id, username: scim.userName }, passwordHash: scim.passwordHash, disabled: !scim.active };
    return undefined;
  }

  /** Records a failed attempt; locks the account name after the threshold within the window. */
  function recordFailure(username: string, reason: string, info: RequestInfo, now: number): string {
    const state = accounts.failures(username);
    const fresh = !state || now - state.windowStart > windowMs;
    const count = fresh ? 1 : state.count + 1;
    const windowStart = fresh ? now : state.windowStart;
    const locks = count >= config.LOCKOUT_THRESHOLD;
    const lockedUntil = locks ? now + lockMs : null;
    accounts.saveFailures(username, { count: locks ? 0 : count, windowStart: locks ? now : windowStart, lockedUntil });
    const target = username;
    repos.audit.append(entry(info, { type: 'Session', event: 'Sign In', action: 'LOGIN', outcome: 'FAILURE', principal: username, target, log: `Sign-in failed for "${username}": ${reason}` }));
    repos.audit.append(
      entry(info, {
        type: 'Session',
        event: 'Count Failed Sign-In',
        action: 'INCREMENT_FAIL_AUTH_COUNT',
        outcome: 'SUCCESS',
        principal: username,
        target,
        log: `Failed sign-in ${count} of ${config.LOCKOUT_THRESHOLD} for "${username}" within ${config.LOCKOUT_WINDOW_MINUTES} minutes`,
      }),
    );
    if (locks) {
      repos.audit.append(
        entry(info, {
          type: 'Session',
          event: 'Lock Account',
          action: 'USER_ACCOUNT_LOCKED',
          outcome: 'SUCCESS',
          principal: username,
          target,
          log: `Locked "${username}" for ${config.LOCKOUT_MINUTES} minutes after ${count} failed sign-ins (until ${new Date(lockedUntil!).toISOString()})`,
        }),
      );
      return `Too many failed attempts: this account is locked for ${config.LOCKOUT_MINUTES} minutes`;
    }
    return 'Wrong username or password';
  }

  return {
    async signIn(usernameInput: string, password: string, info: RequestInfo): Promise<SignInResult> {
      const username = usernameInput.trim().slice(0, 256);
      const candidate = find(username);
      // always spend the time of a hash, so timing does not tell whether the name exists
      const valid = await verifyPassword(password, candidate?.passwordHash ?? (await dummyHash()));
      const now = clock();
      return sqlite.transaction((): SignInResult => {
        const state = accounts.failures(username);
        if (state?.lockedUntil && state.lockedUntil > now) {
          const minutes = Math.ceil((state.lockedUntil - now) / 60_000);
          repos.audit.append(
            entry(info, { type: 'Session', event: 'Sign In', action: 'LOGIN', outcome: 'FAILURE', principal: username, target: username, log: `Sign-in refused for "${username}": account locked (${minutes} more minute${minutes > 1 ? 's' : ''})` }),
          );
          return { ok: false, message: `This account is locked: try again in ${minutes} minute${minutes > 1 ? 's' : ''}` };
        }
        if (!candidate) return { ok: false, message: recordFailure(username, 'unknown user', info, now) };
        if (!candidate.passwordHash) return { ok: false, message: recordFailure(username, 'the account has no password (SCIM user without a pushed password)', info, now) };
        if (!valid) return { ok: false, message: recordFailure(username, 'wrong password', info, now) };
        if (candidate.disabled) {
          repos.audit.append(
            entry(info, {
              type: 'Session',
              event: 'Sign In',
              action: 'LOGIN',
              outcome: 'FAILURE',
              principal: candidate.principal.username,
              target: candidate.principal.username,
              resourceId: candidate.principal.kind === 'scim' ? candidate.principal.id : null,
              log: `Sign-in refused for "${candidate.principal.username}": the account is disabled${candidate.principal.kind === 'scim' ? ' (deactivated by the identity provider)' : ''}`,
            }),
          );
          return { ok: false, message: 'This account is disabled' };
        }
        accounts.clearFailures(username);
        repos.audit.append(
          entry(info, {
            type: 'Session',
            event: 'Sign In',
            action: 'LOGIN',
            outcome: 'SUCCESS',
            principal: candidate.principal.username,
            target: candidate.principal.username,
            resourceId: candidate.principal.kind === 'scim' ? candidate.principal.id : null,
            log: `"${candidate.principal.username}" signed in (${candidate.principal.kind === 'scim' ? 'SCIM-provisioned user' : 'local account'})`,
          }),
        );
        return { ok: true, principal: candidate.principal };
      })();
    },

    signOut(principal: SessionPrincipal, info: RequestInfo, reason = 'signed out'): void {
      repos.audit.append(
        entry(info, { type: 'Session', event: 'Sign Out', action: 'LOGOUT', outcome: 'SUCCESS', principal: principal.username, target: principal.username, log: `"${principal.username}" ${reason}` }),
      );
    },

    /** A user changes their own password (profile page): principal = target. */
    async changeOwnPassword(principal: SessionPrincipal, current: string, next: string, info: RequestInfo): Promise<{ ok: boolean; message: string }> {
      const stored = principal.kind === 'local' ? accounts.byId(Number(principal.id))?.passwordHash : repos.users.byId(principal.id)?.passwordHash;
      const valid = await verifyPassword(current, stored ?? (await dummyHash()));
      const base = { type: 'Account', event: 'Change Password', action: 'CHANGE_PASSWORD', principal: principal.username, target: principal.username };
      if (!valid) {
        repos.audit.append(entry(info, { ...base, outcome: 'FAILURE', log: `"${principal.username}" failed to change their password: the current password was wrong` }));
        return { ok: false, message: 'The current password is wrong' };
      }
      checkPasswordPolicy(next);
      const hash = await hashPassword(next);
      sqlite.transaction(() => {
        setHash(principal, hash);
        repos.audit.append(entry(info, { ...base, outcome: 'SUCCESS', log: `"${principal.username}" changed their own password` }));
      })();
      return { ok: true, message: 'Your password was changed' };
    },

    /** An administrator sets another user's password: principal ≠ target. */
    async resetPasswordOnBehalf(admin: { username: string }, targetAccountId: number, next: string, info: RequestInfo): Promise<string> {
      const target = accounts.byId(targetAccountId);
      if (!target) throw new PasswordPolicyError('No such account');
      checkPasswordPolicy(next);
      const hash = await hashPassword(next);
      sqlite.transaction(() => {
        accounts.setPassword(target.id, hash, clock());
        accounts.clearFailures(target.username);
        repos.audit.append(
          entry(info, {
            type: 'Account',
            event: 'Reset Password',
            action: 'USER_RESET_PASSWORD_ON_BEHALF',
            outcome: 'SUCCESS',
            principal: admin.username,
            target: target.username,
            log: `"${admin.username}" set the password of "${target.username}" on their behalf`,
          }),
        );
      })();
      return target.username;
    },
  };

  function setHash(principal: SessionPrincipal, hash: string): void {
    if (principal.kind === 'local') accounts.setPassword(Number(principal.id), hash, clock());
    else {
      const u = repos.users.byId(principal.id);
      // `u` as the previous row: the indexed names and their keys are not rewritten
      if (u) repos.users.update({ ...u, passwordHash: hash }, u);
    }
  }
}

export type AuthService = ReturnType<typeof createAuthService>;
