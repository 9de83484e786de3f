// Cookies, SQLite-backed sessions and CSRF protection for the browser-facing scopes (console, API).
// Not registered on /scim/v2: identity providers authenticate with bearer tokens only.
import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import session from '@fastify/session';
import fp from 'fastify-plugin';
import { createSessionStore } from '../db/session-store.js';

export interface SessionPrincipal {
  kind: 'local' | 'scim';
  /** accounts.id for local accounts, scim_users.id for SCIM users */
  id: string;
  username: string;
}

declare module 'fastify' {
  interface Session {
    principal?: SessionPrincipal;
    signedInAt?: number;
    lastSeenAt?: number;
    /** a one-time message for the next page (e.g. "Token revoked") */
    flash?: { kind: 'ok' | 'error'; text: string; secret?: string };
  }
}

export const SESSION_COOKIE = 'iamtrail.sid';

export default fp(
  async (app) => {
    const { config, repos } = app;
    let secret = repos.settings.get('session_secret');
    if (!secret) {
      secret = randomBytes(48).toString('base64url');
      repos.settings.set('session_secret', secret);
    }
    // the store and the cookie keep a session for its absolute lifetime: the idle limit is checked
    // per request (src/auth/viewer.ts), so an idle timeout is noticed, logged and explained
    const lifetimeMs = config.SESSION_MAX_HOURS * 3_600_000;
    await app.register(cookie);
    await app.register(session, {
      secret,
      cookieName: SESSION_COOKIE,
      store: createSessionStore(app.database.sqlite, () => lifetimeMs),
      saveUninitialized: false,
      // saved only when changed (sign-in, flash, lastSeenAt every 30 s): no durable write per page view;
      // the cookie then expires at the absolute limit set at sign-in
      rolling: false,
      cookie: {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: config.publicUrl?.startsWith('https://') ?? false,
        maxAge: lifetimeMs,
      },
    });
    await app.register(csrf, { sessionPlugin: '@fastify/session' });
  },
  { name: 'iamtrail-session', dependencies: ['iamtrail-db'] },
);
