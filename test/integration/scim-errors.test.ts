// Every failure under /scim/v2 is an RFC 7644 §3.12 error body (application/scim+json, `status` a
// string), is audited with its HTTP status (except the refusals of Entra ID mode), and leaves the
// server serving.
import { existsSync, readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { createSettingsService } from '../../src/services/settings.js';
import { auditRows, build, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = /^application\/scim\+json/;

type Json = Record<string, any>;
type Res = Awaited<ReturnType<Built['scim']>>;
type Opts = Parameters<Built['scim']>[0];

function expectScimError(t: Test, res: Res, status: number, scimType?: string): Json {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(res.headers['content-type'], SCIM_JSON, 'content-type application/scim+json');
  let body: Json = {};
  try {
    body = res.json() as Json;
  } catch {
    t.fail(`the body is not JSON: ${res.body.slice(0, 200)}`);
    return body;
  }
  t.same(body.schemas, [ERROR_SCHEMA], 'the error schema');
  t.equal(body.status, String(status), 'status is the string form of the HTTP status');
  t.equal(typeof body.status, 'string');
  t.type(body.detail, 'string', 'a detail');
  t.ok(String(body.detail).length > 0);
  if (scimType !== undefined) t.equal(body.scimType, scimType, `scimType ${scimType}`);
  return body;
}

/**
 * Sends one request and checks that exactly one audit row was appended for it, with the response's
 * HTTP status, and that the server still answers a plain GET afterwards.
 */
async function audited(t: Test, b: Built, opts: Opts): Promise<{ res: Res; row: Json }> {
  const before = auditRows(b.app).length;
  const res = await b.scim(opts);
  const rows = auditRows(b.app);
  t.equal(rows.length, before + 1, `one audit row for ${opts.method} ${String(opts.url)}`);
  const row = rows.at(-1)!;
  t.equal(row.http, res.statusCode, 'the audit row has the response status');
  t.equal(row.protocol, 'SCIM');
  t.equal(row.outcome, res.statusCode >= 400 ? 'FAILURE' : 'SUCCESS');
  const health = await b.scim({ method: 'GET', url: '/Users?count=1' });
  t.equal(health.statusCode, 200, 'the server still serves');
  return { res, row };
}

t.test('authentication failures: 401, WWW-Authenticate, audited without the token', async (t) => {
  const b = await build(t);
  const { app, token } = b;
  const actor = { name: 'test', protocol: 'CLI' as const };
  const settings = createSettingsService(app.database.sqlite, app.repos);
  const revoked = settings.createToken({ name: 'revoked-token' }, actor).token;
  settings.revokeToken('revoked-token', actor);
  const expired = settings.createToken({ name: 'expired-token', expiresInDays: 30 }, actor).token;
  const expiredAt = Date.UTC(2024, 0, 15, 10, 30, 0);
  app.database.sqlite.prepare('UPDATE api_tokens SET expires_at = ? WHERE name = ?').run(expiredAt, 'expired-token');
  const wrong = `iamt_${'x'.repeat(43)}`;
  const reader = settings.createToken({ name: 'read-token', scope: 'read' }, actor).token;

  const cases: { name: string; headers: Record<string, string>; log: RegExp; principal: string | null }[] = [
    { name: 'missing Authorization', headers: {}, log: /No Authorization header/, principal: null },
    { name: 'malformed header (Basic)', headers: { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }, log: /not of the form/, principal: null },
    { name: 'malformed header (Bearer without a token)', headers: { authorization: 'Bearer' }, log: /not of the form/, principal: null },
    { name: 'malformed header (token without Bearer)', headers: { authorization: token }, log: /not of the form/, principal: null },
    { name: 'wrong token', headers: { authorization: `Bearer ${wrong}` }, log: /Unknown token/, principal: null },
    { name: 'revoked token', headers: { authorization: `Bearer ${revoked}` }, log: /Token "revoked-token" was revoked at \d{4}-/, principal: 'revoked-token' },
    {
      name: 'expired token',
      headers: { authorization: `Bearer ${expired}` },
      log: new RegExp(`Token "expired-token" expired at ${new Date(expiredAt).toISOString().replace(/\./g, '\\.')}`),
      principal: 'expired-token',
    },
    { name: 'token of another scope', headers: { authorization: `Bearer ${reader}` }, log: /Token "read-token" has scope "read", not "scim"/, principal: 'read-token' },
  ];

  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { res, row } = await audited(t, b, { method: 'GET', url: '/Users', token: null, headers: c.headers });
      expectScimError(t, res, 401);
      t.match(res.headers['www-authenticate'], /^Bearer/, 'WWW-Authenticate: Bearer');
      t.equal(row.type, 'Auth');
      t.equal(row.event, 'Authenticate');
      t.equal(row.action, 'SCIM_AUTH');
      t.equal(row.principal, c.principal);
      t.match(String(row.log), c.log, 'the log says why');
      t.match(String(row.log).split('\n')[0], /^Authentication failed/);
      const text = JSON.stringify(row);
      for (const secret of [token, revoked, expired, wrong, reader, 'dXNlcjpwYXNzd29yZA==']) t.notOk(text.includes(secret), 'no token value in the row');
      t.notOk(text.includes(token.slice(5, 25)), 'not even a part of the valid token');
    });
  }

  await t.test('a write with a bad token changes nothing', async (t) => {
    const { res } = await audited(t, b, { method: 'POST', url: '/Users', token: wrong, payload: { schemas: [USER_SCHEMA], userName: 'intruder@example.com' } });
    expectScimError(t, res, 401);
    const list = (await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "intruder@example.com"' })}` })).json() as Json;
    t.equal(list.totalResults, 0);
  });

  await t.test('a path the router cannot take, with a bad token, is 401 too', async (t) => {
    for (const url of ['/Users/%E0%A4%A', `/Users/${'x'.repeat(300)}`]) {
      const res = await b.scim({ method: 'GET', url, token: 'iamt_wrong' });
      expectScimError(t, res, 401);
      t.equal(res.headers['www-authenticate'], 'Bearer realm="iamtrail SCIM"');
      t.equal(auditRows(b.app).at(-1)!.action, 'SCIM_AUTH', 'logged as a failed authentication');
    }
  });

  await t.test('an unknown path with a bad token is 401, not 404', async (t) => {
    const { res, row } = await audited(t, b, { method: 'GET', url: '/NoSuchThing', token: wrong });
    expectScimError(t, res, 401);
    t.equal(row.type, 'Auth');
  });

  await t.test('the Authorization header value appears in no audit row', async (t) => {
    const all = JSON.stringify(auditRows(app));
    for (const secret of [token, revoked, expired, wrong, reader]) t.notOk(all.includes(secret));
    t.notOk(/Bearer iamt_/.test(all));
  });
});

t.test('SCIM disabled: 401 logged as "SCIM provisioning is disabled"', async (t) => {
  const b = await build(t, {}, { scim: false });
  const { res, row } = await (async () => {
    const before = auditRows(b.app).length;
    const res = await b.scim({ method: 'GET', url: '/Users', token: 'iamt_anything' });
    const rows = auditRows(b.app);
    t.equal(rows.length, before + 1);
    return { res, row: rows.at(-1)! };
  })();
  expectScimError(t, res, 401);
  t.match(res.headers['www-authenticate'], /^Bearer/);
  t.match(res.json().detail, /disabled/);
  t.equal(row.type, 'Auth');
  t.equal(row.http, 401);
  t.match(String(row.log), /SCIM provisioning is disabled/);
  t.notOk(String(row.log).includes('iamt_anything'));
  const post = await b.scim({ method: 'POST', url: '/Users', token: null, payload: { schemas: [USER_SCHEMA], userName: 'x@example.com' } });
  expectScimError(t, post, 401);
  t.equal(b.app.repos.users.total(), 0);
});

t.test('Entra ID mode: 403 SCIM error, not audited, counted', async (t) => {
  const b = await build(t);
  const { app } = b;
  app.repos.settings.set('provisioning_mode', 'entra');
  const before = auditRows(app).length;
  const requests: Opts[] = [
    { method: 'GET', url: '/Users' },
    { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'entra@example.com' } },
    { method: 'GET', url: '/Users', token: null },
    { method: 'GET', url: '/NoSuchThing' },
  ];
  for (const r of requests) {
    const res = await b.scim(r);
    const body = expectScimError(t, res, 403);
    t.match(body.detail, /Entra/);
  }
  // the refusal count is written by the write queue after the response
  for (let i = 0; i < 50 && app.repos.settings.entraRefusals().count < requests.length; i++) await new Promise((r) => setTimeout(r, 10));
  const refusals = app.repos.settings.entraRefusals();
  t.equal(refusals.count, requests.length, 'each refused request is counted');
  t.ok(refusals.lastAt !== null && Math.abs(refusals.lastAt - Date.now()) < 10_000, 'with the time of the last one');
  t.equal(auditRows(app).length, before, 'no audit row');
  t.equal(app.repos.users.total(), 0, 'nothing was created');

  app.repos.settings.set('provisioning_mode', 'scim');
  const back = await b.scim({ method: 'GET', url: '/Users' });
  t.equal(back.statusCode, 200, 'back in SCIM mode the server serves again');
  t.equal(auditRows(app).length, before + 1);
});

t.test('request errors: SCIM bodies, audited, and the server keeps serving', async (t) => {
  const b = await build(t);
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'existing@example.com', emails: [{ value: 'existing@example.com', type: 'work' }] } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const patch = (...Operations: unknown[]) => ({ method: 'PATCH' as const, url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations } });

  const cases: { name: string; opts: Opts; status: number; scimType?: string }[] = [
    { name: 'unknown route', opts: { method: 'GET', url: '/Userz' }, status: 404 },
    { name: 'unknown route under /Users', opts: { method: 'GET', url: '/Users/a/b/c' }, status: 404 },
    // paths the router itself cannot take: they never reach the SCIM scope's hooks
    { name: 'a malformed %-encoding in the path', opts: { method: 'GET', url: '/Users/%E0%A4%A' }, status: 400, scimType: 'invalidSyntax' },
    { name: 'an id longer than any id', opts: { method: 'GET', url: `/Users/${'x'.repeat(300)}` }, status: 404 },
    { name: 'a malformed %-encoding on DELETE', opts: { method: 'DELETE', url: '/Groups/%zz' }, status: 400, scimType: 'invalidSyntax' },
    { name: 'unsupported method on a resource type', opts: { method: 'DELETE', url: '/Users' }, status: 404 },
    { name: 'unknown resource type', opts: { method: 'GET', url: '/ResourceTypes/Printer' }, status: 404 },
    { name: 'unknown schema document', opts: { method: 'GET', url: '/Schemas/urn:nope' }, status: 404 },
    { name: 'malformed JSON', opts: { method: 'POST', url: '/Users', payload: '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ' }, status: 400, scimType: 'invalidSyntax' },
    { name: 'malformed JSON on PATCH', opts: { method: 'PATCH', url: `/Users/${id}`, payload: '{not json' }, status: 400, scimType: 'invalidSyntax' },
    { name: 'empty body', opts: { method: 'POST', url: '/Users', payload: '' , headers: { 'content-type': 'application/scim+json' } }, status: 400 },
    { name: 'a JSON array body', opts: { method: 'POST', url: '/Users', payload: [{ userName: 'x' }] }, status: 400 },
    { name: 'text/plain', opts: { method: 'POST', url: '/Users', payload: 'userName=x', headers: { 'content-type': 'text/plain' } }, status: 415 },
    { name: 'application/xml', opts: { method: 'POST', url: '/Users', payload: '<user/>', headers: { 'content-type': 'application/xml' } }, status: 415 },
    { name: 'form encoded', opts: { method: 'PUT', url: `/Users/${id}`, payload: 'userName=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415 },
    { name: 'userName a number', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 123 } }, status: 400, scimType: 'invalidValue' },
    { name: 'active an object', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'typed@example.com', active: { yes: true } } }, status: 400, scimType: 'invalidValue' },
    { name: 'emails not objects', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'typed@example.com', emails: [42] } }, status: 400, scimType: 'invalidValue' },
    { name: 'name a string', opts: { method: 'PUT', url: `/Users/${id}`, payload: { schemas: [USER_SCHEMA], userName: 'existing@example.com', name: 'Jane' } }, status: 400, scimType: 'invalidValue' },
    { name: 'two primary emails', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'p@example.com', emails: [{ value: 'a@x', primary: true }, { value: 'b@x', primary: true }] } }, status: 400, scimType: 'invalidValue' },
    { name: 'missing userName', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], displayName: 'No Name' } }, status: 400 },
    { name: 'missing displayName on a group', opts: { method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA] } }, status: 400 },
    { name: 'unknown attribute', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'u@example.com', favouriteColour: 'blue' } }, status: 400 },
    { name: 'unknown sub-attribute', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'u@example.com', name: { nick: 'x' } } }, status: 400 },
    { name: 'unknown schema URN', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA, 'urn:example:params:scim:schemas:extension:acme:2.0:User'], userName: 'u@example.com' } }, status: 400 },
    { name: 'schemas not an array', opts: { method: 'POST', url: '/Users', payload: { schemas: USER_SCHEMA, userName: 'u@example.com' } }, status: 400 },
    { name: 'a group schema on a user', opts: { method: 'POST', url: '/Users', payload: { schemas: [GROUP_SCHEMA], userName: 'u@example.com' } }, status: 400 },
    { name: 'PATCH: unknown attribute path', opts: patch({ op: 'replace', path: 'favouriteColour', value: 'blue' }), status: 400, scimType: 'invalidPath' },
    { name: 'PATCH: unterminated filter in path', opts: patch({ op: 'replace', path: 'emails[type eq "work"', value: 'x' }), status: 400, scimType: 'invalidPath' },
    { name: 'PATCH: unknown sub-attribute after a filter', opts: patch({ op: 'replace', path: 'emails[type eq "work"].colour', value: 'x' }), status: 400, scimType: 'invalidPath' },
    { name: 'PATCH: filter on a simple attribute', opts: patch({ op: 'replace', path: 'userName[value eq "x"]', value: 'x' }), status: 400, scimType: 'invalidPath' },
    { name: 'PATCH: unknown extension URN', opts: patch({ op: 'replace', path: 'urn:example:acme:2.0:User:level', value: 'x' }), status: 400, scimType: 'invalidPath' },
    { name: 'PATCH: op "move"', opts: patch({ op: 'move', path: 'title', value: 'x' }), status: 400 },
    { name: 'PATCH: op missing', opts: patch({ path: 'title', value: 'x' }), status: 400 },
    { name: 'PATCH: no Operations', opts: { method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA] } }, status: 400 },
    { name: 'PATCH: empty Operations', opts: patch(), status: 400 },
    { name: 'PATCH: without the PatchOp schema', opts: { method: 'PATCH', url: `/Users/${id}`, payload: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] } }, status: 400 },
    { name: 'PATCH: replace without value', opts: patch({ op: 'replace', path: 'title' }), status: 400 },
    { name: 'PATCH: remove without path', opts: patch({ op: 'remove' }), status: 400, scimType: 'noTarget' },
    { name: 'PATCH: remove a required attribute', opts: patch({ op: 'remove', path: 'userName' }), status: 400 },
    { name: 'PATCH: a read-only attribute', opts: patch({ op: 'replace', path: 'id', value: 'mine' }), status: 400, scimType: 'mutability' },
    { name: 'PATCH: a wrongly typed value', opts: patch({ op: 'replace', path: 'active', value: 'maybe' }), status: 400, scimType: 'invalidValue' },
    { name: 'PATCH: replace with a filter that matches nothing and is not eq', opts: patch({ op: 'replace', path: 'emails[value co "nobody"].value', value: 'x' }), status: 400, scimType: 'noTarget' },
    { name: 'bad sortOrder', opts: { method: 'GET', url: '/Users?sortOrder=sideways' }, status: 400 },
    { name: 'unknown sortBy', opts: { method: 'GET', url: '/Users?sortBy=shoeSize' }, status: 400 },
    { name: 'non-numeric count', opts: { method: 'GET', url: '/Users?count=ten' }, status: 400 },
    { name: '.search with a wrong schema', opts: { method: 'POST', url: '/Users/.search', payload: { schemas: [USER_SCHEMA] } }, status: 400 },
    { name: '.search with a non-numeric count', opts: { method: 'POST', url: '/Users/.search', payload: { count: 'many' } }, status: 400 },
    { name: 'duplicate userName', opts: { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'EXISTING@example.com' } }, status: 409, scimType: 'uniqueness' },
    { name: 'stale If-Match', opts: { ...patch({ op: 'replace', path: 'title', value: 'x' }), headers: { 'if-match': 'W/"41"' } }, status: 412 },
    { name: 'unknown user', opts: { method: 'GET', url: '/Users/00000000-0000-0000-0000-000000000000' }, status: 404 },
    { name: 'unknown group member', opts: { method: 'POST', url: '/Groups', payload: { schemas: [GROUP_SCHEMA], displayName: 'G', members: [{ value: 'nobody' }] } }, status: 400, scimType: 'invalidValue' },
  ];

  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const { res, row } = await audited(t, b, c.opts);
      const body = expectScimError(t, res, c.status, c.scimType);
      t.match(String(row.log).split('\n')[0], new RegExp(`failed \\(${c.status}\\)`), 'the first log line says it failed');
      t.ok(String(row.log).includes(`"status":"${c.status}"`), 'the log records the error response');
      t.ok(String(row.log).includes(body.detail), 'with its detail');
    });
  }

  const after = (await b.scim({ method: 'GET', url: `/Users/${id}` })).json() as Json;
  t.same(after.emails, [{ value: 'existing@example.com', type: 'work' }], 'the failed requests changed nothing');
  t.equal(after.meta.version, created.json().meta.version);
  t.equal(b.app.repos.users.total(), 1);
});

t.test('malformed JSON: the detail says where and what was expected, never quotes the body', async (t) => {
  const b = await build(t);
  const cases: { body: string; secret: string; where: RegExp }[] = [
    // an unquoted password: JSON.parse would quote ~10 characters around it
    { body: '{"userName":"x","password":Pw-1234}', secret: 'Pw-1234', where: /at line 1, column 28 \(character 28\): expected a value/ },
    { body: '{"userName":"x",\n "password":"Line\nBreak-Secret"}', secret: 'Break-Secret', where: /at line 2, column 18 .*control character/ },
    { body: `{"schemas":["${USER_SCHEMA}"],"userName":"y","password":"Unterminated-Secret`, secret: 'Unterminated-Secret', where: /ends too early .*closing double quote/ },
    { body: '{"password" "Missing-Colon-Secret"}', secret: 'Missing-Colon-Secret', where: /column 13 .*':' after a property name/ },
  ];
  for (const c of cases) {
    const { res, row } = await audited(t, b, { method: 'POST', url: '/Users', payload: c.body });
    const body = expectScimError(t, res, 400, 'invalidSyntax');
    t.match(body.detail, /^Malformed JSON: /);
    t.match(body.detail, c.where, `the detail says where: ${body.detail}`);
    t.notOk(res.body.includes(c.secret), 'the response does not quote the body');
    t.notOk(JSON.stringify(row).includes(c.secret), 'nor does the audit entry');
  }
  b.app.writeQueue.flush();
  const path = b.config.DATABASE_PATH;
  for (const file of [path, `${path}-wal`].filter((f) => existsSync(f))) {
    const bytes = readFileSync(file);
    for (const c of cases) t.equal(bytes.indexOf(Buffer.from(c.secret)), -1, `${file.split('/').pop()} does not contain ${c.secret}`);
  }
});

t.test('bodies nested thousands of levels deep are 400s, audited, never a 500', async (t) => {
  const b = await build(t);
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'deep@example.com' } });
  const id = created.json().id as string;
  const cases: Opts[] = [
    { method: 'POST', url: '/Users', payload: `{"schemas":["${USER_SCHEMA}"],"userName":"d1","name":${deep(5000)}}` },
    { method: 'POST', url: '/Users', payload: '['.repeat(100_000) + ']'.repeat(100_000) },
    { method: 'PATCH', url: `/Users/${id}`, payload: `{"schemas":["${PATCH_SCHEMA}"],"Operations":[{"op":"add","value":${deep(5000)}}]}` },
    { method: 'POST', url: '/Groups', payload: `{"schemas":["${GROUP_SCHEMA}"],"displayName":"g","members":[${deep(5000)}]}` },
  ];
  for (const opts of cases) {
    const { res, row } = await audited(t, b, opts);
    expectScimError(t, res, 400);
    t.ok(String(row.log).length < 20_000, 'the logged body is cut, not serialised whole');
  }
});

t.test('malformed filters are 400 invalidFilter, never an empty 200', async (t) => {
  const b = await build(t);
  await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'someone@example.com' } });
  const userFilters = [
    'userName eq',
    'userName',
    'userName xx "a"',
    'userName eq a',
    'userName eq "a" and',
    'userName eq "a" or or title eq "b"',
    '(userName eq "a"',
    'userName eq "a")',
    'not userName eq "a"',
    'userName eq "unterminated',
    'emails[type eq "work"',
    'emails[type eq "work"]]',
    'emails[type eq "work" and emails[value eq "x"]]',
    'userName pr "x"',
    'nosuchattribute eq "x"',
    'name.nosuchsub eq "x"',
    'urn:example:acme:2.0:User:level eq "x"',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize eq "x"',
    'emails[colour eq "red"]',
    'meta.nosuch eq "x"',
    'active eq "yes"',
    'active gt true',
    'meta.lastModified gt "not a date"',
    'meta.created co "2024"',
    'userName eq 12abc',
    'name.givenName.extra eq "x"',
    'password eq "x"',
    ' ',
    // a sub-attribute after a value filter (as Entra ID sends it) must still name a real one
    'emails[type eq "work"].nosuch eq "x"',
    'emails[type eq "work"].value',
    'emails[type eq "work"].value eq 1',
    'emails[type eq "work"].value.display eq "x"',
    'emails[type eq "work"].',
    'userName[type eq "work"].value eq "x"',
    'name[givenName pr].nosuch pr',
  ];
  for (const filter of userFilters) {
    await t.test(`Users: ${JSON.stringify(filter)}`, async (t) => {
      const { res } = await audited(t, b, { method: 'GET', url: `/Users?${qs({ filter })}` });
      expectScimError(t, res, 400, 'invalidFilter');
    });
  }
  await t.test('an empty filter parameter', async (t) => {
    const { res } = await audited(t, b, { method: 'GET', url: '/Users?filter=' });
    expectScimError(t, res, 400, 'invalidFilter');
  });
  await t.test('.search with a malformed filter', async (t) => {
    const { res } = await audited(t, b, { method: 'POST', url: '/Users/.search', payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq' } });
    expectScimError(t, res, 400, 'invalidFilter');
  });
  await t.test('the detail names the unknown sub-attribute after a value filter', async (t) => {
    const { res } = await audited(t, b, { method: 'GET', url: `/Users?${qs({ filter: 'emails[type eq "work"].nosuch eq "x"' })}` });
    const body = expectScimError(t, res, 400, 'invalidFilter');
    t.match(body.detail, 'Unknown sub-attribute "nosuch" of emails');
  });
  for (const filter of ['displayName eq', 'userName eq "x"', 'members[display eq "x"]', 'members.nosuch eq "x"', 'members[type eq "User"].display eq "x"']) {
    await t.test(`Groups: ${JSON.stringify(filter)}`, async (t) => {
      const { res } = await audited(t, b, { method: 'GET', url: `/Groups?${qs({ filter })}` });
      expectScimError(t, res, 400, 'invalidFilter');
    });
  }
});

t.test('413: a body over SCIM_BODY_LIMIT', async (t) => {
  const b = await build(t, { SCIM_BODY_LIMIT: '4096' });
  const big = { schemas: [USER_SCHEMA], userName: 'big@example.com', displayName: 'x'.repeat(5000) };
  const { res, row } = await audited(t, b, { method: 'POST', url: '/Users', payload: big });
  const body = expectScimError(t, res, 413);
  t.match(body.detail, /4096/);
  t.notOk(String(row.log).includes('x'.repeat(100)), 'the oversized body is not logged');
  t.equal(b.app.repos.users.total(), 0);
  const small = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'small@example.com', displayName: 'x'.repeat(3000) } });
  t.equal(small.statusCode, 201, 'a body under the limit is accepted');
  const patchBig = await audited(t, b, {
    method: 'PATCH',
    url: `/Users/${small.json().id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'y'.repeat(5000) }] },
  });
  expectScimError(t, patchBig.res, 413);
});

t.test('413: the default limit is 1 MiB', async (t) => {
  const b = await build(t);
  const { res } = await audited(t, b, { method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'huge@example.com', displayName: 'z'.repeat(1024 * 1024 + 10) } });
  expectScimError(t, res, 413);
});

t.test('accepted variants: content-type parameters, application/json, a lower-case bearer scheme', async (t) => {
  const b = await build(t);
  const withCharset = await b.scim({
    method: 'POST',
    url: '/Users',
    payload: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'charset@example.com' }),
    headers: { 'content-type': 'application/scim+json; charset=utf-8' },
  });
  t.equal(withCharset.statusCode, 201, 'application/scim+json; charset=utf-8');
  const plainJson = await b.scim({
    method: 'POST',
    url: '/Users',
    payload: JSON.stringify({ schemas: [USER_SCHEMA], userName: 'json@example.com' }),
    headers: { 'content-type': 'application/json' },
  });
  t.equal(plainJson.statusCode, 201, 'application/json');
  t.match(plainJson.headers['content-type'], SCIM_JSON, 'the answer is application/scim+json anyway');
  const lower = await b.scim({ method: 'GET', url: '/Users', token: null, headers: { authorization: `bearer ${b.token}` } });
  t.equal(lower.statusCode, 200, 'the auth scheme is case-insensitive (RFC 7235)');
});

t.test('a filter longer than the limit is a 400 invalidFilter', async (t) => {
  const b = await build(t);
  const filter = `userName eq "${'a'.repeat(10_050)}"`;
  const { res } = await audited(t, b, { method: 'GET', url: `/Users?${qs({ filter })}` });
  t.equal(res.statusCode, 400);
  t.match(res.headers['content-type'], SCIM_JSON);
  t.equal(res.json().scimType, 'invalidFilter', 'scimType invalidFilter');
  const search = await b.scim({ method: 'POST', url: '/Users/.search', payload: { filter } });
  t.equal(search.statusCode, 400);
  t.equal(search.json().scimType, 'invalidFilter', '.search: scimType invalidFilter');
});

t.test('over real HTTP: a query string over 16 KB is a SCIM 431 that says what to do, and is logged', async (t) => {
  const b = await build(t);
  await b.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = b.app.server.address() as { port: number };
  const filter = Array.from({ length: 600 }, (_, i) => `userName eq "user${i}@example.com"`).join(' or ');
  const before = auditRows(b.app).length;
  const res = await fetch(`http://127.0.0.1:${port}/scim/v2/Users?filter=${encodeURIComponent(filter)}`, { headers: { authorization: `Bearer ${b.token}` } });
  t.equal(res.status, 431);
  t.match(res.headers.get('content-type'), SCIM_JSON);
  const body = (await res.json()) as Json;
  t.same(body.schemas, [ERROR_SCHEMA]);
  t.equal(body.status, '431');
  t.match(body.detail, /over 16 KB\. Send a long filter in the body of POST \/scim\/v2\/Users\/\.search/);
  // the entry is written as the answer leaves: wait for it
  for (let i = 0; i < 50 && auditRows(b.app).length === before; i++) await new Promise((r) => setTimeout(r, 20));
  const rows = auditRows(b.app);
  t.equal(rows.length, before + 1, 'one audit entry');
  const row = rows.at(-1)!;
  t.match(row, { protocol: 'SCIM', http: 431, outcome: 'FAILURE', event: 'Unknown Endpoint', source_ip: '127.0.0.1' });
  t.match(String(row.log), /^Unknown Endpoint failed \(431\): The request line and headers are over 16 KB/);
  t.match(String(row.log), /\nGET \/scim\/v2\/Users\?filter=userName%20eq%20/, 'the request line, cut');
  t.ok(String(row.log).length < 3000, 'the huge query string is not stored whole');
  t.notMatch(String(row.log), b.token, 'no token');

  // outside /scim/v2: Fastify's JSON answer, nothing logged
  const other = await fetch(`http://127.0.0.1:${port}/api/v1/logs?x=${'a'.repeat(20_000)}`);
  t.equal(other.status, 431);
  t.match(other.headers.get('content-type'), /^application\/json/);
  t.equal(auditRows(b.app).length, before + 1);
  // and the server still serves
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
});
