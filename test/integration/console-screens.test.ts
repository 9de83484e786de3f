// The IAM Settings screens and the account screens, driven as a browser would: SCIM Overview,
// Tokens, Active Directory, Roles Mapping, Accounts and Profile. Every change is checked in the
// database and in the audit trail (protocol WEB, principal = the signed-in administrator).
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { GROUP_SCHEMA, USER_SCHEMA } from '../helper.js';
import { ADMIN, CLIENT_IP, IAM, LOGS, USER_AGENT, auditSince, buildConsole, decodeHtml, lastAuditId, type Browser } from '../console-helper.js';


function expectWebEntry(t: Test, row: Record<string, unknown> | undefined, action: string, extra: Record<string, unknown> = {}): void {
  t.ok(row, `an ${action} entry`);
  t.match(row, { action, outcome: 'SUCCESS', protocol: 'WEB', principal: ADMIN.username, source_ip: CLIENT_IP, user_agent: USER_AGENT, ...extra }, `${action}: WEB, by ${ADMIN.username}`);
  t.type(row?.ts, 'number', `${action}: timestamped`);
}

function only(t: Test, app: FastifyInstance, mark: number, action: string): Record<string, unknown> | undefined {
  const rows = auditSince(app, mark);
  t.equal(rows.length, 1, `exactly one entry (${action})`);
  return rows.find((r) => r.action === action);
}

/** The <tr> of the token with this name on the Tokens page. */
function tokenRow(html: string, name: string): string | undefined {
  return new RegExp(`<tr class="token-row[^"]*" data-token="${name}">[\\s\\S]*?</tr>`).exec(html)?.[0];
}

t.test('SCIM Overview: state, base URL, counts and the last SCIM request', async (t) => {
  const { signedIn, scim } = await buildConsole(t);
  const b = await signedIn();
  const empty = await b.get(`${IAM}/scim`);
  t.equal(empty.statusCode, 200);
  t.match(empty.body, /<strong class="badge badge-ok" id="scim-state">Enabled<\/strong>/);
  t.match(empty.body, /<code id="scim-base-url">https:\/\/iam\.example\.test\/scim\/v2<\/code>/, 'the base URL from PUBLIC_URL');
  t.match(empty.body, /<dd id="user-count">0<\/dd>/);
  t.match(empty.body, /<dd id="group-count">0<\/dd>/);
  t.match(empty.body, /Last SCIM request<\/dt>\s*<dd>None yet<\/dd>/);
  t.match(empty.body, /1 active SCIM token ·/);

  const u1 = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'a@example.com' } });
  await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'b@example.com' } });
  await scim({ method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA], displayName: 'Staff', members: [{ value: u1.json().id }] } });
  const missing = await scim({ method: 'GET', url: '/Users/does-not-exist' });
  t.equal(missing.statusCode, 404);

  const page = await b.get(`${IAM}/scim`);
  t.match(page.body, /<dd id="user-count">2<\/dd>/);
  t.match(page.body, /<dd id="group-count">1<\/dd>/);
  const last = /Last SCIM request<\/dt>\s*<dd>([\s\S]*?)<\/dd>/.exec(page.body)?.[1] ?? '';
  t.match(last, /<time datetime="\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z">\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}\.\d{3}<\/time>/, 'when');
  t.match(last, /Get User/, 'the last request is the failed Get User');
  t.match(last, /<span class="badge badge-bad">Http 404<\/span>/, 'with its status, flagged');
});

t.test('SCIM Overview: disable and enable SCIM', async (t) => {
  const { signedIn, app, scim } = await buildConsole(t);
  const b = await signedIn();
  await b.get(`${IAM}/scim`);
  let mark = lastAuditId(app);
  const off = await b.post(`${IAM}/scim`, { enabled: 'false' });
  t.equal(off.statusCode, 303);
  t.equal(off.headers.location, `${IAM}/scim`);
  t.equal(app.repos.settings.scimEnabled(), false);
  expectWebEntry(t, only(t, app, mark, 'SCIM_DISABLED'), 'SCIM_DISABLED', { event: 'Disable SCIM', type: 'Settings', target: 'SCIM' });
  const page = await b.get(`${IAM}/scim`);
  t.match(page.body, /id="scim-state">Disabled</);
  t.match(page.body, /<input type="hidden" name="enabled" value="true">/, 'the button now enables');
  t.match(page.body, /SCIM provisioning is disabled: identity providers now get 401\./, 'flash message');
  t.equal((await scim({ method: 'GET', url: '/Users' })).statusCode, 401, 'SCIM now gets 401');

  // the same state again is no change and no entry
  mark = lastAuditId(app);
  t.equal((await b.post(`${IAM}/scim`, { enabled: 'false' })).statusCode, 303);
  t.same(auditSince(app, mark), [], 'no entry for a no-op');

  mark = lastAuditId(app);
  await b.get(`${IAM}/scim`);
  const on = await b.post(`${IAM}/scim`, { enabled: 'true' });
  t.equal(on.statusCode, 303);
  t.equal(app.repos.settings.scimEnabled(), true);
  expectWebEntry(t, auditSince(app, mark).find((r) => r.action === 'SCIM_ENABLED'), 'SCIM_ENABLED', { event: 'Enable SCIM' });
  t.equal((await scim({ method: 'GET', url: '/Users' })).statusCode, 200, 'SCIM works again');

  const bad = await b.post(`${IAM}/scim`, { enabled: 'maybe' });
  t.equal(bad.statusCode, 400, 'an invalid value is a 400 page');
  t.match(bad.body, /400 Bad Request/);
});

t.test('Tokens: create (shown once), list, use, expiring soon, revoke, duplicates', async (t) => {
  const { signedIn, app, scim } = await buildConsole(t);
  const b = await signedIn();
  await b.get(`${IAM}/tokens`);
  const mark = lastAuditId(app);
  const created = await b.post(`${IAM}/tokens`, { name: 'entra-prod', expiresInDays: '365', scope: 'scim' });
  t.equal(created.statusCode, 201);
  t.equal(created.headers['cache-control'], 'no-store', 'the page with the secret is not cached');
  const secret = /<code id="new-token" class="secret">([^<]+)<\/code>/.exec(created.body)?.[1];
  t.ok(secret, 'the token is shown');
  t.match(secret, /^iamt_[A-Za-z0-9_-]{43}$/, 'iamt_ prefix, 256 random bits');
  t.match(created.body, /it is shown only this once/);
  expectWebEntry(t, only(t, app, mark, 'TOKEN_CREATED'), 'TOKEN_CREATED', { target: 'entra-prod' });

  // the secret is nowhere else: not on a later page, not in the database, not in the audit trail
  const later = await b.get(`${IAM}/tokens`);
  t.notMatch(later.body, secret!, 'a later GET does not show it');
  t.notMatch(later.body, /id="new-token"/);
  const dump = JSON.stringify(app.database.sqlite.prepare('SELECT * FROM api_tokens').all()) + JSON.stringify(app.database.sqlite.prepare('SELECT * FROM audit_log').all()) + JSON.stringify(app.database.sqlite.prepare('SELECT * FROM sessions').all());
  t.notMatch(dump, secret!, 'not stored anywhere in clear');

  // it works on /scim/v2, and the list shows its use
  const used = await scim({ method: 'GET', url: '/Users', token: secret! });
  t.equal(used.statusCode, 200, 'the new token authenticates SCIM requests');
  const list = await b.get(`${IAM}/tokens`);
  const row = tokenRow(list.body, 'entra-prod');
  t.ok(row, 'listed');
  const cells = [...(row ?? '').matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.trim());
  t.equal(cells[0], 'entra-prod');
  t.equal(cells[1], 'scim');
  t.match(cells[2], /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}$/, 'created');
  t.match(cells[3], /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}$/, 'expires');
  t.match(cells[4], /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}$/, 'last used');
  t.match(row, /<span class="badge badge-active">active<\/span>/, 'status');
  t.notMatch(row, /expiring-soon/, 'a year away: not highlighted');
  t.match(tokenRow(list.body, 'test-token'), /<td>Never<\/td>\s*<td>Never<\/td>/, 'a never-expiring, never-used token');
  t.match(list.body, /<thead><tr><th scope="col">Name<\/th><th scope="col">Scope<\/th><th scope="col">Created<\/th><th scope="col">Expires<\/th><th scope="col">Last used<\/th><th scope="col">Status<\/th>/);

  // within 20 days of expiry: highlighted
  t.equal((await b.post(`${IAM}/tokens`, { name: 'short-lived', expiresInDays: '10', scope: 'scim' })).statusCode, 201);
  t.equal((await b.post(`${IAM}/tokens`, { name: 'border', expiresInDays: '20', scope: 'scim' })).statusCode, 201);
  t.equal((await b.post(`${IAM}/tokens`, { name: 'later-on', expiresInDays: '30', scope: 'scim' })).statusCode, 201);
  const soon = await b.get(`${IAM}/tokens`);
  t.match(tokenRow(soon.body, 'short-lived'), /^<tr class="token-row expiring-soon"/, '10 days: expiring-soon');
  t.match(tokenRow(soon.body, 'short-lived'), /Expires in 10 days: create a new token/);
  t.match(tokenRow(soon.body, 'border'), /^<tr class="token-row expiring-soon"/, '20 days: expiring-soon');
  t.match(tokenRow(soon.body, 'later-on'), /^<tr class="token-row"/, '30 days: not');

  // duplicate names (case-insensitive) are refused with a message, the form keeps its values
  for (const name of ['entra-prod', 'ENTRA-PROD']) {
    const mark2 = lastAuditId(app);
    const dup = await b.post(`${IAM}/tokens`, { name, expiresInDays: '90', scope: 'scim' });
    t.equal(dup.statusCode, 400, `duplicate ${name}: 400`);
    t.match(decodeHtml(dup.body), `A token named "${name}" already exists`);
    t.match(dup.body, new RegExp(`name="name"[^>]*value="${name}"`), 'the name is kept');
    t.match(dup.body, /<option value="90" selected>/, 'the expiry is kept');
    t.notMatch(dup.body, /id="new-token"/);
    t.same(auditSince(app, mark2), [], 'no entry');
  }
  const badName = await b.post(`${IAM}/tokens`, { name: '<script>', expiresInDays: '90', scope: 'scim' });
  t.equal(badName.statusCode, 400);
  t.notMatch(badName.body, /value="<script>"/, 'escaped');

  // revoke
  const id = /action="\/it-settings\/iam\/tokens\/(\d+)\/revoke"/.exec(tokenRow(soon.body, 'entra-prod') ?? '')?.[1];
  t.ok(id, 'the row has a revoke form');
  t.match(tokenRow(soon.body, 'entra-prod'), /data-confirm="Revoke the token entra-prod\?/);
  const mark3 = lastAuditId(app);
  const revoked = await b.post(`${IAM}/tokens/${id}/revoke`);
  t.equal(revoked.statusCode, 303);
  t.equal(revoked.headers.location, `${IAM}/tokens`);
  expectWebEntry(t, only(t, app, mark3, 'TOKEN_REVOKED'), 'TOKEN_REVOKED', { target: 'entra-prod', resource_id: `token:${id}` });
  const after = await b.get(`${IAM}/tokens`);
  t.match(tokenRow(after.body, 'entra-prod'), /<span class="badge badge-revoked">revoked<\/span>/);
  t.notMatch(tokenRow(after.body, 'entra-prod'), /\/revoke"/, 'no revoke button on a revoked token');
  t.match(after.body, /Token &quot;entra-prod&quot; revoked/, 'flash message');
  const refused = await scim({ method: 'GET', url: '/Users', token: secret! });
  t.equal(refused.statusCode, 401, 'the revoked token gets 401');

  // revoking again, or an unknown id: no entry, a flash error
  const mark4 = lastAuditId(app);
  t.equal((await b.post(`${IAM}/tokens/${id}/revoke`)).statusCode, 303);
  t.equal((await b.post(`${IAM}/tokens/99999/revoke`)).statusCode, 303);
  t.same(auditSince(app, mark4), [], 'no entry for a refused revoke');
  t.equal((await b.post(`${IAM}/tokens/abc/revoke`)).statusCode, 400, 'a non-numeric id is a 400');
});

t.test('Active Directory: Entra ID mode refuses and counts SCIM requests; switching back', async (t) => {
  const { signedIn, app, scim } = await buildConsole(t);
  const b = await signedIn();
  const initial = await b.get(`${IAM}/active-directory`);
  t.match(initial.body, /value="scim" checked/);
  t.match(initial.body, /<dd id="refused-count">0<\/dd>/);

  let mark = lastAuditId(app);
  const res = await b.post(`${IAM}/active-directory`, { mode: 'entra' });
  t.equal(res.statusCode, 303);
  t.equal(app.repos.settings.provisioningMode(), 'entra');
  const row = only(t, app, mark, 'PROVISIONING_MODE_CHANGED');
  expectWebEntry(t, row, 'PROVISIONING_MODE_CHANGED');
  t.match(row?.log, /from SCIM to Microsoft Entra ID/);

  mark = lastAuditId(app);
  const refused = await scim({ method: 'GET', url: '/Users' });
  t.equal(refused.statusCode, 403, 'SCIM gets 403');
  const refused2 = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'x@example.com' } });
  t.equal(refused2.statusCode, 403);
  app.writeQueue.flush();
  t.same(auditSince(app, mark), [], 'refused requests are not logged');
  t.equal(app.repos.settings.entraRefusals().count, 2, 'but counted');
  t.equal(app.repos.users.total(), 0, 'nothing created');

  const page = await b.get(`${IAM}/active-directory`);
  t.match(page.body, /value="entra" checked/);
  t.match(page.body, /<dd id="refused-count">2<\/dd>/, 'the page shows the count');
  t.match(page.body, /Last refused<\/dt><dd><time datetime="[^"]+">\d{2}\/\d{2}\/\d{4}, /);
  t.match((await b.get(`${IAM}/scim`)).body, /Microsoft Entra ID provisioning is active/, 'SCIM Overview warns');

  mark = lastAuditId(app);
  t.equal((await b.post(`${IAM}/active-directory`, { mode: 'scim' })).statusCode, 303);
  t.equal(app.repos.settings.provisioningMode(), 'scim');
  t.match(only(t, app, mark, 'PROVISIONING_MODE_CHANGED')?.log, /from Microsoft Entra ID to SCIM/);
  t.equal((await scim({ method: 'GET', url: '/Users' })).statusCode, 200, 'SCIM works again');
  t.equal((await b.post(`${IAM}/active-directory`, { mode: 'ldap' })).statusCode, 400, 'an unknown mode is a 400');
});

t.test('Roles Mapping: SCIM groups with member counts, map to a role and back', async (t) => {
  const { signedIn, app, scim } = await buildConsole(t);
  const b = await signedIn();
  const emptyPage = await b.get(`${IAM}/roles-mapping`);
  t.match(emptyPage.body, /No groups received yet/);

  const ids: string[] = [];
  for (const userName of ['u1@example.com', 'u2@example.com', 'u3@example.com']) {
    ids.push((await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName } })).json().id as string);
  }
  const auditors = await scim({ method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA], displayName: 'Auditors', members: ids.map((value) => ({ value })) } });
  const nobody = await scim({ method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA], displayName: 'Nobody <yet>' } });
  t.equal(auditors.statusCode, 201);
  t.equal(nobody.statusCode, 201);
  const groupId = auditors.json().id as string;

  const page = await b.get(`${IAM}/roles-mapping`);
  t.match(page.body, /<td>Auditors<\/td>\s*<td>3<\/td>/, 'Auditors: 3 members');
  t.match(page.body, /<td>Nobody &lt;yet&gt;<\/td>\s*<td>0<\/td>/, 'an empty group, escaped');
  for (const role of ['Administrator', 'Compliance Officer', 'Employee']) t.match(page.body, new RegExp(`<option value="\\d+">${role}</option>`), `role ${role} offered`);

  const co = app.repos.accounts.roleByName('Compliance Officer')!;
  let mark = lastAuditId(app);
  const res = await b.post(`${IAM}/roles-mapping`, { groupId, roleId: String(co.id) });
  t.equal(res.statusCode, 303);
  const row = only(t, app, mark, 'ROLE_MAPPING_CHANGED');
  expectWebEntry(t, row, 'ROLE_MAPPING_CHANGED', { target: 'Auditors', resource_id: groupId });
  t.match(row?.log, /Mapped the IdP group "Auditors" to the role Compliance Officer/);
  const mapped = await b.get(`${IAM}/roles-mapping`);
  t.match(mapped.body, new RegExp(`<option value="${co.id}" selected>Compliance Officer</option>`), 'the role is selected');
  t.same(app.repos.accounts.rolesOfScimUser(ids[0]!).map((r) => r.name), ['Compliance Officer']);

  mark = lastAuditId(app);
  t.equal((await b.post(`${IAM}/roles-mapping`, { groupId, roleId: String(co.id) })).statusCode, 303);
  t.same(auditSince(app, mark), [], 'the same mapping again: no entry');

  t.equal((await b.post(`${IAM}/roles-mapping`, { groupId, roleId: '' })).statusCode, 303);
  t.match(only(t, app, mark, 'ROLE_MAPPING_CHANGED')?.log, /Removed the role mapping of the IdP group "Auditors" \(was Compliance Officer\)/);
  t.same(app.repos.accounts.rolesOfScimUser(ids[0]!), []);

  mark = lastAuditId(app);
  t.equal((await b.post(`${IAM}/roles-mapping`, { groupId: 'no-such-group', roleId: String(co.id) })).statusCode, 303);
  t.equal((await b.post(`${IAM}/roles-mapping`, { groupId, roleId: '9999' })).statusCode, 303);
  t.same(auditSince(app, mark), [], 'refused mappings: no entry');
  t.equal((app.database.sqlite.prepare('SELECT count(*) AS n FROM role_mappings').get() as { n: number }).n, 0);
});

async function accountId(b: Browser, username: string): Promise<string | undefined> {
  const page = await b.get('/it-settings/accounts');
  const row = new RegExp(`<td>${username}[\\s\\S]*?</tr>`).exec(page.body)?.[0] ?? '';
  return /action="\/it-settings\/accounts\/(\d+)\/password"/.exec(row)?.[1];
}

t.test('Accounts: create an account, set another account\'s password', async (t) => {
  const { signedIn, browser, app } = await buildConsole(t);
  const b = await signedIn();
  const page = await b.get('/it-settings/accounts');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<td>admin<\/td>\s*<td>Administrator<\/td>/);
  t.match(page.body, /Change your own on your profile/, 'no on-behalf form for oneself');

  let mark = lastAuditId(app);
  const res = await b.post('/it-settings/accounts', { username: 'carol', password: 'carol-password-1', role: 'Compliance Officer' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/it-settings/accounts');
  expectWebEntry(t, only(t, app, mark, 'ACCOUNT_CREATED'), 'ACCOUNT_CREATED', { target: 'carol', type: 'Account' });
  const list = await b.get('/it-settings/accounts');
  t.match(list.body, /<td>carol<\/td>\s*<td>Compliance Officer<\/td>/);
  const carol = browser();
  t.equal((await carol.signIn('carol', 'carol-password-1')).statusCode, 303, 'carol signs in');
  t.equal((await carol.get(LOGS)).statusCode, 200, 'a Compliance Officer opens the Logs');

  for (const [fields, message] of [
    [{ username: 'carol', password: 'another-password-1', role: 'Employee' }, 'An account named &quot;carol&quot; already exists'],
    [{ username: 'dave', password: 'short', role: 'Employee' }, 'A password has at least 12 characters'],
    [{ username: 'dave', password: 'dave-password-12', role: 'Janitor' }, 'No role named &quot;Janitor&quot;'],
    [{ username: 'bad name!', password: 'dave-password-12', role: 'Employee' }, 'A username is 1 to 128'],
  ] as const) {
    mark = lastAuditId(app);
    const r = await b.post('/it-settings/accounts', fields);
    t.equal(r.statusCode, 400, `${message}: 400`);
    t.match(r.body, message);
    t.same(auditSince(app, mark), [], 'no entry');
  }

  const id = await accountId(b, 'carol');
  t.ok(id, 'carol has an on-behalf form');
  mark = lastAuditId(app);
  const reset = await b.post(`/it-settings/accounts/${id}/password`, { password: 'carol-new-password-2' });
  t.equal(reset.statusCode, 303);
  const row = only(t, app, mark, 'USER_RESET_PASSWORD_ON_BEHALF');
  expectWebEntry(t, row, 'USER_RESET_PASSWORD_ON_BEHALF', { target: 'carol' });
  t.not(row?.principal, row?.target, 'principal (admin) ≠ target (carol)');
  t.notMatch(JSON.stringify(row), /carol-new-password-2/, 'the password is not logged');
  t.equal((await browser().signIn('carol', 'carol-password-1')).statusCode, 401, 'the old password no longer works');
  t.equal((await browser().signIn('carol', 'carol-new-password-2')).statusCode, 303, 'the new one does');

  mark = lastAuditId(app);
  const short = await b.post(`/it-settings/accounts/${id}/password`, { password: 'short' });
  t.equal(short.statusCode, 400);
  t.match(short.body, /A password has at least 12 characters/);
  const none = await b.post('/it-settings/accounts/9999/password', { password: 'long-enough-password' });
  t.equal(none.statusCode, 400);
  t.match(none.body, /No such account/);
  t.same(auditSince(app, mark), [], 'no entry for refused resets');
});

t.test('Profile: change your own password', async (t) => {
  const { signedIn, browser, app } = await buildConsole(t);
  const b = await signedIn();
  const page = await b.get('/profile');
  t.equal(page.statusCode, 200);
  t.match(page.body, /Signed in as <strong>admin<\/strong> · roles: Administrator/);
  for (const field of ['current', 'next', 'confirm']) t.match(page.body, new RegExp(`name="${field}"`), `field ${field}`);

  // wrong current password: 400, and a CHANGE_PASSWORD FAILURE entry
  let mark = lastAuditId(app);
  const wrong = await b.post('/profile/password', { current: 'not-my-password', next: 'new-admin-password-1', confirm: 'new-admin-password-1' });
  t.equal(wrong.statusCode, 400);
  t.match(wrong.body, /The current password is wrong/);
  const failure = only(t, app, mark, 'CHANGE_PASSWORD');
  t.match(failure, { outcome: 'FAILURE', principal: ADMIN.username, target: ADMIN.username, protocol: 'WEB', source_ip: CLIENT_IP });

  // too short, or not confirmed: 400, nothing changed, nothing logged
  mark = lastAuditId(app);
  const short = await b.post('/profile/password', { current: ADMIN.password, next: 'short', confirm: 'short' });
  t.equal(short.statusCode, 400);
  t.match(short.body, /A password has at least 12 characters/);
  const mismatch = await b.post('/profile/password', { current: ADMIN.password, next: 'new-admin-password-1', confirm: 'new-admin-password-2' });
  t.equal(mismatch.statusCode, 400);
  t.match(mismatch.body, /The new password and its confirmation differ/);
  t.same(auditSince(app, mark), [], 'no entry');

  // success: principal = target
  const ok = await b.post('/profile/password', { current: ADMIN.password, next: 'new-admin-password-1', confirm: 'new-admin-password-1' });
  t.equal(ok.statusCode, 303);
  t.equal(ok.headers.location, '/profile');
  const row = only(t, app, mark, 'CHANGE_PASSWORD');
  expectWebEntry(t, row, 'CHANGE_PASSWORD', { target: ADMIN.username });
  t.equal(row?.principal, row?.target, 'principal = target');
  t.notMatch(JSON.stringify(auditRows(app)), /new-admin-password-1/, 'the password is not logged');
  t.match((await b.get('/profile')).body, /Your password was changed/, 'flash message');
  t.equal((await b.get(LOGS)).statusCode, 200, 'the session stays signed in');
  t.equal((await browser().signIn(ADMIN.username, ADMIN.password)).statusCode, 401, 'the old password no longer works');
  t.equal((await browser().signIn(ADMIN.username, 'new-admin-password-1')).statusCode, 303, 'the new one does');
});

t.test('Profile: a SCIM user changes their own (pushed) password', async (t) => {
  const { scim, browser, app } = await buildConsole(t);
  t.equal((await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'sam@example.com', password: 'scim-password-123' } })).statusCode, 201);
  const b = browser();
  t.equal((await b.signIn('sam@example.com', 'scim-password-123')).statusCode, 303);
  await b.get('/profile');
  const mark = lastAuditId(app);
  const ok = await b.post('/profile/password', { current: 'scim-password-123', next: 'sams-new-password', confirm: 'sams-new-password' });
  t.equal(ok.statusCode, 303);
  t.match(only(t, app, mark, 'CHANGE_PASSWORD'), { outcome: 'SUCCESS', principal: 'sam@example.com', target: 'sam@example.com' });
  t.equal((await browser().signIn('sam@example.com', 'sams-new-password')).statusCode, 303);
});

function auditRows(app: FastifyInstance): Record<string, unknown>[] {
  return auditSince(app, 0);
}

t.test('answers with audit data are not cached; addresses the router refuses get readable errors', async (t) => {
  const { signedIn, app, scim } = await buildConsole(t);
  const b = await signedIn();
  await scim({ method: 'GET', url: '/Users' });
  const { id } = app.database.sqlite.prepare('SELECT max(id) AS id FROM audit_log').get() as { id: number };
  for (const url of [`${LOGS}/${id}`, `${IAM}/red-flags`, `${IAM}/scim`, '/profile', '/api/v1/catalog']) {
    const res = await b.get(url);
    t.equal(res.statusCode, 200, url);
    t.equal(res.headers['cache-control'], 'no-store', `${url}: no-store`);
  }
  const css = await b.get('/public/css/console.css');
  t.equal(css.statusCode, 200);
  t.not(css.headers['cache-control'], 'no-store', 'the static files keep their caching');

  const bad = await b.get(`${LOGS}/%ZZ`);
  t.equal(bad.statusCode, 400, 'a malformed %-encoding under the console');
  t.match(bad.headers['content-type'], /^text\/html/);
  t.match(bad.body, /<h1>400 Bad Request<\/h1>/);
  t.match(bad.body, /malformed %-encoding/);
  const api = await app.inject({ method: 'GET', url: '/api/v1/logs/%ZZ' });
  t.equal(api.statusCode, 400, 'and under the API');
  t.match(api.headers['content-type'], /^application\/json/);
  t.equal(api.json().error, 'bad_request');

  const tooLarge = await b.post('/login', { username: 'x'.repeat(2_000_000), password: 'y' });
  t.equal(tooLarge.statusCode, 413);
  t.match(tooLarge.body, /<h1>413 Payload Too Large<\/h1>/, 'the page names its status as HTTP does');
});
