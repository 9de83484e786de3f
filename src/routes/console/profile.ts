// The signed-in user's profile: change their own password (CHANGE_PASSWORD, principal = target).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PasswordPolicyError } from '../../services/auth.js';

const ChangeBody = Type.Object({
  current: Type.String({ maxLength: 1024 }),
  next: Type.String({ maxLength: 1024 }),
  confirm: Type.String({ maxLength: 1024 }),
  _csrf: Type.Optional(Type.String()),
});
type ChangeBodyT = { current: string; next: string; confirm: string };

export default async function profileRoutes(app: FastifyInstance): Promise<void> {
  const signedIn = app.requirePermission;
  // any signed-in user may change their own password: no permission needed beyond a session
  const guard = async (...args: Parameters<ReturnType<typeof signedIn>>) => {
    const [request, reply] = args;
    if (!request.viewer) return signedIn()(request, reply);
  };

  app.get('/profile', { preHandler: guard }, async (request, reply) =>
    reply.view('pages/profile', app.pageData(request, reply, { active: 'profile', error: null })),
  );

  app.post<{ Body: ChangeBodyT }>('/profile/password', { preHandler: guard, schema: { body: ChangeBody } }, async (request, reply) => {
    const { current, next, confirm } = request.body;
    const viewer = request.viewer!;
    let error: string | null = null;
    if (next !== confirm) error = 'The new password and its confirmation differ';
    else {
      try {
        const result = await app.auth.changeOwnPassword(viewer.principal, current, next, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
        if (result.ok) {
          request.session.flash = { kind: 'ok', text: result.message };
          return reply.redirect('/profile', 303);
        }
        error = result.message;
      } catch (e) {
        if (!(e instanceof PasswordPolicyError)) throw e;
        error = e.message;
      }
    }
    reply.code(400);
    return reply.view('pages/profile', app.pageData(request, reply, { active: 'profile', error }));
  });
}
