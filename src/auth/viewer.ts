// Who is signed in, resolved fresh from the database on every request so that a disabled account,
// a deactivated SCIM user or a removed role mapping takes effect at once.
import type { Config } from '../config.js';
import type { Repositories } from '../plugins/db.js';
import type { SessionPrincipal } from '../plugins/session.js';

export interface Viewer {
  principal: SessionPrincipal;
  permissions: Set<string>;
  roles: string[];
}

export type SessionCheck = { viewer: Viewer } | { viewer: null; reason: 'idle' | 'expired' | 'disabled' };

export function loadViewer(repos: Repositories, principal: SessionPrincipal): Viewer | null {
  const { accounts, users } = repos;
  if (principal.kind === 'local') {
    const account = accounts.byId(Number(principal.id));
    if (!account || account.disabled) return null;
    const roles = accounts.rolesOfAccount(account.id);
    return { principal, roles: roles.map((r) => r.name), permissions: new Set(roles.flatMap((r) => r.permissions)) };
  }
  const user = users.byId(principal.id);
  if (!user || !user.active) return null;
  const roles = accounts.rolesOfScimUser(user.id);
  return { principal, roles: roles.map((r) => r.name), permissions: new Set(roles.flatMap((r) => r.permissions)) };
}

/** Applies the idle and absolute session limits, then loads the viewer. */
export function checkSession(
  repos: Repositories,
  config: Pick<Config, 'SESSION_IDLE_MINUTES' | 'SESSION_MAX_HOURS'>,
  session: { principal: SessionPrincipal; signedInAt?: number; lastSeenAt?: number },
  now: number,
): SessionCheck {
  if (now - (session.signedInAt ?? 0) > config.SESSION_MAX_HOURS * 3_600_000) return { viewer: null, reason: 'expired' };
  if (now - (session.lastSeenAt ?? 0) > config.SESSION_IDLE_MINUTES * 60_000) return { viewer: null, reason: 'idle' };
  const viewer = loadViewer(repos, session.principal);
  return viewer ? { viewer } : { viewer: null, reason: 'disabled' };
}
