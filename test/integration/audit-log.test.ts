// The audit trail: append-only in the database, written in the same transaction as the change it
// records, one entry per SCIM request, secrets redacted, a readable log text.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { auditRows, build, PATCH_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SCIM_JSON = /^application\/scim\+json/;
const UA = 'iamtrail-audit-test/1.0 (+https://example.test)';

type Json = Record<string, any>;

function dbFiles(b: Built): string[] {
  const path = b.config.DATABASE_PATH;
  return [path, `${path}-wal`, `${path}-shm`].filter((f) => existsSync(f));
}

t.test('audit_log is append-only: UPDATE and DELETE are refused by the database', async (t) => {
  const b = await build(t);
  const { sqlite } = b.app.database;
  await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'append@example.com' } });
  const before = auditRows(b.app);
  t.ok(before.length >= 2, 'there are entries to tamper with');
  const first = before[0]!;

  t.throws(() => sqlite.prepare("UPDATE audit_log SET log = 'tampered' WHERE id = ?").run(first.id), /append-only/, 'UPDATE one row');
  t.throws(() => sqlite.prepare("UPDATE audit_log SET outcome = 'SUCCESS'").run(), /append-only/, 'UPDATE every row');
  t.throws(() => sqlite.prepare('DELETE FROM audit_log WHERE id = ?').run(first.id), /append-only/, 'DELETE one row');
  t.throws(() => sqlite.prepare('DELETE FROM audit_log').run(), /append-only/, 'DELETE every row');
  t.throws(() => sqlite.prepare('UPDATE audit_log SET id = id + 1000 WHERE id = ?').run(first.id), /append-only/, 'renumbering');
  t.throws(
    () => sqlite.prepare("INSERT INTO audit_log (id, type, protocol, event, log) VALUES (?, 'X', 'X', 'X', 'x') ON CONFLICT(id) DO UPDATE SET log = 'upserted'").run(first.id),
    /append-only/,
    'an upsert over an entry',
  );
  t.same(auditRows(b.app), before, 'the trail is unchanged');

  const after = await b.scim({ method: 'GET', url: '/Users' });
  t.equal(after.statusCode, 200, 'the server still serves and still appends');
  t.equal(auditRows(b.app).length, before.length + 1);
});

t.test(
  'audit_log is append-only: REPLACE cannot overwrite an entry either',
  async (t) => {
    const b = await build(t);
    const { sqlite } = b.app.database;
    const before = auditRows(b.app);
    const first = before[0]!;
    t.throws(
      () => sqlite.prepare("INSERT OR REPLACE INTO audit_log (id, type, protocol, event, log) VALUES (?, 'X', 'X', 'X', 'replaced')").run(first.id),
      'INSERT OR REPLACE over an entry',
    );
    t.throws(() => sqlite.prepare("REPLACE INTO audit_log (id, type, protocol, event, log) VALUES (?, 'X', 'X', 'X', 'replaced')").run(first.id), 'REPLACE INTO over an entry');
    t.same(auditRows(b.app), before, 'the trail is unchanged');
  },
);

t.test('a change and its audit entry commit together: a failing audit insert undoes the change', async (t) => {
  const b = await build(t);
  const { sqlite } = b.app.database;
  sqlite.exec(`CREATE TRIGGER t BEFORE INSERT ON audit_log WHEN NEW.event = 'Create User' BEGIN SELECT RAISE(ABORT, 'forced'); END;`);
  t.teardown(() => {
    if (sqlite.open) sqlite.exec('DROP TRIGGER IF EXISTS t');
  });

  const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'doomed@example.com', password: 'Doomed-Pa55' } });
  t.ok(res.statusCode >= 500 && res.statusCode < 600, `a 5xx (${res.statusCode})`);
  t.match(res.headers['content-type'], SCIM_JSON);
  const body = res.json() as Json;
  t.same(body.schemas, [ERROR_SCHEMA]);
  t.equal(body.status, String(res.statusCode));
  t.type(body.detail, 'string');
  t.notOk(String(body.detail).includes('forced'), 'no database internals in the response');
  t.notOk(res.headers.location, 'no Location');

  const found = (await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "doomed@example.com"' })}` })).json() as Json;
  t.equal(found.totalResults, 0, 'the user was not created');
  t.equal(b.app.repos.users.total(), 0);
  t.equal(auditRows(b.app).filter((r) => r.event === 'Create User').length, 0, "no 'Create User' entry");

  // the server still serves: other writes and their entries go through
  const group = await b.scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Still works' } });
  t.equal(group.statusCode, 201);
  t.ok(auditRows(b.app).some((r) => r.event === 'Create Group' && r.resource_id === group.json().id));

  sqlite.exec('DROP TRIGGER t');
  const retry = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'doomed@example.com' } });
  t.equal(retry.statusCode, 201, 'without the trigger the same create succeeds');
  t.equal(auditRows(b.app).filter((r) => r.event === 'Create User').length, 1);
});

t.test('a failed change is rolled back but still audited once', async (t) => {
  const b = await build(t);
  const u = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'one@example.com' } });
  await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'two@example.com' } });
  const before = auditRows(b.app).length;
  const res = await b.scim({
    method: 'PATCH',
    url: `/Users/${u.json().id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'Boss' }, { op: 'replace', path: 'userName', value: 'two@example.com' }] },
  });
  t.equal(res.statusCode, 409);
  const rows = auditRows(b.app);
  t.equal(rows.length, before + 1, 'one entry');
  const row = rows.at(-1)!;
  t.equal(row.http, 409);
  t.equal(row.outcome, 'FAILURE');
  t.equal(row.event, 'Update User');
  t.match(String(row.log), /^Update User failed \(409\)/);
  const got = (await b.scim({ method: 'GET', url: `/Users/${u.json().id}` })).json() as Json;
  t.notOk(got.title, 'the first operation was rolled back with the second');
  t.equal(got.meta.version, u.json().meta.version);
});

t.test('passwords are redacted from the trail and absent from the database files', async (t) => {
  const b = await build(t);
  const onCreate = 'Cr3ate-Secret-abc';
  const onPatch = 'S3cret-xyz';
  const onPathless = 'S3cret-pathless-xyz';
  const onFailure = 'S3cret-failed-xyz';
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'redact@example.com', password: onCreate } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const patched = await b.scim({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'password', value: onPatch }] } });
  t.equal(patched.statusCode, 200);
  const pathless = await b.scim({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', value: { password: onPathless, title: 'x' } }] } });
  t.equal(pathless.statusCode, 200);
  const failed = await b.scim({
    method: 'PATCH',
    url: `/Users/${id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'password', value: onFailure }, { op: 'replace', path: 'nosuch', value: 1 }] },
  });
  t.equal(failed.statusCode, 400);
  const secretQuery = await b.scim({ method: 'GET', url: `/Users?${qs({ access_token: 'Query-S3cret', count: 1 })}` });
  t.equal(secretQuery.statusCode, 200);

  const rows = auditRows(b.app);
  const secrets = [onCreate, onPatch, onPathless, onFailure, 'Query-S3cret'];
  for (const row of rows) for (const s of secrets) t.notOk(JSON.stringify(row).includes(s), `row ${row.id} (${row.event}) does not contain ${s}`);
  const patchRows = rows.filter((r) => r.event === 'Update User');
  t.equal(patchRows.length, 3);
  t.ok(patchRows.every((r) => String(r.log).includes('[REDACTED]')), 'each PATCH entry shows a redacted value');
  t.match(String(rows.find((r) => r.event === 'Create User')!.log), /"password":"\[REDACTED\]"/);
  t.match(String(rows.at(-1)!.log), /access_token=\[REDACTED\]/, 'secret-looking query parameters are redacted');

  b.app.writeQueue.flush();
  for (const file of dbFiles(b)) {
    const bytes = readFileSync(file);
    for (const s of secrets) t.equal(bytes.indexOf(Buffer.from(s)), -1, `${file.split('/').pop()} does not contain ${s}`);
  }
});

t.test('a password PATCH with capitalised keys (Op/Path/Value, OPERATIONS, Password) is set and never logged', async (t) => {
  const b = await build(t);
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'caps@example.com', password: 'Initial-Pa55-caps' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const hashOf = () => (b.app.database.sqlite.prepare('SELECT password_hash AS h FROM scim_users WHERE id = ?').get(id) as { h: string | null }).h;
  const patch = (body: Json) => b.scim({ method: 'PATCH', url: `/Users/${id}`, payload: body });

  // each body sets a new password; each is what an identity provider (or a curious client) may send
  const cases: [string, Json][] = [
    ['Op/Path/Value', { schemas: [PATCH_SCHEMA], Operations: [{ Op: 'Replace', Path: 'password', Value: 'Leaked-Password-42' }] }],
    ['OP/PATH/VALUE, OPERATIONS', { schemas: [PATCH_SCHEMA], OPERATIONS: [{ OP: 'add', PATH: 'PASSWORD', VALUE: 'Leaked-Password-43' }] }],
    ['URN-prefixed Path', { schemas: [PATCH_SCHEMA], Operations: [{ Op: 'Replace', Path: `${USER_SCHEMA}:password`, Value: 'Leaked-Password-44' }] }],
    ['path-less Value with Password', { schemas: [PATCH_SCHEMA], Operations: [{ Op: 'Replace', Value: { Password: 'Leaked-Password-45', title: 'x' } }] }],
    ['path-less Value with PASSWORD', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', Value: { PASSWORD: 'Leaked-Password-46' } }] }],
    ['path-less Value with a URN-prefixed key', { schemas: [PATCH_SCHEMA], Operations: [{ Op: 'Add', Value: { [`${USER_SCHEMA}:Password`]: 'Leaked-Password-47' } }] }],
  ];
  const { verifyPassword } = await import('../../src/auth/password.js');
  for (const [name, body] of cases) {
    const before = hashOf();
    const res = await patch(body);
    t.equal(res.statusCode, 200, `${name}: 200`);
    const sent = JSON.stringify(body).match(/Leaked-Password-\d+/)![0];
    t.not(hashOf(), before, `${name}: the password changed`);
    t.ok(await verifyPassword(sent, hashOf()), `${name}: the stored hash is the hash of the password sent`);
    const row = auditRows(b.app).at(-1)!;
    t.match(String(row.log), /changed: .*password/, `${name}: the entry says the password changed`);
    t.match(String(row.log), /\[REDACTED\]/, `${name}: and shows it redacted`);
  }

  // a capitalised remove takes the password away
  const removed = await patch({ schemas: [PATCH_SCHEMA], Operations: [{ Op: 'Remove', Path: 'Password' }] });
  t.equal(removed.statusCode, 200);
  t.equal(hashOf(), null, 'Op "Remove", Path "Password" removes the password');

  const secrets = cases.map(([, body]) => JSON.stringify(body).match(/Leaked-Password-\d+/)![0]);
  for (const row of auditRows(b.app)) for (const s of secrets) t.notOk(JSON.stringify(row).includes(s), `row ${row.id} does not contain ${s}`);
  b.app.writeQueue.flush();
  for (const file of dbFiles(b)) {
    const bytes = readFileSync(file);
    for (const s of secrets) t.equal(bytes.indexOf(Buffer.from(s)), -1, `${file.split('/').pop()} does not contain ${s}`);
  }
});

t.test('a password compared in a filter, and secret-looking query parameters, are redacted from the trail and the files', async (t) => {
  const b = await build(t);
  const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
  const requests: { name: string; opts: Parameters<Built['scim']>[0]; secret: string; status: number; logged: RegExp }[] = [
    { name: 'GET filter', opts: { method: 'GET', url: `/Users?${qs({ filter: 'password eq "FilterLeak-Pw-1"' })}` }, secret: 'FilterLeak-Pw-1', status: 400, logged: /filter=password eq "\[REDACTED\]"/ },
    {
      name: 'GET filter, URN-prefixed, inside and/not',
      opts: { method: 'GET', url: `/Users?${qs({ filter: `userName eq "ann" and not (${USER_SCHEMA}:PASSWORD sw "FilterLeak-Pw-2")` })}` },
      secret: 'FilterLeak-Pw-2',
      status: 400,
      logged: /filter=userName eq "ann" and not \(urn:ietf:params:scim:schemas:core:2\.0:User:PASSWORD sw "\[REDACTED\]"\)/,
    },
    { name: 'GET filter with an unquoted value (a parse error)', opts: { method: 'GET', url: `/Users?${qs({ filter: 'password eq FilterLeak-Pw-3' })}` }, secret: 'FilterLeak-Pw-3', status: 400, logged: /Invalid value \[REDACTED\]/ },
    {
      name: '.search body',
      opts: { method: 'POST', url: '/Users/.search', payload: { schemas: [SEARCH], filter: 'password eq "FilterLeak-Pw-4"' } },
      secret: 'FilterLeak-Pw-4',
      status: 400,
      logged: /"filter":"password eq \\"\[REDACTED\]\\""/,
    },
    {
      name: '.search body, a parse error',
      opts: { method: 'POST', url: '/Groups/.search', payload: { schemas: [SEARCH], filter: 'displayName eq "x" or password "FilterLeak-Pw-5"' } },
      secret: 'FilterLeak-Pw-5',
      status: 400,
      logged: /found string \[REDACTED\]/,
    },
    { name: 'pwd query parameter', opts: { method: 'GET', url: `/Users?${qs({ pwd: 'FilterLeak-Pw-6', count: 1 })}` }, secret: 'FilterLeak-Pw-6', status: 200, logged: /pwd=\[REDACTED\]&count=1/ },
    { name: 'api-key, private_key, sig', opts: { method: 'GET', url: `/Groups?${qs({ 'api-key': 'Qp-Leak-7', private_key: 'Qp-Leak-8', sig: 'Qp-Leak-9' })}` }, secret: 'Qp-Leak-', status: 200, logged: /api-key=\[REDACTED\]&private_key=\[REDACTED\]&sig=\[REDACTED\]/ },
  ];
  for (const r of requests) {
    const res = await b.scim(r.opts);
    t.equal(res.statusCode, r.status, `${r.name}: ${r.status}`);
    t.notOk(res.body.includes(r.secret), `${r.name}: the answer does not repeat the value`);
    const row = auditRows(b.app).at(-1)!;
    t.match(String(row.log), r.logged, `${r.name}: logged redacted`);
  }
  // a filter that merely mentions the word keeps its value
  await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'title eq "password reset"' })}` });
  t.match(String(auditRows(b.app).at(-1)!.log), /filter=title eq "password reset"/);

  for (const row of auditRows(b.app)) for (const r of requests) t.notOk(JSON.stringify(row).includes(r.secret), `row ${row.id} does not contain ${r.secret}`);
  b.app.writeQueue.flush();
  for (const file of dbFiles(b)) {
    const bytes = readFileSync(file);
    for (const r of requests) t.equal(bytes.indexOf(Buffer.from(r.secret)), -1, `${file.split('/').pop()} does not contain ${r.secret}`);
  }
});

t.test('every SCIM request appends exactly one entry, whatever its outcome', async (t) => {
  const b = await build(t);
  const start = auditRows(b.app).length;
  const statuses: number[] = [];
  const send = async (o: Parameters<Built['scim']>[0]) => {
    const before = auditRows(b.app).length;
    const res = await b.scim(o);
    statuses.push(res.statusCode);
    const rows = auditRows(b.app);
    t.equal(rows.length, before + 1, `${o.method} ${String(o.url)} → ${res.statusCode}: one entry`);
    t.equal(rows.at(-1)!.http, res.statusCode, 'with its status');
    return res;
  };
  const created = await send({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'mixed@example.com' } });
  const id = created.json().id as string;
  await send({ method: 'GET', url: `/Users/${id}` });
  await send({ method: 'GET', url: `/Users/${id}`, headers: { 'if-none-match': created.headers.etag as string } });
  await send({ method: 'GET', url: '/Users/nope' });
  await send({ method: 'GET', url: '/Users', token: null });
  await send({ method: 'GET', url: '/Users', token: 'iamt_not-a-real-token' });
  await send({ method: 'POST', url: '/Users', payload: '{"userName": ', headers: { 'content-type': 'application/scim+json' } });
  await send({ method: 'POST', url: '/Users', payload: 'x', headers: { 'content-type': 'text/plain' } });
  await send({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq' })}` });
  await send({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'T' }] } });
  await send({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'T' }] }, headers: { 'if-match': 'W/"1"' } });
  await send({ method: 'GET', url: '/ServiceProviderConfig' });
  await send({ method: 'GET', url: '/Nowhere' });
  await send({ method: 'DELETE', url: `/Users/${id}` });
  t.same(statuses, [201, 200, 304, 404, 401, 401, 400, 415, 400, 200, 412, 200, 404, 204]);
  t.equal(auditRows(b.app).length, start + statuses.length, 'one entry per request');

  // concurrent requests share group commits but still get one entry each
  const before = auditRows(b.app).length;
  const burst = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: `burst-${i}@example.com` } })),
    ...Array.from({ length: 10 }, () => b.scim({ method: 'GET', url: '/Users' })),
    b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'burst-0@example.com' } }),
    b.scim({ method: 'GET', url: '/Users', token: null }),
  ]);
  t.equal(auditRows(b.app).length, before + burst.length, `${burst.length} concurrent requests, as many entries`);
  const creates = auditRows(b.app).filter((r) => r.event === 'Create User' && r.http === 201);
  const ids = burst.filter((r) => r.statusCode === 201).map((r) => r.json().id as string);
  t.equal(ids.length, 10);
  for (const uid of ids) t.equal(creates.filter((r) => r.resource_id === uid).length, 1, `one Create User entry for ${uid}`);
});

t.test('the log text: a human first line, then the request', async (t) => {
  const b = await build(t);
  const before = Date.now();
  const res = await b.scim({
    method: 'POST',
    url: '/Users',
    payload: { schemas: [USER_SCHEMA], userName: 'log.reader@example.com', externalId: 'ext-42' },
    headers: { 'user-agent': UA },
  });
  const after = Date.now();
  t.equal(res.statusCode, 201);
  const id = res.json().id as string;
  const row = auditRows(b.app).at(-1)!;
  const lines = String(row.log).split('\n');
  t.ok(lines.length >= 2);
  t.match(lines[0], /log\.reader@example\.com/, 'the first line names the userName');
  t.ok(lines[0]!.includes(id), 'and the id');
  t.match(lines[0], /^Created user/, 'in words');
  t.match(lines[1], /^POST \/scim\/v2\/Users\b/, 'then method and path');
  t.match(lines[1], /client 127\.0\.0\.1/, 'the client IP');
  t.ok(lines[1]!.includes(`user agent "${UA}"`), 'the user agent');
  t.match(lines[1], /token "test-token"/, 'the token name');
  t.notOk(String(row.log).includes(b.token), 'never the token value');
  t.equal(row.type, 'User');
  t.equal(row.protocol, 'SCIM');
  t.equal(row.event, 'Create User');
  t.equal(row.action, 'PROVISIONING_ADD');
  t.equal(row.outcome, 'SUCCESS');
  t.equal(row.http, 201);
  t.equal(row.principal, 'test-token');
  t.equal(row.target, 'log.reader@example.com');
  t.equal(row.resource_id, id);
  t.equal(row.source_ip, '127.0.0.1');
  t.equal(row.user_agent, UA);
  t.type(row.ts, 'number');
  t.ok(Number.isInteger(row.ts), 'epoch milliseconds');
  t.ok((row.ts as number) >= before - 5 && (row.ts as number) <= after + 5, `ts ${row.ts} is now (${before}..${after})`);

  const list = await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "log.reader@example.com"' })}`, headers: { 'user-agent': UA } });
  t.equal(list.statusCode, 200);
  const listRow = auditRows(b.app).at(-1)!;
  const listLines = String(listRow.log).split('\n');
  t.match(listLines[0], /1 users? matched/);
  t.ok(listLines[1]!.startsWith('GET /scim/v2/Users?filter=userName eq "log.reader@example.com"'), `the query is logged readably: ${listLines[1]}`);
  t.equal(listRow.action, 'SCIM_READ');

  const failed = await b.scim({ method: 'GET', url: '/Users/missing-id', token: null, headers: { 'user-agent': UA } });
  t.equal(failed.statusCode, 401);
  const failedLines = String(auditRows(b.app).at(-1)!.log).split('\n');
  t.match(failedLines[0], /^Authentication failed/);
  t.match(failedLines[1], /^GET \/scim\/v2\/Users\/missing-id · client 127\.0\.0\.1 · user agent ".*" · no valid token$/);

  for (const r of auditRows(b.app)) {
    t.type(r.ts, 'number');
    t.ok(Math.abs(Date.now() - (r.ts as number)) < 60_000, `entry ${r.id} has a current epoch-ms timestamp`);
  }
});

t.test('a request body over 8 KB is cut in the log, with a note', async (t) => {
  const b = await build(t);
  const long = 'L'.repeat(20_000);
  const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'long@example.com', displayName: long } });
  t.equal(res.statusCode, 201);
  t.equal(res.json().displayName, long, 'the resource itself is stored whole');
  const row = auditRows(b.app).at(-1)!;
  const log = String(row.log);
  const bodyLine = log.split('\n').find((l) => l.startsWith('Request body: '));
  t.ok(bodyLine, 'the body is logged');
  t.match(bodyLine, /\[cut: \d+ more characters not stored\]$/, 'with a note saying how much was cut');
  t.ok(bodyLine!.length < 8192 + 200, `the logged body is about 8 KB (${bodyLine!.length})`);
  t.ok(log.length < 10_000, 'the whole entry stays small');

  const small = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'short@example.com', displayName: 'S'.repeat(1000) } });
  t.equal(small.statusCode, 201);
  const smallLog = String(auditRows(b.app).at(-1)!.log);
  t.notMatch(smallLog, /\[cut:/, 'a small body is logged whole');
  t.ok(smallLog.includes('S'.repeat(1000)));
});

t.test('when the audit insert of a change fails, the failure entry does not claim the change', async (t) => {
  const b = await build(t);
  const { sqlite } = b.app.database;
  // only the success entry is refused: the failure entry can be written
  sqlite.exec(`CREATE TRIGGER t2 BEFORE INSERT ON audit_log WHEN NEW.event = 'Create User' AND NEW.http = 201 BEGIN SELECT RAISE(ABORT, 'forced'); END;`);
  const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'phantom@example.com' } });
  t.equal(res.statusCode, 500);
  t.equal(b.app.repos.users.total(), 0, 'no user');
  const row = auditRows(b.app).at(-1)!;
  t.equal(row.event, 'Create User');
  t.equal(row.http, 500);
  t.equal(row.outcome, 'FAILURE');
  t.match(String(row.log), /^Create User failed \(500\)/);
  t.equal(row.action, 'SCIM_REQUEST', 'the action of a failed request');
  t.equal(row.resource_id, null, 'no resource id of a resource that does not exist');
});
