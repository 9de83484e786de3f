// CSRF protection of every state-changing console request: without the session's token (missing,
// forged, or another session's) the request gets the 403 page and changes nothing — not even the
// audit trail; with the token in the x-csrf-token header (as htmx sends it) the same request works.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { GROUP_SCHEMA, USER_SCHEMA } from '../helper.js';
import { ADMIN, IAM, LOGS, auditSince, buildConsole, createAccount, lastAuditId, type ConsoleBuilt } from '../console-helper.js';

/** Every table except the session store (which a request legitimately touches), as one string. */
function snapshot(app: FastifyInstance): string {
  const tables = app.database.sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sessions') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' ORDER BY name")
    .all() as { name: string }[];
  const out: Record<string, unknown> = {};
  // rows sorted by their JSON: some tables have no rowid (login_origins is WITHOUT ROWID)
  for (const { name } of tables) out[name] = app.database.sqlite.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort();
  return JSON.stringify(out);
}

interface Case {
  name: string;
  url: (ctx: Ctx) => string;
  fields: (ctx: Ctx) => Record<string, string>;
  /** status of the accepted request */
  ok: number;
  /** the audit action the accepted request writes */
  action: string;
}

interface Ctx {
  built: ConsoleBuilt;
  tokenId: number;
  bobId: number;
  groupId: string;
  adminRoleId: number;
  /** an open red flag (five failed sign-ins of one account) */
  flagId: number;
}

const NEW_PASSWORD = 'a-brand-new-password-1';

const cases: Case[] = [
  { name: 'SCIM Overview: disable SCIM', url: () => `${IAM}/scim`, fields: () => ({ enabled: 'false' }), ok: 303, action: 'SCIM_DISABLED' },
  { name: 'Tokens: create', url: () => `${IAM}/tokens`, fields: () => ({ name: 'csrf-made', expiresInDays: '30', scope: 'scim' }), ok: 201, action: 'TOKEN_CREATED' },
  { name: 'Tokens: revoke', url: (c) => `${IAM}/tokens/${c.tokenId}/revoke`, fields: () => ({}), ok: 303, action: 'TOKEN_REVOKED' },
  { name: 'Active Directory: provisioning mode', url: () => `${IAM}/active-directory`, fields: () => ({ mode: 'entra' }), ok: 303, action: 'PROVISIONING_MODE_CHANGED' },
  { name: 'Roles Mapping', url: () => `${IAM}/roles-mapping`, fields: (c) => ({ groupId: c.groupId, roleId: String(c.adminRoleId) }), ok: 303, action: 'ROLE_MAPPING_CHANGED' },
  { name: 'Profile: change own password', url: () => '/profile/password', fields: () => ({ current: ADMIN.password, next: NEW_PASSWORD, confirm: NEW_PASSWORD }), ok: 303, action: 'CHANGE_PASSWORD' },
  { name: 'Accounts: create', url: () => '/it-settings/accounts', fields: () => ({ username: 'eve', password: 'eve-password-123', role: 'Administrator' }), ok: 303, action: 'ACCOUNT_CREATED' },
  { name: 'Accounts: set a password on behalf', url: (c) => `/it-settings/accounts/${c.bobId}/password`, fields: () => ({ password: NEW_PASSWORD }), ok: 303, action: 'USER_RESET_PASSWORD_ON_BEHALF' },
  { name: 'Red Flags: acknowledge', url: (c) => `${IAM}/red-flags/${c.flagId}`, fields: () => ({ decision: 'acknowledged', note: 'checked with the user' }), ok: 303, action: 'FLAG_ACKNOWLEDGED' },
  { name: 'Red Flags: resolve', url: (c) => `${IAM}/red-flags/${c.flagId}`, fields: () => ({ decision: 'resolved', note: 'password reset' }), ok: 303, action: 'FLAG_RESOLVED' },
  { name: 'Rules: save', url: () => `${IAM}/rules`, fields: () => ({ start: '07:00', end: '19:00', 't.login-brute-force.failures': '3' }), ok: 303, action: 'RULES_CHANGED' },
  { name: 'Sign out', url: () => '/logout', fields: () => ({}), ok: 303, action: 'LOGOUT' },
];

async function setup(t: Test): Promise<Ctx> {
  const built = await buildConsole(t);
  const { app, scim } = built;
  await createAccount(app, 'bob', 'bob-password-1234', 'Employee');
  const user = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'member@example.com' } });
  const group = await scim({ method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA], displayName: 'Admins', members: [{ value: user.json().id }] } });
  t.equal(group.statusCode, 201);
  return {
    built,
    tokenId: app.repos.tokens.byName('test-token')!.id,
    bobId: app.repos.accounts.byUsername('bob')!.id,
    groupId: group.json().id as string,
    adminRoleId: app.repos.accounts.roleByName('Administrator')!.id,
    flagId: bruteForceFlag(app),
  };
}

function bruteForceFlag(app: FastifyInstance): number {
  const at = Date.UTC(2026, 0, 14, 10, 0);
  for (let i = 0; i < 5; i++) {
    app.repos.audit.append({ ts: at + i * 60_000, type: 'Login', protocol: 'API', event: 'Sign In', log: 'failed sign-in (test)', action: 'LOGIN', outcome: 'FAILURE', target: 'jdoe@example.com' });
  }
  const flag = app.database.sqlite.prepare("SELECT id FROM red_flags WHERE rule = 'login-brute-force' AND status = 'open'").get() as { id: number } | undefined;
  if (!flag) throw new Error('no brute-force flag');
  return flag.id;
}

function expectCsrf403(t: Test, res: { statusCode: number; headers: Record<string, unknown>; body: string }, what: string): void {
  t.equal(res.statusCode, 403, `${what}: 403`);
  t.match(String(res.headers['content-type']), /^text\/html/, `${what}: an HTML page`);
  t.match(res.body, /403 Forbidden/, `${what}: the 403 page`);
  t.match(res.body, /CSRF check failed/, `${what}: says why`);
}

for (const c of cases) {
  t.test(`${c.name}: refused without a valid CSRF token, accepted with the x-csrf-token header`, async (t) => {
    const ctx = await setup(t);
    const { app, signedIn } = ctx.built;
    const b = await signedIn();
    const page = await b.get(`${IAM}/scim`);
    t.equal(page.statusCode, 200);
    const token = b.csrf!;
    t.ok(token, 'the page carries a CSRF token');
    // a valid token of another session
    const other = await signedIn();
    await other.get(`${IAM}/scim`);
    const othersToken = other.csrf!;
    t.not(othersToken, token);

    const url = c.url(ctx);
    const fields = c.fields(ctx);
    const before = snapshot(app);
    const mark = lastAuditId(app);

    expectCsrf403(t, await b.post(url, fields, { csrf: null }), 'no _csrf');
    expectCsrf403(t, await b.post(url, fields, { csrf: '' }), 'empty _csrf');
    expectCsrf403(t, await b.post(url, fields, { csrf: 'forged-token' }), 'forged _csrf');
    expectCsrf403(t, await b.post(url, fields, { csrf: othersToken }), "another session's _csrf");
    expectCsrf403(t, await b.post(url, fields, { csrf: null, headers: { 'x-csrf-token': 'forged-token', 'hx-request': 'true' } }), 'forged header');

    t.equal(snapshot(app), before, 'nothing changed');
    t.same(auditSince(app, mark), [], 'no audit entry');
    t.equal((await b.get(LOGS)).statusCode, 200, 'still signed in');

    const res = await b.post(url, fields, { csrf: null, headers: { 'x-csrf-token': token, 'hx-request': 'true' } });
    t.equal(res.statusCode, c.ok, `accepted with the header: ${c.ok}`);
    t.not(snapshot(app), before, 'the change happened');
    t.ok(auditSince(app, mark).some((r) => r.action === c.action && r.outcome === 'SUCCESS' && r.principal === ADMIN.username), `audit ${c.action}`);
  });
}

t.test('POST /login: refused without a session or without its CSRF token', async (t) => {
  const { app, browser } = await buildConsole(t);
  const creds = { username: ADMIN.username, password: ADMIN.password, next: LOGS };
  const before = snapshot(app);
  const mark = lastAuditId(app);

  // no session at all (e.g. a cross-site form post, or a script)
  const fresh = browser();
  const r0 = await fresh.post('/login', creds, { csrf: null });
  expectCsrf403(t, r0, 'no session');
  const r0b = await fresh.post('/login', creds, { csrf: 'forged-token' });
  expectCsrf403(t, r0b, 'no session, forged token');

  // a session (the sign-in page was opened) but no or a wrong token
  const b = browser();
  t.equal((await b.get('/login')).statusCode, 200);
  const token = b.csrf!;
  expectCsrf403(t, await b.post('/login', creds, { csrf: null }), 'no _csrf');
  expectCsrf403(t, await b.post('/login', creds, { csrf: 'forged-token' }), 'forged _csrf');
  const other = browser();
  await other.get('/login');
  expectCsrf403(t, await b.post('/login', creds, { csrf: other.csrf! }), "another session's _csrf");

  t.same(auditSince(app, mark), [], 'no sign-in attempt was logged');
  t.equal(snapshot(app), before, 'nothing changed (no failure counted)');
  t.equal((await b.get(LOGS)).statusCode, 302, 'not signed in');

  const ok = await b.post('/login', creds, { csrf: null, headers: { 'x-csrf-token': token } });
  t.equal(ok.statusCode, 303, 'accepted with the header');
  t.equal((await b.get(LOGS)).statusCode, 200);
});
