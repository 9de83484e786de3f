// The admin console scope: sessions, CSRF, Eta views, the sign-in guard and HTML error pages.
import { STATUS_CODES } from 'node:http';
import { appPath } from '../../paths.js';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PERMISSION_IAM } from '../../auth/permissions.js';
import { checkSession, type Viewer } from '../../auth/viewer.js';
import sessionPlugin from '../../plugins/session.js';
import { IAM_SECTIONS } from './nav.js';
import accountsRoutes from './accounts.js';
import iamRoutes from './iam.js';
import loginRoutes from './login.js';
import logsRoutes from './logs.js';
import profileRoutes from './profile.js';
import redFlagRoutes from './red-flags.js';

const root = (dir: string) => appPath(import.meta.url, dir);

declare module 'fastify' {
  interface FastifyRequest {
    viewer: Viewer | null;
  }
  interface FastifyInstance {
    /** preHandler: a signed-in user with the given permission, else redirect to /login or 403 */
    requirePermission(permission?: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** the data every console page needs: menu, user, CSRF token */
    pageData(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown>): Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** routes that do not need a session (sign-in page) */
    public?: boolean;
  }
}

export class HttpPageError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(sessionPlugin);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await app.register(view, {
    engine: { eta: new Eta({ autoEscape: true, autoTrim: false }) },
    templates: root('views'),
    production: true,
    defaultContext: { iamSections: IAM_SECTIONS },
  });
  await app.register(fastifyStatic, { root: root('public'), prefix: '/public/', maxAge: '1h', decorateReply: false });

  const { config, repos } = app;

  app.decorateRequest('viewer', null);

  // defence in depth behind output escaping: no inline script, no framing, forms post only here
  app.addHook('onSend', async (request, reply, payload) => {
    // pages show audit data and who is signed in: no cache (a shared browser, a proxy) keeps them;
    // the static files under /public/ keep their own caching
    if (!reply.hasHeader('Cache-Control') && !request.url.startsWith('/public/')) reply.header('Cache-Control', 'no-store');
    reply.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header('X-Frame-Options', 'DENY');
    return payload;
  });

  app.addHook('preHandler', async (request) => {
    const s = request.session;
    if (!s.principal) return;
    const now = Date.now();
    const check = checkSession(repos, config, { ...s, principal: s.principal }, now);
    if (!check.viewer) {
      const reason = {
        expired: `session ended after ${config.SESSION_MAX_HOURS} hours`,
        idle: `session expired after ${config.SESSION_IDLE_MINUTES} idle minutes`,
        disabled: 'was signed out: the account is disabled',
      }[check.reason];
      app.auth.signOut(s.principal, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null }, reason);
      s.principal = undefined;
      s.flash = { kind: 'error', text: check.reason === 'disabled' ? 'Your account is disabled' : 'Your session expired: please sign in again' };
      return;
    }
    // refreshed at most every 30 s: the idle limit is minutes, and an unchanged session is not
    // written back, so reading the Logs costs no durable write per request
    if (now - (s.lastSeenAt ?? 0) > 30_000) s.lastSeenAt = now;
    request.viewer = check.viewer;
  });

  app.decorate('requirePermission', (permission: string = PERMISSION_IAM) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.viewer) {
      const next = request.method === 'GET' ? request.url : '/';
      if (request.headers['hx-request']) {
        reply.header('HX-Redirect', `/login?next=${encodeURIComponent(next)}`);
        return reply.code(401).send('');
      }
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`);
    }
    if (!request.viewer.permissions.has(permission)) throw new HttpPageError(403, `You need the permission "${permission}" to open this screen.`);
  });

  app.decorate('pageData', (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown>) => {
    const flash = request.session.flash;
    if (flash) request.session.flash = undefined;
    return {
      viewer: request.viewer ? { username: request.viewer.principal.username, roles: request.viewer.roles.join(', '), iam: request.viewer.permissions.has(PERMISSION_IAM) } : null,
      csrfToken: reply.generateCsrf(),
      flash: flash ?? null,
      active: '',
      ...extra,
    };
  });

  // every state-changing request carries the session's CSRF token (forms: _csrf, htmx: a header)
  app.addHook('preValidation', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    await new Promise<void>((resolve, reject) => {
      app.csrfProtection(request, reply, (err?: unknown) => (err ? reject(err) : resolve()));
    });
  });

  app.setErrorHandler(async (error, request, reply) => {
    const e = error as Error & { statusCode?: number; code?: string };
    let status = e instanceof HttpPageError ? e.statusCode : (e.statusCode ?? 500);
    let message = e.message;
    if (e.code === 'FST_CSRF_INVALID_TOKEN' || e.code === 'FST_CSRF_MISSING_SECRET') {
      status = 403;
      message = 'The form expired or did not come from this site (CSRF check failed). Go back, reload the page and try again.';
    } else if ((e as { validation?: unknown }).validation) {
      status = 400;
      message = `The request is not valid: ${e.message}`;
    } else if (status >= 500) {
      request.log.error({ err: error }, 'console request failed');
      message = 'Something went wrong on our side. The error was logged.';
    }
    const template = status === 403 ? 'errors/403' : 'errors/error';
    const title = status >= 500 ? 'Server Error' : (STATUS_CODES[status] ?? 'Bad Request');
    let data: Record<string, unknown>;
    try {
      data = app.pageData(request, reply, { status, title, message });
    } catch {
      data = { viewer: null, csrfToken: '', flash: null, active: '', status, title, message };
    }
    return reply.code(status).type('text/html; charset=utf-8').view(template, data);
  });

  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).type('text/html; charset=utf-8').view('errors/error', app.pageData(request, reply, { status: 404, title: 'Not Found', message: `There is no page at ${request.url.split('?')[0]}.` }));
  });

  app.get('/', async (request, reply) => {
    if (!request.viewer) return reply.redirect('/login');
    return reply.redirect(request.viewer.permissions.has(PERMISSION_IAM) ? '/it-settings/iam/logs' : '/profile');
  });

  await app.register(loginRoutes);
  await app.register(profileRoutes);
  await app.register(iamRoutes);
  await app.register(logsRoutes);
  await app.register(redFlagRoutes);
  await app.register(accountsRoutes);
}
