// IT Settings › IAM Settings › Red Flags and › Rules: the flags the rules raised (acknowledge or
// resolve with a note) and the rules' thresholds and context.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HH_MM, isValidWindow, parseContext, type RuleContext, type RulesConfig } from '../../audit/rule-config.js';
import { isValidTimeZone } from '../../config.js';
import { describeRule } from '../../audit/rule-engine.js';
import type { FlagStatus } from '../../db/flag-repository.js';
import { SettingsError, type Actor } from '../../services/settings.js';
import { HttpPageError } from './index.js';
import { flagView, logRowView } from './logs.js';
import { IAM_BASE, breadcrumbFor } from './nav.js';

const FLAGS_URL = `${IAM_BASE}/red-flags`;
const RULES_URL = `${IAM_BASE}/rules`;
const PAGE = 50;
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const actorOf = (request: FastifyRequest): Actor => ({
  name: request.viewer!.principal.username,
  protocol: 'WEB',
  ip: request.ip,
  userAgent: request.headers['user-agent'] ?? null,
});

const lines = (text: string | undefined) => (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** "user@example.com: SAP, Exchange" lines → { user: [systems] } */
function parseExpected(text: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of lines(text)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).split(',').map((s) => s.trim()).filter(Boolean);
  }
  return out;
}

/** "2026-01-10T22:00Z 2026-01-11T02:00Z quarterly patching" lines → windows */
function parseWindows(text: string | undefined): RuleContext['maintenanceWindows'] {
  return lines(text).map((line) => {
    const [start = '', end = '', ...note] = line.split(/\s+/);
    return { start, end, note: note.join(' ') };
  });
}

export default async function redFlagRoutes(app: FastifyInstance): Promise<void> {
  const guard = { preHandler: app.requirePermission() };
  const { repos, settingsService, config } = app;
  const tz = config.TZ;

  app.get<{ Querystring: { status?: FlagStatus | 'all'; before?: number } }>(
    FLAGS_URL,
    {
      ...guard,
      schema: {
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved'), Type.Literal('all')])),
          before: Type.Optional(Type.Integer({ minimum: 1 })),
        }),
      },
    },
    async (request, reply) => {
      const status = request.query.status ?? 'open';
      const list = repos.flags.list({ status: status === 'all' ? undefined : status, before: request.query.before, limit: PAGE + 1 });
      const hasMore = list.length > PAGE;
      const flags = list.slice(0, PAGE).map((f) => ({
        ...flagView(f, tz),
        entries: repos.flags.entryIds(f.id, 5).map((id) => ({ id, href: `${IAM_BASE}/logs/${id}` })),
      }));
      const nextUrl = hasMore ? `${FLAGS_URL}?status=${status}&before=${flags[flags.length - 1]!.id}` : null;
      return reply.view(
        'pages/red-flags',
        app.pageData(request, reply, { active: 'red-flags', crumb: breadcrumbFor('red-flags'), flags, status, nextUrl, openCount: repos.flags.openCount() }),
      );
    },
  );

  app.get<{ Params: { id: number } }>(`${FLAGS_URL}/:id`, { ...guard, schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, async (request, reply) => {
    const flag = repos.flags.byId(request.params.id);
    if (!flag) throw new HttpPageError(404, `There is no red flag #${request.params.id}.`);
    const entries = repos.flags
      .entryIds(flag.id, 200)
      .map((id) => repos.audit.byId(id))
      .filter((e) => e !== undefined)
      .map((e) => logRowView(e, tz));
    return reply.view('pages/red-flag', app.pageData(request, reply, { active: 'red-flags', crumb: breadcrumbFor('red-flags'), flag: flagView(flag, tz), entries, error: null }));
  });

  app.post<{ Params: { id: number }; Body: { decision: 'acknowledged' | 'resolved'; note: string } }>(
    `${FLAGS_URL}/:id`,
    {
      ...guard,
      schema: {
        params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
        body: Type.Object({
          decision: Type.Union([Type.Literal('acknowledged'), Type.Literal('resolved')]),
          note: Type.String({ maxLength: 4000 }),
          _csrf: Type.Optional(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      try {
        settingsService.closeFlag(request.params.id, request.body.decision, request.body.note, actorOf(request));
        request.session.flash = { kind: 'ok', text: `Red flag #${request.params.id} ${request.body.decision}.` };
        return reply.redirect(FLAGS_URL, 303);
      } catch (error) {
        if (!(error instanceof SettingsError)) throw error;
        request.session.flash = { kind: 'error', text: error.message };
        return reply.redirect(`${FLAGS_URL}/${request.params.id}`, 303);
      }
    },
  );

  // ---- Rules --------------------------------------------------------------------------------------

  /** The Rules form: the saved settings, or (after a refused save) what was typed, with the reason. */
  interface RulesForm {
    enabled: (id: string) => boolean;
    threshold: (id: string, name: string) => string | number;
    context: { serviceAccounts: string; start: string; end: string; days: number[]; timeZone: string; windows: string; onLeave: string; terminated: string; expected: string };
  }

  function savedForm(): RulesForm {
    const context = repos.rules.context();
    const statuses = new Map(repos.rules.statuses().map((s) => [s.rule.id, s]));
    return {
      enabled: (id) => statuses.get(id)!.enabled,
      threshold: (id, name) => statuses.get(id)!.thresholds[name]!,
      context: {
        serviceAccounts: context.serviceAccounts.join('\n'),
        start: context.businessHours.start,
        end: context.businessHours.end,
        days: context.businessHours.days,
        timeZone: context.businessHours.timeZone,
        windows: context.maintenanceWindows.map((w) => `${w.start} ${w.end} ${w.note}`.trim()).join('\n'),
        onLeave: context.onLeave.join('\n'),
        terminated: context.terminated.join('\n'),
        expected: Object.entries(context.expectedSystems).map(([u, s]) => `${u}: ${s.join(', ')}`).join('\n'),
      },
    };
  }

  function renderRules(request: FastifyRequest, reply: FastifyReply, form: RulesForm, error?: string) {
    const rules = repos.rules.statuses().map((s) => ({
      ...describeRule(s),
      enabled: form.enabled(s.rule.id),
      thresholds: Object.entries(s.rule.thresholds).map(([name, t]) => ({ name, label: t.label, value: form.threshold(s.rule.id, name), default: t.default, max: t.max })),
    }));
    const { days, ...context } = form.context;
    return reply.view(
      'pages/rules',
      app.pageData(request, reply, {
        active: 'rules',
        crumb: breadcrumbFor('rules'),
        rules,
        context: { ...context, days: DAY_NAMES.map((name, i) => ({ value: i, name, checked: days.includes(i) })) },
        ...(error ? { flash: { kind: 'error', text: error } } : {}),
      }),
    );
  }

  app.get(RULES_URL, guard, async (request, reply) => renderRules(request, reply, savedForm()));

  app.post<{ Body: Record<string, string | string[]> }>(
    RULES_URL,
    { ...guard, schema: { body: Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 100_000 }), Type.Array(Type.String({ maxLength: 100 }))])) } },
    async (request, reply) => {
      const b = request.body;
      const one = (key: string) => (Array.isArray(b[key]) ? (b[key] as string[])[0] : (b[key] as string | undefined));
      // Everything is checked before anything is saved: a value that cannot be used is named in
      // the message and the whole form is refused (a silently ignored value would leave a rule
      // judging with settings other than the ones its owner typed).
      const problems: string[] = [];
      const rawDays = Array.isArray(b.days) ? b.days : b.days ? [b.days] : [];
      const days = rawDays.map(Number);
      if (days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) problems.push(`business days must be 0 (Sunday) to 6 (Saturday) (got ${rawDays.join(', ')})`);
      const start = one('start') ?? '';
      const end = one('end') ?? '';
      for (const time of [start, end]) if (!HH_MM.test(time)) problems.push(`business hours need times as HH:MM, 00:00 to 23:59 (got "${time}")`);
      const timeZone = one('timeZone')?.trim() || tz;
      if (!isValidTimeZone(timeZone)) problems.push(`the time zone "${timeZone}" is not a known IANA time zone (e.g. Europe/Paris)`);
      const windows = parseWindows(one('windows'));
      const badWindows = windows.filter((w) => !isValidWindow({ ...w }));
      if (badWindows.length > 0) {
        problems.push(
          `maintenance windows need a start before the end, both ISO 8601 with a zone (e.g. 2026-01-10T22:00:00Z or +01:00). Check: ${badWindows.map((w) => `${w.start} ${w.end}`.trim()).join('; ')}`,
        );
      }
      const badExpected = lines(one('expected')).filter((line) => line.indexOf(':') <= 0);
      for (const line of badExpected) problems.push(`expected systems: "${line}" is not "user: system, system"`);

      const rulesConfig: RulesConfig = {};
      const changes: string[] = [];
      for (const s of repos.rules.statuses()) {
        const enabled = one(`enabled.${s.rule.id}`) === 'on';
        const thresholds: Record<string, number> = {};
        for (const [name, threshold] of Object.entries(s.rule.thresholds)) {
          const raw = one(`t.${s.rule.id}.${name}`);
          // a field the form did not send keeps its value
          const v = raw === undefined ? s.thresholds[name]! : /^\s*\d{1,9}\s*$/.test(raw) ? Number(raw) : Number.NaN;
          if (!(v >= 1 && v <= threshold.max)) {
            problems.push(`${s.rule.name}: ${threshold.label} must be a whole number from 1 to ${threshold.max.toLocaleString('en-US')} (got "${raw}")`);
            continue;
          }
          thresholds[name] = v;
          if (v !== s.thresholds[name]) changes.push(`${s.rule.id} ${name} ${s.thresholds[name]} → ${v}`);
        }
        if (enabled !== s.enabled) changes.push(`${s.rule.id} ${enabled ? 'enabled' : 'disabled'}`);
        rulesConfig[s.rule.id] = { enabled, thresholds };
      }
      if (problems.length > 0) {
        // the form comes back as it was typed, so that fixing one value does not mean typing the rest again
        const saved = savedForm();
        reply.code(400);
        return renderRules(request, reply, {
          enabled: (id) => one(`enabled.${id}`) === 'on',
          threshold: (id, name) => one(`t.${id}.${name}`) ?? saved.threshold(id, name),
          context: {
            serviceAccounts: one('serviceAccounts') ?? '',
            start,
            end,
            days: days.filter((d) => Number.isInteger(d)),
            timeZone: one('timeZone') ?? '',
            windows: one('windows') ?? '',
            onLeave: one('onLeave') ?? '',
            terminated: one('terminated') ?? '',
            expected: one('expected') ?? '',
          },
        }, `Nothing saved: ${problems.join('; ')}.`);
      }

      const context = parseContext(
        {
          serviceAccounts: lines(one('serviceAccounts')),
          businessHours: { start, end, days, timeZone },
          maintenanceWindows: windows,
          onLeave: lines(one('onLeave')),
          terminated: lines(one('terminated')),
          expectedSystems: parseExpected(one('expected')),
        },
        tz,
      );
      const before = repos.rules.context();
      for (const key of Object.keys(context) as (keyof RuleContext)[]) {
        if (JSON.stringify(before[key]) !== JSON.stringify(context[key])) changes.push(`context ${key} updated`);
      }
      if (changes.length === 0) {
        // a save that changes nothing is not a settings change: no audit entry
        request.session.flash = { kind: 'ok', text: 'Nothing changed.' };
        return reply.redirect(RULES_URL, 303);
      }
      settingsService.saveRules(rulesConfig, context, actorOf(request), changes.join('; '));
      request.session.flash = { kind: 'ok', text: `Rules saved (${changes.length} change${changes.length > 1 ? 's' : ''}).` };
      return reply.redirect(RULES_URL, 303);
    },
  );
}
