// IT Settings › Accounts: local console accounts; an administrator creates them and sets a
// password on a user's behalf (USER_RESET_PASSWORD_ON_BEHALF).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PasswordPolicyError } from '../../services/auth.js';
import { formatDay } from './format.js';

const BASE = '/it-settings/accounts';

export default async function accountsRoutes(app: FastifyInstance): Promise<void> {
  const guard = { preHandler: app.requirePermission() };
  const { repos, config } = app;
  const info = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers['user-agent'] ?? null });

  function page(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) {
    const accounts = repos.accounts.list().map((a) => ({
      id: a.id,
      username: a.username,
      roles: repos.accounts.rolesOfAccount(a.id).map((r) => r.name).join(', ') || '—',
      created: formatDay(a.createdAt, config.TZ),
      passwordChanged: formatDay(a.passwordChangedAt, config.TZ),
      disabled: a.disabled,
      self: request.viewer?.principal.kind === 'local' && request.viewer.principal.id === String(a.id),
    }));
    return reply.view('pages/accounts', app.pageData(request, reply, { active: 'accounts', accounts, roles: repos.accounts.roles(), error: null, ...extra }));
  }

  app.get(BASE, guard, async (request, reply) => page(request, reply));

  app.post<{ Body: { username: string; password: string; role: string } }>(
    BASE,
    { ...guard, schema: { body: Type.Object({ username: Type.String({ maxLength: 128 }), password: Type.String({ maxLength: 1024 }), role: Type.String({ maxLength: 128 }), _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const { username, password, role } = request.body;
      try {
        const text = await app.admins.createAccount(username, password, role, { name: request.viewer!.principal.username, protocol: 'WEB', ...info(request) });
        request.session.flash = { kind: 'ok', text };
        return reply.redirect(BASE, 303);
      } catch (error) {
        if (!(error instanceof PasswordPolicyError)) throw error;
        reply.code(400);
        return page(request, reply, { error: error.message });
      }
    },
  );

  app.post<{ Params: { id: number }; Body: { password: string } }>(
    `${BASE}/:id/password`,
    { ...guard, schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: Type.Object({ password: Type.String({ maxLength: 1024 }), _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      try {
        const name = await app.auth.resetPasswordOnBehalf({ username: request.viewer!.principal.username }, request.params.id, request.body.password, info(request));
        request.session.flash = { kind: 'ok', text: `Password of "${name}" set. Tell them through a separate channel.` };
        return reply.redirect(BASE, 303);
      } catch (error) {
        if (!(error instanceof PasswordPolicyError)) throw error;
        reply.code(400);
        return page(request, reply, { error: error.message });
      }
    },
  );
}
