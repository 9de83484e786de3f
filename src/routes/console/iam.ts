// IT Settings › IAM Settings: the section page and its sub-sections SCIM Overview, Tokens, Active
// Directory and Roles Mapping (Logs has its own file). Each change is an audit entry by the viewer.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokenError } from '../../auth/tokens.js';
import type { TokenRecord, TokenScope } from '../../db/token-repository.js';
import { SettingsError, type Actor } from '../../services/settings.js';
import { formatDay, formatTimestamp } from './format.js';
import { IAM_BASE, breadcrumbFor } from './nav.js';

const DAY = 86_400_000;
export const EXPIRY_WARNING_DAYS = 20;

const actorOf = (request: FastifyRequest): Actor => ({
  name: request.viewer!.principal.username,
  protocol: 'WEB',
  ip: request.ip,
  userAgent: request.headers['user-agent'] ?? null,
});

interface TokenView {
  id: number;
  name: string;
  scope: string;
  created: string;
  expires: string;
  lastUsed: string;
  status: 'active' | 'expired' | 'revoked';
  expiringSoon: boolean;
  expiryNote: string;
}

export function tokenView(t: TokenRecord, now: number, timeZone: string): TokenView {
  const status = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
  const daysLeft = t.expiresAt === null ? null : Math.ceil((t.expiresAt - now) / DAY);
  const expiringSoon = status === 'active' && daysLeft !== null && daysLeft <= EXPIRY_WARNING_DAYS;
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    created: formatDay(t.createdAt, timeZone),
    expires: t.expiresAt === null ? 'Never' : formatDay(t.expiresAt, timeZone),
    lastUsed: t.lastUsedAt === null ? 'Never' : formatDay(t.lastUsedAt, timeZone),
    status,
    expiringSoon,
    expiryNote: expiringSoon ? `Expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}: create a new token and update your identity provider` : '',
  };
}

const TokenBody = Type.Object({
  name: Type.String({ maxLength: 64 }),
  expiresInDays: Type.String({ pattern: '^(never|[0-9]{1,4})$' }),
  scope: Type.Union([Type.Literal('scim'), Type.Literal('ingest'), Type.Literal('read')]),
  _csrf: Type.Optional(Type.String()),
});
type TokenBodyT = { name: string; expiresInDays: string; scope: TokenScope };

export default async function iamRoutes(app: FastifyInstance): Promise<void> {
  const guard = { preHandler: app.requirePermission() };
  const { repos, settingsService, config } = app;
  const tz = config.TZ;

  const scimBase = (request: FastifyRequest) => `${config.publicUrl ?? `${request.protocol}://${request.host}`}/scim/v2`;

  app.get(IAM_BASE, guard, async (request, reply) => reply.view('pages/iam-settings', app.pageData(request, reply, { active: 'iam' })));

  // ---- SCIM Overview ------------------------------------------------------------------------------

  app.get(`${IAM_BASE}/scim`, guard, async (request, reply) => {
    const last = repos.audit.latest({ protocol: 'SCIM' });
    return reply.view(
      'pages/scim-overview',
      app.pageData(request, reply, {
        active: 'scim',
        crumb: breadcrumbFor('scim'),
        enabled: repos.settings.scimEnabled(),
        entraMode: repos.settings.provisioningMode() === 'entra',
        baseUrl: scimBase(request),
        users: repos.users.total(),
        groups: repos.groups.total(),
        activeTokens: repos.tokens.list().filter((t) => tokenView(t, Date.now(), tz).status === 'active' && t.scope === 'scim').length,
        last: last ? { date: formatTimestamp(last.ts, tz), http: last.http, event: last.event, ok: last.http !== null && last.http < 400 } : null,
      }),
    );
  });

  app.post<{ Body: { enabled: string } }>(
    `${IAM_BASE}/scim`,
    { ...guard, schema: { body: Type.Object({ enabled: Type.Union([Type.Literal('true'), Type.Literal('false')]), _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const enable = request.body.enabled === 'true';
      settingsService.setScimEnabled(enable, actorOf(request));
      request.session.flash = { kind: 'ok', text: enable ? 'SCIM provisioning is enabled.' : 'SCIM provisioning is disabled: identity providers now get 401.' };
      return reply.redirect(`${IAM_BASE}/scim`, 303);
    },
  );

  // ---- Tokens -------------------------------------------------------------------------------------

  function tokensPage(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) {
    const now = Date.now();
    return reply.view(
      'pages/tokens',
      app.pageData(request, reply, {
        active: 'tokens',
        crumb: breadcrumbFor('tokens'),
        tokens: repos.tokens.list().map((t) => tokenView(t, now, tz)),
        warningDays: EXPIRY_WARNING_DAYS,
        created: null,
        error: null,
        form: { name: '', expiresInDays: '365', scope: 'scim' },
        ...extra,
      }),
    );
  }

  app.get(`${IAM_BASE}/tokens`, guard, async (request, reply) => tokensPage(request, reply));

  app.post<{ Body: TokenBodyT }>(`${IAM_BASE}/tokens`, { ...guard, schema: { body: TokenBody } }, async (request, reply) => {
    const { name, expiresInDays, scope } = request.body;
    try {
      const { token, record } = settingsService.createToken(
        { name, scope, expiresInDays: expiresInDays === 'never' ? null : Number(expiresInDays) },
        actorOf(request),
      );
      // the token is rendered in this response only: it is never stored, not even in the session
      reply.code(201).header('Cache-Control', 'no-store');
      return tokensPage(request, reply, { created: { name: record.name, token, scope: record.scope } });
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      reply.code(400);
      return tokensPage(request, reply, { error: error.message, form: { name, expiresInDays, scope } });
    }
  });

  app.post<{ Params: { id: number } }>(
    `${IAM_BASE}/tokens/:id/revoke`,
    { ...guard, schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const token = repos.tokens.list().find((t) => t.id === request.params.id);
      try {
        if (!token) throw new SettingsError('That token does not exist');
        settingsService.revokeToken(token.name, actorOf(request));
        request.session.flash = { kind: 'ok', text: `Token "${token.name}" revoked: requests that present it now get 401.` };
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        request.session.flash = { kind: 'error', text: error.message };
      }
      return reply.redirect(`${IAM_BASE}/tokens`, 303);
    },
  );

  // ---- Active Directory ---------------------------------------------------------------------------

  app.get(`${IAM_BASE}/active-directory`, guard, async (request, reply) => {
    const refused = repos.settings.entraRefusals();
    return reply.view(
      'pages/active-directory',
      app.pageData(request, reply, {
        active: 'active-directory',
        crumb: breadcrumbFor('active-directory'),
        mode: repos.settings.provisioningMode(),
        refused: { count: refused.count, last: formatTimestamp(refused.lastAt, tz) },
      }),
    );
  });

  app.post<{ Body: { mode: 'scim' | 'entra' } }>(
    `${IAM_BASE}/active-directory`,
    { ...guard, schema: { body: Type.Object({ mode: Type.Union([Type.Literal('scim'), Type.Literal('entra')]), _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const { mode } = request.body;
      const changed = settingsService.setProvisioningMode(mode, actorOf(request));
      request.session.flash = {
        kind: 'ok',
        text: !changed ? 'The provisioning mode is unchanged.' : mode === 'entra' ? 'Entra ID provisioning is on: SCIM requests are now refused (403) and no longer logged.' : 'SCIM provisioning mode is on.',
      };
      return reply.redirect(`${IAM_BASE}/active-directory`, 303);
    },
  );

  // ---- Roles Mapping ------------------------------------------------------------------------------

  app.get(`${IAM_BASE}/roles-mapping`, guard, async (request, reply) =>
    reply.view(
      'pages/roles-mapping',
      app.pageData(request, reply, {
        active: 'roles-mapping',
        crumb: breadcrumbFor('roles-mapping'),
        mappings: repos.accounts.roleMappings(),
        roles: repos.accounts.roles(),
      }),
    ),
  );

  app.post<{ Body: { groupId: string; roleId: string } }>(
    `${IAM_BASE}/roles-mapping`,
    {
      ...guard,
      schema: { body: Type.Object({ groupId: Type.String({ minLength: 1, maxLength: 256 }), roleId: Type.String({ pattern: '^[0-9]*$' }), _csrf: Type.Optional(Type.String()) }) },
    },
    async (request, reply) => {
      const { groupId, roleId } = request.body;
      try {
        const changed = settingsService.setRoleMapping(groupId, roleId === '' ? null : Number(roleId), actorOf(request));
        request.session.flash = { kind: 'ok', text: changed ? 'Role mapping saved.' : 'The role mapping is unchanged.' };
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        request.session.flash = { kind: 'error', text: error.message };
      }
      return reply.redirect(`${IAM_BASE}/roles-mapping`, 303);
    },
  );
}
