// /Users end to end (RFC 7644 §3.3–§3.7): create, read, list, search, replace, patch, delete,
// ETags, uniqueness, the write-only password and paging, against the real app and database.
import { existsSync, readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { auditRows, build, ENTERPRISE, PATCH_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const BASE = 'https://iam.example.test/scim/v2';
const SCIM_JSON = /^application\/scim\+json/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

type Json = Record<string, any>;
type Res = Awaited<ReturnType<Built['scim']>>;

function expectScimError(t: Test, res: Res, status: number, scimType?: string): Json {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(res.headers['content-type'], SCIM_JSON, 'content-type application/scim+json');
  const body = res.json() as Json;
  t.same(body.schemas, [ERROR_SCHEMA], 'error schema');
  t.equal(body.status, String(status), 'status is a string');
  t.type(body.detail, 'string', 'detail present');
  if (scimType !== undefined) t.equal(body.scimType, scimType, `scimType ${scimType}`);
  return body;
}

/** The Microsoft Entra ID tutorial's create-user request, with a given userName. */
function entraUser(userName: string, extra: Json = {}): Json {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: `ext-${userName}`,
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    ...extra,
  };
}

async function createUser(t: Test, scim: Built['scim'], body: Json): Promise<Json> {
  const res = await scim({ method: 'POST', url: '/Users', payload: body });
  t.equal(res.statusCode, 201, `created ${body.userName}`);
  return res.json() as Json;
}

t.test('POST /Users: 201 with Location, ETag and complete meta; GET by id returns the same', async (t) => {
  const { scim } = await build(t);
  const before = Date.now();
  const res = await scim({ method: 'POST', url: '/Users', payload: entraUser('Test_User_ab6490ee@testuser.com') });
  t.equal(res.statusCode, 201);
  t.match(res.headers['content-type'], SCIM_JSON);
  const user = res.json() as Json;
  t.type(user.id, 'string');
  t.ok(user.id.length > 0);
  t.same(user.schemas.includes(USER_SCHEMA), true);
  t.equal(user.userName, 'Test_User_ab6490ee@testuser.com');
  t.equal(user.externalId, 'ext-Test_User_ab6490ee@testuser.com');
  t.equal(user.active, true);
  t.same(user.name, { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' });
  t.same(user.emails, [{ primary: true, type: 'work', value: 'Test_User_ab6490ee@testuser.com' }]);
  t.notOk('roles' in user, 'an empty multi-valued attribute is unassigned');

  const meta = user.meta as Json;
  t.equal(meta.resourceType, 'User');
  t.match(meta.created, ISO);
  t.match(meta.lastModified, ISO);
  t.equal(meta.created, meta.lastModified, 'a new resource was last modified when created');
  t.ok(Date.parse(meta.created) >= before - 1000 && Date.parse(meta.created) <= Date.now() + 1000, 'created is now');
  t.equal(meta.location, `${BASE}/Users/${user.id}`);
  t.type(meta.version, 'string');
  t.equal(res.headers.location, meta.location, 'Location header = meta.location');
  t.equal(res.headers.etag, meta.version, 'ETag header = meta.version');

  const got = await scim({ method: 'GET', url: `/Users/${user.id}` });
  t.equal(got.statusCode, 200);
  t.match(got.headers['content-type'], SCIM_JSON);
  t.equal(got.headers.etag, meta.version);
  t.same(got.json(), user, 'GET returns what POST returned');
});

t.test('ids are time-ordered UUIDs (v7): each new user and group sorts after the previous one', async (t) => {
  const { scim } = await build(t);
  const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await scim({ method: 'POST', url: '/Users', payload: entraUser(`v7-${i}@example.com`) });
    ids.push((res.json() as Json).id as string);
  }
  const group = await scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'V7' } });
  ids.push((group.json() as Json).id as string);
  for (const id of ids) t.match(id, V7, `${id} is a UUIDv7`);
  t.same([...ids].sort(), ids, 'in creation order, also within one millisecond');
  const ms = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
  t.ok(Math.abs(ms - Date.now()) < 60_000, 'its first 48 bits are the creation time');
});

t.test('GET unknown id: 404 SCIM error', async (t) => {
  const { scim } = await build(t);
  const res = await scim({ method: 'GET', url: '/Users/2819c223-7f76-453a-919d-413861904646' });
  const body = expectScimError(t, res, 404);
  t.match(body.detail, /2819c223-7f76-453a-919d-413861904646/);
  for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
    const payload =
      method === 'PUT'
        ? { schemas: [USER_SCHEMA], userName: 'nobody' }
        : method === 'PATCH'
          ? { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] }
          : undefined;
    const r = await scim({ method, url: '/Users/does-not-exist', ...(payload && { payload }) });
    expectScimError(t, r, 404);
  }
});

t.test('list: filter, startIndex, count, sortBy, sortOrder, attributes, excludedAttributes and .search', async (t) => {
  const { scim } = await build(t);
  const names = ['carol', 'alice', 'erin', 'bob', 'dave'];
  for (const n of names) {
    await createUser(t, scim, {
      schemas: [USER_SCHEMA],
      userName: `${n}@example.com`,
      title: n === 'bob' || n === 'erin' ? 'Engineer' : 'Manager',
      emails: [{ value: `${n}@example.com`, type: 'work', primary: true }],
      name: { givenName: n, familyName: 'Test' },
    });
  }

  const all = await scim({ method: 'GET', url: '/Users' });
  t.equal(all.statusCode, 200);
  t.match(all.headers['content-type'], SCIM_JSON);
  const body = all.json() as Json;
  t.same(body.schemas, [LIST_SCHEMA]);
  t.equal(body.totalResults, 5);
  t.equal(body.itemsPerPage, 5);
  t.equal(body.startIndex, 1);
  t.same(
    body.Resources.map((u: Json) => u.userName),
    names.map((n) => `${n}@example.com`),
    'no sortBy: creation order',
  );

  const filtered = (await scim({ method: 'GET', url: `/Users?${qs({ filter: 'title eq "Engineer"' })}` })).json() as Json;
  t.equal(filtered.totalResults, 2);
  t.same(filtered.Resources.map((u: Json) => u.userName).sort(), ['bob@example.com', 'erin@example.com']);

  const sorted = (await scim({ method: 'GET', url: `/Users?${qs({ sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 2 })}` })).json() as Json;
  t.equal(sorted.totalResults, 5, 'totalResults counts all matches, not the page');
  t.equal(sorted.startIndex, 2);
  t.equal(sorted.itemsPerPage, 2);
  t.same(sorted.Resources.map((u: Json) => u.userName), ['dave@example.com', 'carol@example.com']);

  const asc = (await scim({ method: 'GET', url: `/Users?${qs({ sortBy: 'name.givenName' })}` })).json() as Json;
  t.same(asc.Resources.map((u: Json) => u.name.givenName), ['alice', 'bob', 'carol', 'dave', 'erin']);

  const projected = (await scim({ method: 'GET', url: `/Users?${qs({ attributes: 'userName,name.givenName', filter: 'userName eq "alice@example.com"' })}` })).json() as Json;
  t.equal(projected.totalResults, 1);
  const p = projected.Resources[0] as Json;
  t.ok(p.id, 'id is always returned');
  t.ok(p.schemas, 'schemas is always returned');
  t.equal(p.userName, 'alice@example.com');
  t.same(p.name, { givenName: 'alice' });
  t.notOk('emails' in p, 'attributes= leaves out what was not asked for');
  t.notOk('title' in p);

  const excluded = (await scim({ method: 'GET', url: `/Users?${qs({ excludedAttributes: 'emails,name', filter: 'userName eq "alice@example.com"' })}` })).json() as Json;
  const e = excluded.Resources[0] as Json;
  t.notOk('emails' in e);
  t.notOk('name' in e);
  t.equal(e.userName, 'alice@example.com');
  t.equal(e.title, 'Manager');
  t.ok(e.id);

  const byIdProjected = await scim({ method: 'GET', url: `/Users/${p.id}?${qs({ attributes: 'emails' })}` });
  t.equal(byIdProjected.statusCode, 200);
  t.same(Object.keys(byIdProjected.json()).sort(), ['emails', 'id', 'schemas']);

  const search = await scim({
    method: 'POST',
    url: '/Users/.search',
    payload: {
      schemas: [SEARCH_SCHEMA],
      filter: 'title eq "Manager"',
      sortBy: 'userName',
      sortOrder: 'ascending',
      startIndex: 1,
      count: 2,
      attributes: ['userName'],
    },
  });
  t.equal(search.statusCode, 200);
  t.match(search.headers['content-type'], SCIM_JSON);
  const s = search.json() as Json;
  t.same(s.schemas, [LIST_SCHEMA]);
  t.equal(s.totalResults, 3);
  t.equal(s.itemsPerPage, 2);
  t.same(s.Resources.map((u: Json) => u.userName), ['alice@example.com', 'carol@example.com']);
  t.notOk('title' in s.Resources[0]);

  const badSearch = await scim({ method: 'POST', url: '/Users/.search', payload: { schemas: [USER_SCHEMA], filter: 'title pr' } });
  expectScimError(t, badSearch, 400);
});

t.test('PUT replaces the whole resource: attributes not sent are removed', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, {
    schemas: [USER_SCHEMA, ENTERPRISE],
    userName: 'ricky@example.com',
    displayName: 'Ricky',
    nickName: 'Rick',
    title: 'Tour Guide',
    emails: [{ value: 'ricky@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '555-555-8377', type: 'work' }],
    [ENTERPRISE]: { department: 'Tour Operations', employeeNumber: '701984' },
  });
  const put = await scim({
    method: 'PUT',
    url: `/Users/${user.id}`,
    payload: {
      schemas: [USER_SCHEMA],
      id: user.id,
      userName: 'ricky@example.com',
      name: { givenName: 'Ricky', familyName: 'Jensen' },
      emails: [{ value: 'ricky@home.example.com', type: 'home' }],
      active: true,
    },
  });
  t.equal(put.statusCode, 200);
  t.match(put.headers['content-type'], SCIM_JSON);
  const replaced = put.json() as Json;
  t.equal(replaced.id, user.id);
  t.same(replaced.name, { givenName: 'Ricky', familyName: 'Jensen' });
  t.same(replaced.emails, [{ value: 'ricky@home.example.com', type: 'home' }]);
  for (const gone of ['displayName', 'nickName', 'title', 'phoneNumbers', ENTERPRISE]) t.notOk(gone in replaced, `${gone} removed`);
  t.same(replaced.schemas, [USER_SCHEMA], 'the extension schema is gone with its attributes');
  t.equal(replaced.meta.created, user.meta.created, 'created is kept');
  t.not(replaced.meta.version, user.meta.version, 'the version changed');
  t.equal(put.headers.etag, replaced.meta.version);
  const got = (await scim({ method: 'GET', url: `/Users/${user.id}` })).json() as Json;
  t.same(got, replaced, 'the replacement is stored');
});

t.test('PATCH add / replace / remove, with and without path, value filters and enterprise URN paths', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, {
    schemas: [USER_SCHEMA, ENTERPRISE],
    userName: 'bjensen@example.com',
    name: { givenName: 'Barbara', familyName: 'Jensen', middleName: 'Jane' },
    emails: [{ value: 'bjensen@example.com', type: 'work', primary: true }],
    [ENTERPRISE]: { department: 'Sales', employeeNumber: '42' },
  });
  const patch = (...ops: Json[]) =>
    scim({ method: 'PATCH', url: `/Users/${user.id}`, payload: { schemas: [PATCH_SCHEMA], Operations: ops } });

  let res = await patch({ op: 'add', path: 'emails', value: [{ value: 'babs@home.example.com', type: 'home' }] });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], SCIM_JSON);
  t.same(res.json().emails, [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@home.example.com', type: 'home' },
  ], 'add appends to a multi-valued attribute');

  res = await patch({ op: 'replace', path: 'emails[type eq "work"].value', value: 'barbara@example.org' });
  t.equal(res.statusCode, 200);
  t.same(res.json().emails, [
    { value: 'barbara@example.org', type: 'work', primary: true },
    { value: 'babs@home.example.com', type: 'home' },
  ], 'replace with a value filter changes only the matching element');

  res = await patch({ op: 'remove', path: 'emails[type eq "home"]' });
  t.same(res.json().emails, [{ value: 'barbara@example.org', type: 'work', primary: true }]);

  res = await patch({ op: 'add', value: { nickName: 'Babs', title: 'Sales Lead' } });
  t.equal(res.json().nickName, 'Babs', 'add without path');
  t.equal(res.json().title, 'Sales Lead');

  res = await patch({ op: 'replace', value: { displayName: 'Babs Jensen', name: { givenName: 'Babs' } } });
  t.equal(res.json().displayName, 'Babs Jensen', 'replace without path');
  t.same(res.json().name, { givenName: 'Babs', familyName: 'Jensen', middleName: 'Jane' }, 'a complex value is merged');

  res = await patch({ op: 'replace', path: 'name.familyName', value: 'Jensen-Smith' });
  t.equal(res.json().name.familyName, 'Jensen-Smith');

  res = await patch({ op: 'remove', path: 'name.middleName' });
  t.same(res.json().name, { givenName: 'Babs', familyName: 'Jensen-Smith' });

  res = await patch({ op: 'remove', path: 'title' });
  t.notOk('title' in res.json(), 'remove a simple attribute');

  res = await patch({ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Marketing' });
  t.equal(res.statusCode, 200);
  t.equal(res.json()[ENTERPRISE].department, 'Marketing', 'enterprise URN path replace');

  res = await patch({ op: 'add', path: `${ENTERPRISE}:costCenter`, value: '4130' });
  t.equal(res.json()[ENTERPRISE].costCenter, '4130', 'enterprise URN path add');

  res = await patch({ op: 'remove', path: `${ENTERPRISE}:employeeNumber` });
  t.same(res.json()[ENTERPRISE], { department: 'Marketing', costCenter: '4130' }, 'enterprise URN path remove');

  res = await patch({ op: 'remove', path: ENTERPRISE });
  t.notOk(ENTERPRISE in res.json(), 'removing the extension URN removes the extension');
  t.same(res.json().schemas, [USER_SCHEMA]);

  // several operations in one request are applied in order
  res = await patch(
    { op: 'add', path: 'phoneNumbers', value: [{ value: '555-1234', type: 'work' }] },
    { op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '555-9999' },
    { op: 'replace', path: 'active', value: false },
  );
  t.equal(res.statusCode, 200);
  t.same(res.json().phoneNumbers, [{ value: '555-9999', type: 'work' }]);
  t.equal(res.json().active, false);

  const got = (await scim({ method: 'GET', url: `/Users/${user.id}` })).json() as Json;
  t.same(got, res.json(), 'the patched resource is stored');
});

t.test('DELETE: 204 with an empty body, then GET 404 and the user is gone from lists', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'gone@example.com' });
  const del = await scim({ method: 'DELETE', url: `/Users/${user.id}` });
  t.equal(del.statusCode, 204);
  t.equal(del.body, '');
  expectScimError(t, await scim({ method: 'GET', url: `/Users/${user.id}` }), 404);
  expectScimError(t, await scim({ method: 'DELETE', url: `/Users/${user.id}` }), 404);
  const list = (await scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "gone@example.com"' })}` })).json() as Json;
  t.equal(list.totalResults, 0);
  // the userName is free again
  await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'gone@example.com' });
});

t.test('DELETE with a JSON Content-Type and no body (as some clients send) deletes, Users and Groups', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'typed-delete@example.com' });
  const group = (await scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Typed delete' } })).json() as Json;
  for (const [url, type] of [[`/Users/${user.id}`, 'application/scim+json'], [`/Groups/${group.id}`, 'application/json']] as const) {
    const del = await scim({ method: 'DELETE', url, headers: { 'content-type': type } });
    t.equal(del.statusCode, 204, `DELETE ${url} with Content-Type ${type}: 204`);
    expectScimError(t, await scim({ method: 'GET', url }), 404);
  }
  // a POST without a body is still refused as malformed
  const empty = await scim({ method: 'POST', url: '/Users', headers: { 'content-type': 'application/scim+json' }, payload: '' });
  expectScimError(t, empty, 400);
});

t.test('ETags: If-Match mismatch is 412 for PUT, PATCH and DELETE; * and the current ETag match; If-None-Match is 304', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'etag@example.com', title: 'A' });
  const url = `/Users/${user.id}`;
  const stale = 'W/"999"';
  const putBody = { schemas: [USER_SCHEMA], userName: 'etag@example.com', title: 'B' };
  const patchBody = { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'C' }] };

  expectScimError(t, await scim({ method: 'PUT', url, payload: putBody, headers: { 'if-match': stale } }), 412);
  expectScimError(t, await scim({ method: 'PATCH', url, payload: patchBody, headers: { 'if-match': stale } }), 412);
  expectScimError(t, await scim({ method: 'DELETE', url, headers: { 'if-match': stale } }), 412);
  const unchanged = (await scim({ method: 'GET', url })).json() as Json;
  t.equal(unchanged.title, 'A', 'nothing changed after the 412s');
  t.equal(unchanged.meta.version, user.meta.version);

  const put = await scim({ method: 'PUT', url, payload: putBody, headers: { 'if-match': user.meta.version } });
  t.equal(put.statusCode, 200, 'PUT with the current ETag');
  const v2 = put.headers.etag as string;
  t.not(v2, user.meta.version);
  expectScimError(t, await scim({ method: 'PATCH', url, payload: patchBody, headers: { 'if-match': user.meta.version } }), 412, );

  const patched = await scim({ method: 'PATCH', url, payload: patchBody, headers: { 'if-match': v2 } });
  t.equal(patched.statusCode, 200, 'PATCH with the current ETag');
  t.equal(patched.json().title, 'C');

  const star = await scim({ method: 'PATCH', url, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'title', value: 'D' }] }, headers: { 'if-match': '*' } });
  t.equal(star.statusCode, 200, 'If-Match: * matches any version');
  const starPut = await scim({ method: 'PUT', url, payload: putBody, headers: { 'if-match': '*' } });
  t.equal(starPut.statusCode, 200, 'PUT If-Match: *');

  const current = starPut.headers.etag as string;
  const notModified = await scim({ method: 'GET', url, headers: { 'if-none-match': current } });
  t.equal(notModified.statusCode, 304, 'If-None-Match with the current ETag');
  t.equal(notModified.body, '');
  t.equal(notModified.headers.etag, current);
  const modified = await scim({ method: 'GET', url, headers: { 'if-none-match': user.meta.version } });
  t.equal(modified.statusCode, 200, 'If-None-Match with an old ETag returns the resource');

  const del = await scim({ method: 'DELETE', url, headers: { 'if-match': '*' } });
  t.equal(del.statusCode, 204, 'DELETE If-Match: *');
});

t.test('If-None-Match: * and ETag lists (RFC 7232 §3.2)', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'inm@example.com' });
  const url = `/Users/${user.id}`;
  const star = await scim({ method: 'GET', url, headers: { 'if-none-match': '*' } });
  t.equal(star.statusCode, 304, 'If-None-Match: * on an existing resource');
  const list = await scim({ method: 'GET', url, headers: { 'if-none-match': `W/"0", ${user.meta.version}` } });
  t.equal(list.statusCode, 304, 'If-None-Match with a list containing the current ETag');
});

t.test('userName is unique case-insensitively: 409 uniqueness on POST, PUT and PATCH', async (t) => {
  const { scim } = await build(t);
  await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'Alice@Example.com' });
  const dup = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'aLiCe@eXaMpLe.CoM' } });
  expectScimError(t, dup, 409, 'uniqueness');

  const other = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'bob@example.com' });
  expectScimError(
    t,
    await scim({ method: 'PUT', url: `/Users/${other.id}`, payload: { schemas: [USER_SCHEMA], userName: 'ALICE@example.com' } }),
    409,
    'uniqueness',
  );
  expectScimError(
    t,
    await scim({
      method: 'PATCH',
      url: `/Users/${other.id}`,
      payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'alice@EXAMPLE.com' }] },
    }),
    409,
    'uniqueness',
  );
  // changing the case of one's own userName is allowed
  const self = await scim({
    method: 'PATCH',
    url: `/Users/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'BOB@example.com' }] },
  });
  t.equal(self.statusCode, 200);
  t.equal(self.json().userName, 'BOB@example.com');

  // concurrent creates of one userName (they share a group commit): exactly one wins
  const racing = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: i % 2 ? 'race@example.com' : 'RACE@example.com' } })),
  );
  t.same(racing.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409]);
  const list = (await scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "race@example.com"' })}` })).json() as Json;
  t.equal(list.totalResults, 1);
});

t.test('password is write-only: never returned, never stored or logged in clear', async (t) => {
  const { scim, app, config } = await build(t);
  const secrets = ['Pl41nText-On-Create!', 'Pl41nText-On-Put!', 'Pl41nText-On-Patch!', 'Pl41nText-Pathless!', 'Pl41nText-Failed!'];
  const noPassword = (label: string, body: unknown) => {
    const text = JSON.stringify(body);
    t.notOk(/password/i.test(text), `${label}: no password attribute in the response`);
    for (const s of secrets) t.notOk(text.includes(s), `${label}: no plaintext`);
  };

  const created = await scim({
    method: 'POST',
    url: '/Users',
    payload: { schemas: [USER_SCHEMA], userName: 'secret@example.com', password: secrets[0], emails: [{ value: 'secret@example.com', type: 'work' }] },
  });
  t.equal(created.statusCode, 201);
  noPassword('POST', created.json());
  const id = created.json().id as string;

  const put = await scim({ method: 'PUT', url: `/Users/${id}`, payload: { schemas: [USER_SCHEMA], userName: 'secret@example.com', password: secrets[1] } });
  t.equal(put.statusCode, 200);
  noPassword('PUT', put.json());

  const patched = await scim({
    method: 'PATCH',
    url: `/Users/${id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'password', value: secrets[2] }] },
  });
  t.equal(patched.statusCode, 200);
  noPassword('PATCH path', patched.json());

  const pathless = await scim({
    method: 'PATCH',
    url: `/Users/${id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { password: secrets[3] } }] },
  });
  t.equal(pathless.statusCode, 200);
  noPassword('PATCH without path', pathless.json());

  // a failed create that carries a password (duplicate userName)
  const failed = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'SECRET@example.com', password: secrets[4] } });
  expectScimError(t, failed, 409, 'uniqueness');
  noPassword('409', failed.json());

  noPassword('GET', (await scim({ method: 'GET', url: `/Users/${id}` })).json());
  noPassword('GET attributes=password', (await scim({ method: 'GET', url: `/Users/${id}?attributes=password` })).json());
  noPassword('list', (await scim({ method: 'GET', url: '/Users' })).json());
  noPassword('search', (await scim({ method: 'POST', url: '/Users/.search', payload: { schemas: [SEARCH_SCHEMA], attributes: ['password', 'userName'] } })).json());

  const filterOnPassword = await scim({ method: 'GET', url: `/Users?${qs({ filter: 'password pr' })}` });
  expectScimError(t, filterOnPassword, 400, 'invalidFilter');

  const stored = app.database.sqlite.prepare('SELECT password_hash AS h FROM scim_users WHERE id = ?').get(id) as { h: string };
  t.match(stored.h, /^scrypt\$/, 'a hash is stored');

  const rows = auditRows(app);
  for (const s of secrets) t.notOk(rows.some((r) => JSON.stringify(r).includes(s)), `no audit row contains ${s}`);
  t.ok(rows.some((r) => String(r.log).includes('[REDACTED]')), 'the audit trail shows that a password was sent');

  app.writeQueue.flush();
  const files = [config.DATABASE_PATH, `${config.DATABASE_PATH}-wal`, `${config.DATABASE_PATH}-shm`].filter((f) => existsSync(f));
  t.ok(files.length >= 1);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const s of secrets) {
      t.equal(bytes.indexOf(Buffer.from(s, 'utf8')), -1, `${file.split('/').pop()} does not contain ${s}`);
      t.equal(bytes.indexOf(Buffer.from(s, 'utf16le')), -1, `${file.split('/').pop()} does not contain ${s} (UTF-16)`);
    }
  }
});

t.test('inactive users are visible in GET, lists and filters', async (t) => {
  const { scim } = await build(t);
  const inactive = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'sleepy@example.com', active: false });
  t.equal(inactive.active, false);
  await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'awake@example.com', active: true });
  const got = (await scim({ method: 'GET', url: `/Users/${inactive.id}` })).json() as Json;
  t.equal(got.active, false);
  const all = (await scim({ method: 'GET', url: '/Users' })).json() as Json;
  t.equal(all.totalResults, 2);
  const byName = (await scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "sleepy@example.com"' })}` })).json() as Json;
  t.equal(byName.totalResults, 1);
  t.equal(byName.Resources[0].active, false);
  const byActive = (await scim({ method: 'GET', url: `/Users?${qs({ filter: 'active eq false' })}` })).json() as Json;
  t.same(byActive.Resources.map((u: Json) => u.userName), ['sleepy@example.com']);
});

t.test('paging over 250 users', async (t) => {
  const { scim, app } = await build(t);
  const total = 250;
  const userNames: string[] = [];
  for (let start = 0; start < total; start += 50) {
    const batch = Array.from({ length: Math.min(50, total - start) }, (_, i) => `pager-${String(start + i).padStart(3, '0')}@example.com`);
    userNames.push(...batch);
    const results = await Promise.all(batch.map((userName) => scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName } })));
    t.ok(results.every((r) => r.statusCode === 201), `batch from ${start} created`);
  }

  await t.test('startIndex/count=100 walk returns every user exactly once', async (t) => {
    const seen: string[] = [];
    for (let startIndex = 1; startIndex <= total; startIndex += 100) {
      const page = (await scim({ method: 'GET', url: `/Users?${qs({ startIndex, count: 100 })}` })).json() as Json;
      t.equal(page.totalResults, total);
      t.equal(page.startIndex, startIndex);
      t.equal(page.itemsPerPage, Math.min(100, total - startIndex + 1));
      t.equal(page.Resources.length, page.itemsPerPage);
      seen.push(...page.Resources.map((u: Json) => u.id as string));
    }
    t.equal(seen.length, total);
    t.equal(new Set(seen).size, total, 'no user twice');
    const past = (await scim({ method: 'GET', url: `/Users?${qs({ startIndex: total + 1, count: 100 })}` })).json() as Json;
    t.equal(past.totalResults, total);
    t.equal(past.itemsPerPage, 0);
    t.same(past.Resources ?? [], []);
  });

  await t.test('sorted walk is stable and complete', async (t) => {
    const seen: string[] = [];
    for (let startIndex = 1; startIndex <= total; startIndex += 100) {
      const page = (await scim({ method: 'GET', url: `/Users?${qs({ startIndex, count: 100, sortBy: 'userName', sortOrder: 'descending' })}` })).json() as Json;
      seen.push(...page.Resources.map((u: Json) => u.userName as string));
    }
    t.same(seen, [...userNames].sort().reverse());
  });

  await t.test('count=0 returns totalResults only', async (t) => {
    const res = await scim({ method: 'GET', url: '/Users?count=0' });
    t.equal(res.statusCode, 200);
    const page = res.json() as Json;
    t.equal(page.totalResults, total);
    t.equal(page.itemsPerPage ?? 0, 0);
    t.same(page.Resources ?? [], [], 'no resources');
  });

  await t.test('count=1000000 is capped and the audit entry says so', async (t) => {
    const res = await scim({ method: 'GET', url: '/Users?count=1000000' });
    t.equal(res.statusCode, 200);
    const page = res.json() as Json;
    t.ok(page.itemsPerPage <= 1000, 'itemsPerPage ≤ 1000');
    t.equal(page.totalResults, total);
    const row = auditRows(app).at(-1)!;
    t.equal(row.event, 'List Users');
    t.match(String(row.log), /capped/i, 'the log mentions the cap');
    t.match(String(row.log), /1000000/);
  });

  await t.test('startIndex=0 (and negative) is treated as 1', async (t) => {
    for (const startIndex of [0, -5]) {
      const page = (await scim({ method: 'GET', url: `/Users?${qs({ startIndex, count: 3 })}` })).json() as Json;
      t.equal(page.startIndex, 1);
      t.same(page.Resources.map((u: Json) => u.userName), userNames.slice(0, 3));
    }
  });

  await t.test('a startIndex past 2^53 is an empty page, not a 500 (GET and .search, Users and Groups)', async (t) => {
    for (const huge of ['9223372036854775807', '9223372036854775808', '99999999999999999999', '1e300']) {
      for (const kind of ['Users', 'Groups']) {
        const res = await scim({ method: 'GET', url: `/${kind}?startIndex=${huge}&count=5` });
        t.equal(res.statusCode, 200, `GET /${kind}?startIndex=${huge}: 200`);
        const page = res.json() as Json;
        t.equal(page.totalResults, kind === 'Users' ? total : 0, 'totalResults as without startIndex');
        t.same(page.Resources ?? [], [], 'no resources: past the end');
        const search = await scim({ method: 'POST', url: `/${kind}/.search`, payload: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"startIndex":${huge}}` });
        t.equal(search.statusCode, 200, `POST /${kind}/.search startIndex ${huge}: 200`);
      }
    }
    t.notOk(auditRows(app).some((r) => Number(r.http) >= 500), 'no 5xx logged');
  });

  await t.test('non-numeric startIndex and count are 400', async (t) => {
    expectScimError(t, await scim({ method: 'GET', url: '/Users?startIndex=abc' }), 400);
    expectScimError(t, await scim({ method: 'GET', url: '/Users?count=lots' }), 400);
    t.equal((await scim({ method: 'GET', url: '/Users?count=1' })).statusCode, 200, 'the server still serves');
  });
});

t.test('a password set through a URN-qualified PATCH path or key is applied', async (t) => {
  const { scim, app } = await build(t);
  const created = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'urnpass@example.com', password: 'First-Pa55word' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const hashOf = () => (app.database.sqlite.prepare('SELECT password_hash AS h FROM scim_users WHERE id = ?').get(id) as { h: string }).h;
  const versionOf = async () => (await scim({ method: 'GET', url: `/Users/${id}` })).json().meta.version as string;
  const first = hashOf();
  const v1 = await versionOf();

  const withPath = await scim({
    method: 'PATCH',
    url: `/Users/${id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: `${USER_SCHEMA}:password`, value: 'Second-Pa55word' }] },
  });
  t.equal(withPath.statusCode, 200);
  t.notOk('password' in withPath.json());
  t.not(hashOf(), first, 'path urn:…:User:password changes the password');
  t.match(String(auditRows(app).at(-1)!.log), /changed: password/, 'the audit entry says the password changed');

  const second = hashOf();
  const pathless = await scim({
    method: 'PATCH',
    url: `/Users/${id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { [`${USER_SCHEMA}:password`]: 'Third-Pa55word' } }] },
  });
  t.equal(pathless.statusCode, 200);
  t.not(hashOf(), second, 'a path-less value with the key urn:…:User:password changes the password');
  t.ok(v1, 'read the version');
  for (const row of auditRows(app)) t.notOk(String(row.log).match(/(First|Second|Third)-Pa55word/), 'no plaintext in the trail');
});

t.test('the ETag and lastModified of a user change when its groups change', async (t) => {
  const { scim } = await build(t);
  const user = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'member@example.com' });
  const group = await scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Readers', members: [{ value: user.id }] } });
  t.equal(group.statusCode, 201);
  const now = await scim({ method: 'GET', url: `/Users/${user.id}` });
  t.same(now.json().groups?.map((g: Json) => g.value), [group.json().id], 'the representation now lists the group');
  const conditional = await scim({ method: 'GET', url: `/Users/${user.id}`, headers: { 'if-none-match': user.meta.version } });
  t.equal(conditional.statusCode, 200, 'If-None-Match with the pre-membership ETag returns the changed representation');
  t.not(now.json().meta.version, user.meta.version, 'the version changed');
});

t.test('the audit entry of a change names the changed enterprise attributes, not "User"', async (t) => {
  const { scim, app } = await build(t);
  const boss = await createUser(t, scim, { schemas: [USER_SCHEMA], userName: 'boss@example.com' });
  const user = await createUser(t, scim, entraUser('ext@example.com', { [ENTERPRISE]: { department: 'Sales', employeeNumber: '7' } }));
  /** the names after "changed:" in the last entry's first line, sorted */
  const changed = () => {
    const line = String(auditRows(app).at(-1)!.log).split('\n')[0]!;
    return (/; changed: ([^;)]*)\)?$/.exec(line)?.[1] ?? `no "changed:" in ${line}`).split(', ').sort();
  };

  const cases: Array<[Json[], string[]]> = [
    [[{ op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Engineering' }], ['department']],
    // Entra's manager as a plain id
    [[{ op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.id }], ['manager']],
    [[{ op: 'replace', value: { [`${ENTERPRISE}:employeeNumber`]: '8', [`${ENTERPRISE}:costCenter`]: 'CC1' } }], ['costCenter', 'employeeNumber']],
    [[{ op: 'replace', value: { title: 'Lead', [ENTERPRISE]: { division: 'North' } } }], ['division', 'title']],
    [[{ op: 'remove', path: `${ENTERPRISE}:manager` }], ['manager']],
  ];
  for (const [Operations, expected] of cases) {
    const res = await scim({ method: 'PATCH', url: `/Users/${user.id}`, payload: { schemas: [PATCH_SCHEMA], Operations } });
    t.equal(res.statusCode, 200);
    t.same(changed(), expected, JSON.stringify(Operations));
  }

  // a PUT without the extension removes every attribute it had
  const put = await scim({ method: 'PUT', url: `/Users/${user.id}`, payload: entraUser('ext@example.com', { title: 'Lead' }) });
  t.equal(put.statusCode, 200);
  t.same(changed(), ['costCenter', 'department', 'division', 'employeeNumber'], 'PUT without the extension');
});
