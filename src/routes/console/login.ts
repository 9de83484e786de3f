// Sign-in and sign-out. The session id is rotated at sign-in; every attempt is an audit entry.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const LoginBody = Type.Object({
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 1024 }),
  next: Type.Optional(Type.String({ maxLength: 2048 })),
  _csrf: Type.Optional(Type.String()),
});
type LoginBodyT = { username: string; password: string; next?: string };

/** Only local paths, so the sign-in form cannot be used as an open redirect. */
export function safeNext(next: string | undefined): string {
  // "/" sends each user to the first screen they may open. Control characters and backslashes are
  // refused outright: browsers drop tabs and newlines, turning "/\t/evil" into "//evil".
  if (!next || !next.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  try {
    const url = new URL(next, 'http://iamtrail.invalid');
    // a path that normalises to "//host" ("/.//evil.com", "/a/..//evil.com") is a protocol-relative
    // URL once it is sent back in Location: another site
    if (url.origin !== 'http://iamtrail.invalid' || url.pathname.startsWith('//')) return '/';
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

const info = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

export default async function loginRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { next?: string } }>(
    '/login',
    { schema: { querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 2048 })) }) } },
    async (request, reply) => {
      if (request.viewer) return reply.redirect(safeNext(request.query.next));
      const noAdmin = app.repos.accounts.list().length === 0;
      // a Secure cookie is never set over plain http: say why sign-in cannot work instead of failing silently
      const insecure = app.config.publicUrl?.startsWith('https://') && request.protocol !== 'https';
      const error = insecure
        ? `This console is configured for ${app.config.publicUrl} (https) but was reached over http. Open it through https${app.config.TRUST_PROXY ? '' : ', and behind a reverse proxy set TRUST_PROXY=true'}.`
        : null;
      return reply.view('pages/login', app.pageData(request, reply, { next: safeNext(request.query.next), error, username: '', noAdmin }));
    },
  );

  app.post<{ Body: LoginBodyT }>('/login', { schema: { body: LoginBody } }, async (request, reply) => {
    const { username, password } = request.body;
    const next = safeNext(request.body.next);
    const result = await app.auth.signIn(username, password, info(request));
    if (!result.ok) {
      reply.code(401);
      return reply.view('pages/login', app.pageData(request, reply, { next, error: result.message, username, noAdmin: false }));
    }
    // a new session id at sign-in defeats session fixation
    await request.session.regenerate();
    const now = Date.now();
    request.session.principal = result.principal;
    request.session.signedInAt = now;
    request.session.lastSeenAt = now;
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    const principal = request.session.principal;
    if (principal) app.auth.signOut(principal, info(request));
    await request.session.destroy();
    return reply.redirect('/login', 303);
  });
}
