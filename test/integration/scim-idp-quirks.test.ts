// The requests Microsoft Entra ID and Okta actually send, as their provisioning guides document them
// ("Tutorial: Develop and plan provisioning for a SCIM endpoint in Microsoft Entra ID", "Okta and SCIM
// Version 2.0"), and the audit entries they produce.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { auditRows, build, ENTERPRISE, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SCIM_JSON = /^application\/scim\+json/;
const ENTRA_UA = 'Microsoft.Identity.Provisioning/1.0';
const OKTA_UA = 'Okta SCIM Client 1.0.0';

type Json = Record<string, any>;

/** A client that always sends the same User-Agent, like the provisioning services do. */
function client(scim: Built['scim'], userAgent: string) {
  const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: Json) =>
    scim({ method, url, headers: { 'user-agent': userAgent }, ...(payload !== undefined && { payload }) });
  return {
    send,
    patch: (url: string, ...Operations: Json[]) => send('PATCH', url, { schemas: [PATCH_SCHEMA], Operations }),
  };
}

/** The audit rows of one resource, oldest first, without reads. */
function changesOf(app: Built['app'], id: string): { event: string; action: string; http: number; log: string }[] {
  return auditRows(app)
    .filter((r) => r.resource_id === id && r.action !== 'SCIM_READ')
    .map((r) => ({ event: String(r.event), action: String(r.action), http: Number(r.http), log: String(r.log) }));
}

function lastRow(app: Built['app']): Json {
  return auditRows(app).at(-1)!;
}

async function entraCreateUser(t: Test, entra: ReturnType<typeof client>, userName: string, extra: Json = {}): Promise<Json> {
  const res = await entra.send('POST', '/Users', {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: randomUUID(),
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    ...extra,
  });
  t.equal(res.statusCode, 201, `created ${userName}`);
  return res.json() as Json;
}

t.test('Microsoft Entra ID: users', async (t) => {
  const { scim, app } = await build(t);
  const entra = client(scim, ENTRA_UA);

  await t.test('test connection: a filter on a random userName is 200 with no results', async (t) => {
    const res = await entra.send('GET', `/Users?${qs({ filter: `userName eq "${randomUUID()}"` })}`);
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], SCIM_JSON);
    const body = res.json() as Json;
    t.same(body.schemas, [LIST_SCHEMA]);
    t.equal(body.totalResults, 0);
    t.same(body.Resources ?? [], []);
    const row = lastRow(app);
    t.equal(row.http, 200);
    t.equal(row.user_agent, ENTRA_UA);
  });

  await t.test('create, then find by userName (Entra matches on userName before creating)', async (t) => {
    const userName = 'Test_User_dfeef4c5-5681-4387-b016-bdf221e82081@testuser.com';
    const user = await entraCreateUser(t, entra, userName);
    const found = (await entra.send('GET', `/Users?${qs({ filter: `userName eq "${userName}"` })}`)).json() as Json;
    t.equal(found.totalResults, 1);
    t.equal(found.Resources[0].id, user.id);
    t.same(changesOf(app, user.id).map((r) => [r.event, r.action, r.http]), [['Create User', 'PROVISIONING_ADD', 201]]);
  });

  await t.test('capitalised operations Replace / Add / Remove (multi-valued and single-valued properties)', async (t) => {
    const user = await entraCreateUser(t, entra, 'capital-ops@testuser.com');
    let res = await entra.patch(
      `/Users/${user.id}`,
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    );
    t.equal(res.statusCode, 200);
    t.same(res.json().emails, [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }]);
    t.equal(res.json().name.familyName, 'updatedFamilyName');

    res = await entra.patch(`/Users/${user.id}`, { op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' });
    t.equal(res.statusCode, 200);
    t.equal(res.json().userName, '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');

    res = await entra.patch(`/Users/${user.id}`, { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 555 0100' });
    t.equal(res.statusCode, 200, 'Add through a filter that matches nothing yet creates the element');
    t.same(res.json().phoneNumbers, [{ type: 'mobile', value: '+1 555 0100' }]);

    res = await entra.patch(`/Users/${user.id}`, { op: 'Remove', path: 'phoneNumbers[type eq "mobile"]' });
    t.equal(res.statusCode, 200);
    t.notOk('phoneNumbers' in res.json());

    const rows = changesOf(app, user.id);
    t.same(rows.map((r) => r.action), ['PROVISIONING_ADD', 'PROVISIONING_MODIFY', 'PROVISIONING_MODIFY', 'PROVISIONING_MODIFY', 'PROVISIONING_MODIFY']);
    t.ok(rows.slice(1).every((r) => r.event === 'Update User'));
  });

  await t.test('Replace of a work email the user does not have yet adds it', async (t) => {
    const res0 = await entra.send('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'no-email@testuser.com' });
    const id = res0.json().id as string;
    const res = await entra.patch(`/Users/${id}`, { op: 'Replace', path: 'emails[type eq "work"].value', value: 'no-email@contoso.com' });
    t.equal(res.statusCode, 200);
    t.same(res.json().emails, [{ type: 'work', value: 'no-email@contoso.com' }]);
  });

  await t.test('disable with "False" strings, with and without a path; enable with "True"', async (t) => {
    const user = await entraCreateUser(t, entra, 'toggle@testuser.com');

    let res = await entra.patch(`/Users/${user.id}`, { op: 'Replace', path: 'active', value: 'False' });
    t.equal(res.statusCode, 200);
    t.equal(res.json().active, false, '"False" with a path');
    t.equal(lastRow(app).action, 'PROVISIONING_DISABLE');

    res = await entra.patch(`/Users/${user.id}`, { op: 'Replace', path: 'active', value: 'True' });
    t.equal(res.json().active, true, '"True" with a path');
    t.equal(lastRow(app).action, 'PROVISIONING_ENABLE');

    res = await entra.patch(`/Users/${user.id}`, { op: 'replace', value: { active: 'False' } });
    t.equal(res.statusCode, 200);
    t.equal(res.json().active, false, '"False" without a path');
    t.equal(lastRow(app).action, 'PROVISIONING_DISABLE');

    res = await entra.patch(`/Users/${user.id}`, { op: 'Replace', path: 'active', value: false });
    t.equal(res.statusCode, 200, 'disabling a disabled user is not an error');
    t.equal(lastRow(app).action, 'PROVISIONING_MODIFY', 'nothing flipped: not a second DISABLE');

    const stored = (await entra.send('GET', `/Users/${user.id}`)).json() as Json;
    t.equal(stored.active, false);
    const disabled = (await entra.send('GET', `/Users?${qs({ filter: 'active eq false' })}`)).json() as Json;
    t.ok(disabled.Resources.some((u: Json) => u.id === user.id), 'the disabled user is still listed');
  });

  await t.test('path-less Replace with dotted and URN-prefixed keys', async (t) => {
    const user = await entraCreateUser(t, entra, 'dotted@testuser.com');
    const res = await entra.patch(`/Users/${user.id}`, {
      op: 'Replace',
      value: {
        displayName: 'Test User',
        'name.givenName': 'Test',
        'name.familyName': 'User',
        [`${ENTERPRISE}:department`]: 'Tech Infrastructure',
        [`${ENTERPRISE}:employeeNumber`]: '701984',
        'urn:ietf:params:scim:schemas:core:2.0:User:title': 'Engineer',
      },
    });
    t.equal(res.statusCode, 200);
    const u = res.json() as Json;
    t.equal(u.displayName, 'Test User');
    t.same(u.name, { formatted: 'givenName familyName', givenName: 'Test', familyName: 'User' }, 'dotted keys merge into name');
    t.same(u[ENTERPRISE], { department: 'Tech Infrastructure', employeeNumber: '701984' });
    t.ok(u.schemas.includes(ENTERPRISE));
    t.equal(u.title, 'Engineer', 'a core-URN-prefixed key is a core attribute');
    t.notOk('name.givenName' in u, 'no literal dotted key is stored');
    t.notOk(`${ENTERPRISE}:department` in u);
    const found = (await entra.send('GET', `/Users?${qs({ filter: `${ENTERPRISE}:department eq "Tech Infrastructure"` })}`)).json() as Json;
    t.same(found.Resources.map((r: Json) => r.id), [user.id]);
  });

  await t.test('manager: a plain id, the documented array form, and removal', async (t) => {
    const boss = await entraCreateUser(t, entra, 'boss@testuser.com');
    const worker = await entraCreateUser(t, entra, 'worker@testuser.com');

    let res = await entra.patch(`/Users/${worker.id}`, { op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.id });
    t.equal(res.statusCode, 200);
    t.equal(res.json()[ENTERPRISE]?.manager?.value, boss.id, 'a plain id becomes manager.value');

    const byManager = (await entra.send('GET', `/Users?${qs({ filter: `${ENTERPRISE}:manager.value eq "${boss.id}"` })}`)).json() as Json;
    t.same(byManager.Resources.map((r: Json) => r.id), [worker.id]);

    const other = await entraCreateUser(t, entra, 'boss2@testuser.com');
    res = await entra.patch(`/Users/${worker.id}`, {
      op: 'Add',
      path: 'manager',
      value: [{ $ref: `https://iam.example.test/scim/v2/Users/${other.id}`, value: other.id }],
    });
    t.equal(res.statusCode, 200, 'the tutorial\'s "path": "manager" with an array value');
    t.equal(res.json()[ENTERPRISE].manager.value, other.id);

    res = await entra.patch(`/Users/${worker.id}`, { op: 'Replace', path: `${ENTERPRISE}:manager`, value: '' });
    t.equal(res.statusCode, 200);
    t.notOk(res.json()[ENTERPRISE]?.manager, 'an empty string clears the manager');

    res = await entra.patch(`/Users/${worker.id}`, { op: 'Add', path: `${ENTERPRISE}:manager`, value: boss.id });
    res = await entra.patch(`/Users/${worker.id}`, { op: 'Remove', path: `${ENTERPRISE}:manager` });
    t.equal(res.statusCode, 200);
    t.notOk(res.json()[ENTERPRISE]?.manager, 'Remove clears the manager');
  });

  await t.test('delete', async (t) => {
    const user = await entraCreateUser(t, entra, 'leaver@testuser.com');
    const res = await entra.send('DELETE', `/Users/${user.id}`);
    t.equal(res.statusCode, 204);
    const rows = changesOf(app, user.id);
    t.same(rows.at(-1) && [rows.at(-1)!.event, rows.at(-1)!.action, rows.at(-1)!.http], ['Delete User', 'PROVISIONING_DELETE', 204]);
    t.match(rows.at(-1)!.log, /leaver@testuser\.com/);
  });
});

t.test('Microsoft Entra ID: groups', async (t) => {
  const { scim, app } = await build(t);
  const entra = client(scim, ENTRA_UA);
  const alice = await entraCreateUser(t, entra, 'alice@testuser.com');
  const bob = await entraCreateUser(t, entra, 'bob@testuser.com');
  const carol = await entraCreateUser(t, entra, 'carol@testuser.com');

  const created = await entra.send('POST', '/Groups', {
    schemas: [GROUP_SCHEMA],
    externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
    displayName: 'displayName',
    meta: { resourceType: 'Group' },
  });
  t.equal(created.statusCode, 201);
  const group = created.json() as Json;
  t.equal(group.displayName, 'displayName');
  t.equal(group.meta.resourceType, 'Group');
  t.equal(group.meta.location, `https://iam.example.test/scim/v2/Groups/${group.id}`);
  const gurl = `/Groups/${group.id}`;

  await t.test('Entra\'s documented create-group request lists a Microsoft schema URN', async (t) => {
    const res = await entra.send('POST', '/Groups', {
      schemas: [GROUP_SCHEMA, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: randomUUID(),
      displayName: 'Entra documented group',
      meta: { resourceType: 'Group' },
    });
    t.equal(res.statusCode, 201, 'accepted');
  });

  await t.test('Add members (the tutorial\'s request, with "$ref": null)', async (t) => {
    const res = await entra.patch(gurl, { op: 'Add', path: 'members', value: [{ $ref: null, value: alice.id }, { $ref: null, value: bob.id }] });
    t.equal(res.statusCode, 200);
    t.same(res.json().members.map((m: Json) => m.value).sort(), [alice.id, bob.id].sort());
    const row = lastRow(app);
    t.equal(row.event, 'Add Group Members');
    t.equal(row.action, 'PROVISIONING_MODIFY');
    t.equal(row.http, 200);
    const res2 = await entra.patch(gurl, { op: 'Add', path: 'members', value: [{ $ref: null, value: carol.id }] });
    t.equal(res2.statusCode, 200);
    t.equal(res2.json().members.length, 3);
  });

  await t.test('excludedAttributes=members on GET and list', async (t) => {
    const one = await entra.send('GET', `${gurl}?excludedAttributes=members`);
    t.equal(one.statusCode, 200);
    t.notOk('members' in one.json());
    t.equal(one.json().displayName, 'displayName');
    t.equal(one.json().id, group.id);
    const list = await entra.send('GET', `/Groups?${qs({ excludedAttributes: 'members', filter: 'displayName eq "displayName"' })}`);
    t.equal(list.statusCode, 200);
    const body = list.json() as Json;
    t.equal(body.totalResults, 1);
    t.notOk('members' in body.Resources[0]);
    const withMembers = (await entra.send('GET', gurl)).json() as Json;
    t.equal(withMembers.members.length, 3, 'members are returned by default');
  });

  await t.test('Remove members: "path":"members" with a value, and a members[value eq] path', async (t) => {
    let res = await entra.patch(gurl, { op: 'Remove', path: 'members', value: [{ $ref: null, value: alice.id }] });
    t.equal(res.statusCode, 200);
    t.same(res.json().members.map((m: Json) => m.value).sort(), [bob.id, carol.id].sort());
    t.equal(lastRow(app).event, 'Remove Group Members');

    res = await entra.patch(gurl, { op: 'remove', path: `members[value eq "${bob.id}"]` });
    t.equal(res.statusCode, 200);
    t.same(res.json().members.map((m: Json) => m.value), [carol.id]);
    t.equal(lastRow(app).event, 'Remove Group Members');
    t.equal(lastRow(app).action, 'PROVISIONING_MODIFY');
  });

  await t.test('Replace displayName is an Update Group', async (t) => {
    const res = await entra.patch(gurl, { op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' });
    t.equal(res.statusCode, 200);
    t.equal(res.json().displayName, '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');
    t.equal(res.json().members.length, 1, 'members untouched');
    const row = lastRow(app);
    t.equal(row.event, 'Update Group');
    t.equal(row.action, 'PROVISIONING_MODIFY');
  });

  await t.test('a user in a group lists it in groups; deleting the group', async (t) => {
    const u = (await entra.send('GET', `/Users/${carol.id}`)).json() as Json;
    t.same(u.groups?.map((g: Json) => g.value), [group.id]);
    const del = await entra.send('DELETE', gurl);
    t.equal(del.statusCode, 204);
    const row = lastRow(app);
    t.equal(row.event, 'Delete Group');
    t.equal(row.action, 'PROVISIONING_DELETE');
    const after = (await entra.send('GET', `/Users/${carol.id}`)).json() as Json;
    t.notOk(after.groups, 'the user is no longer in the deleted group');
  });
});

t.test('Okta: users', async (t) => {
  const { scim, app } = await build(t);
  const okta = client(scim, OKTA_UA);
  const password = 'Okta-1mz050nq-secret';

  const lookup = await okta.send('GET', `/Users?${qs({ filter: 'userName eq "test.user@okta.local"', startIndex: 1, count: 100 })}`);
  t.equal(lookup.statusCode, 200);
  t.equal(lookup.json().totalResults, 0);
  t.equal(lookup.json().startIndex, 1);

  const createdRes = await okta.send('POST', '/Users', {
    schemas: [USER_SCHEMA],
    userName: 'test.user@okta.local',
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    groups: [],
    password,
    active: true,
  });
  t.equal(createdRes.statusCode, 201);
  const user = createdRes.json() as Json;
  t.notOk('password' in user, 'the pushed password is not returned');
  t.equal(user.locale, 'en-US');
  t.notOk(user.groups, 'groups sent by the client are ignored (read-only)');
  const hashOf = () => (app.database.sqlite.prepare('SELECT password_hash AS h FROM scim_users WHERE id = ?').get(user.id) as { h: string | null }).h;
  const firstHash = hashOf();
  t.match(firstHash, /^scrypt\$/, 'the password is stored hashed');

  const found = (await okta.send('GET', `/Users?${qs({ filter: 'userName eq "test.user@okta.local"', startIndex: 1, count: 100 })}`)).json() as Json;
  t.equal(found.totalResults, 1);
  t.equal(found.itemsPerPage, 1);
  t.equal(found.Resources[0].id, user.id);

  // PUT: Okta sends the whole profile back, with id and meta
  const put = await okta.send('PUT', `/Users/${user.id}`, {
    schemas: [USER_SCHEMA],
    id: user.id,
    userName: 'test.user@okta.local',
    name: { givenName: 'Another', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
    active: true,
    groups: [],
    meta: { resourceType: 'User' },
  });
  t.equal(put.statusCode, 200);
  const replaced = put.json() as Json;
  t.same(replaced.name, { givenName: 'Another', familyName: 'User' });
  t.notOk('displayName' in replaced, 'PUT is a full replace: displayName was not sent');
  t.notOk('locale' in replaced);
  t.equal(replaced.externalId, undefined, 'externalId was not sent either');
  t.equal(replaced.id, user.id);
  t.equal(hashOf(), firstHash, 'a PUT without a password keeps the password');
  t.equal(lastRow(app).action, 'PROVISIONING_MODIFY');
  t.equal(lastRow(app).event, 'Replace User');

  // deactivate / reactivate: path-less replace with a real boolean
  let res = await okta.patch(`/Users/${user.id}`, { op: 'replace', value: { active: false } });
  t.equal(res.statusCode, 200);
  t.equal(res.json().active, false);
  t.equal(lastRow(app).action, 'PROVISIONING_DISABLE');
  res = await okta.patch(`/Users/${user.id}`, { op: 'replace', value: { active: true } });
  t.equal(res.json().active, true);
  t.equal(lastRow(app).action, 'PROVISIONING_ENABLE');

  // password sync through PATCH
  res = await okta.patch(`/Users/${user.id}`, { op: 'replace', path: 'password', value: 'Okta-changed-Pa55word' });
  t.equal(res.statusCode, 200);
  t.notOk(JSON.stringify(res.json()).includes('Okta-changed-Pa55word'));
  t.notOk('password' in res.json());
  t.not(hashOf(), firstHash, 'the hash changed');
  t.match(lastRow(app).log, /changed: password/, 'the audit entry says the password changed');
  t.equal(lastRow(app).action, 'PROVISIONING_RESET_PASSWORD', "a pushed password is seed 004's password reset through provisioning");
  t.notOk(String(lastRow(app).log).includes('Okta-changed-Pa55word'));

  res = await okta.send('PUT', `/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: 'test.user@okta.local', password: 'Okta-put-Pa55word', active: true });
  t.equal(res.statusCode, 200);
  t.notOk('password' in res.json());
  t.equal(lastRow(app).action, 'PROVISIONING_RESET_PASSWORD', 'a PUT that carries a password too');
  t.match(lastRow(app).log, /changed: .*password/);

  // deactivating and setting a password at once: the deactivation names the entry, the log lists both
  res = await okta.patch(`/Users/${user.id}`, { op: 'replace', value: { active: false, password: 'Okta-off-Pa55word' } });
  t.equal(res.statusCode, 200);
  t.equal(lastRow(app).action, 'PROVISIONING_DISABLE');
  t.match(lastRow(app).log, /changed: .*active.*password|changed: .*password.*active/);
  // a password removed is a change of the account, not a new password
  res = await okta.patch(`/Users/${user.id}`, { op: 'remove', path: 'password' });
  t.equal(res.statusCode, 200);
  t.equal(lastRow(app).action, 'PROVISIONING_MODIFY');
  t.match(lastRow(app).log, /password \(removed\)/);
  for (const row of auditRows(app)) {
    for (const secret of [password, 'Okta-changed-Pa55word', 'Okta-put-Pa55word', 'Okta-off-Pa55word']) t.notOk(JSON.stringify(row).includes(secret), `row ${row.id} has no password`);
  }

  const del = await okta.send('DELETE', `/Users/${user.id}`);
  t.equal(del.statusCode, 204);
  t.same(
    changesOf(app, user.id).map((r) => r.action),
    [
      'PROVISIONING_ADD',
      'PROVISIONING_MODIFY',
      'PROVISIONING_DISABLE',
      'PROVISIONING_ENABLE',
      'PROVISIONING_RESET_PASSWORD',
      'PROVISIONING_RESET_PASSWORD',
      'PROVISIONING_DISABLE',
      'PROVISIONING_MODIFY',
      'PROVISIONING_DELETE',
    ],
  );
});

t.test('Okta: group push', async (t) => {
  const { scim, app } = await build(t);
  const okta = client(scim, OKTA_UA);
  const ids: string[] = [];
  for (const n of ['one', 'two', 'three']) {
    const res = await okta.send('POST', '/Users', { schemas: [USER_SCHEMA], userName: `${n}@okta.local`, active: true });
    ids.push(res.json().id as string);
  }
  const [u1, u2, u3] = ids as [string, string, string];

  const lookup = await okta.send('GET', `/Groups?${qs({ filter: 'displayName eq "Test SCIMv2"', startIndex: 1, count: 100 })}`);
  t.equal(lookup.statusCode, 200);
  t.equal(lookup.json().totalResults, 0);

  const created = await okta.send('POST', '/Groups', {
    schemas: [GROUP_SCHEMA],
    displayName: 'Test SCIMv2',
    members: [{ value: u1, display: 'one@okta.local' }],
  });
  t.equal(created.statusCode, 201);
  const group = created.json() as Json;
  t.same(group.members.map((m: Json) => m.value), [u1]);
  t.equal(group.members[0].type, 'User', 'the member type is known to the server');
  t.equal(lastRow(app).action, 'PROVISIONING_ADD');
  t.equal(lastRow(app).event, 'Create Group');
  const gurl = `/Groups/${group.id}`;

  // Okta renames with a path-less replace that repeats the id
  let res = await okta.patch(gurl, { op: 'replace', value: { id: group.id, displayName: 'Test SCIMv2 renamed' } });
  t.equal(res.statusCode, 200);
  t.equal(res.json().displayName, 'Test SCIMv2 renamed');
  t.equal(res.json().id, group.id);
  t.equal(lastRow(app).event, 'Update Group');

  res = await okta.patch(gurl, { op: 'add', path: 'members', value: [{ value: u2, display: 'two@okta.local' }] });
  t.equal(res.statusCode, 200);
  t.same(res.json().members.map((m: Json) => m.value), [u1, u2]);
  t.equal(lastRow(app).event, 'Add Group Members');

  res = await okta.patch(gurl, { op: 'replace', path: 'members', value: [{ value: u3, display: 'three@okta.local' }] });
  t.equal(res.statusCode, 200);
  t.same(res.json().members.map((m: Json) => m.value), [u3], 'replace sets exactly the members given');
  t.equal(lastRow(app).event, 'Update Group', 'members added and removed at once');
  t.match(lastRow(app).log, /1 member added/);
  t.match(lastRow(app).log, /2 members removed/);

  res = await okta.patch(gurl, { op: 'remove', path: `members[value eq "${u3}"]` });
  t.equal(res.statusCode, 200);
  t.same(res.json().members ?? [], []);
  t.equal(lastRow(app).event, 'Remove Group Members');

  res = await okta.patch(gurl, { op: 'add', path: 'members', value: [{ value: 'no-such-user' }] });
  t.equal(res.statusCode, 400, 'an unknown member is refused');
  t.equal(res.json().scimType, 'invalidValue');

  const members = (await okta.send('GET', `/Groups?${qs({ filter: `members.value eq "${u1}"` })}`)).json() as Json;
  t.equal(members.totalResults, 0);

  const put = await okta.send('PUT', gurl, { schemas: [GROUP_SCHEMA], id: group.id, displayName: 'Test SCIMv2', members: [{ value: u1 }, { value: u2 }] });
  t.equal(put.statusCode, 200);
  t.same(put.json().members.map((m: Json) => m.value), [u1, u2]);
  t.equal(lastRow(app).event, 'Replace Group');

  const del = await okta.send('DELETE', gurl);
  t.equal(del.statusCode, 204);
  t.same(
    changesOf(app, group.id).map((r) => [r.event, r.action]),
    [
      ['Create Group', 'PROVISIONING_ADD'],
      ['Update Group', 'PROVISIONING_MODIFY'],
      ['Add Group Members', 'PROVISIONING_MODIFY'],
      ['Update Group', 'PROVISIONING_MODIFY'],
      ['Remove Group Members', 'PROVISIONING_MODIFY'],
      ['Replace Group', 'PROVISIONING_MODIFY'],
      ['Delete Group', 'PROVISIONING_DELETE'],
    ],
  );
  const audited = auditRows(app).filter((r) => r.protocol === 'SCIM');
  t.ok(audited.every((r) => r.user_agent === OKTA_UA), 'every entry has Okta\'s user agent');
  t.ok(audited.every((r) => r.principal === 'test-token'), 'every entry names the token');
});

t.test('a tenant URL entered with a trailing slash: //Users and /Users/ route as /Users, logged as sent', async (t) => {
  const { scim, app } = await build(t);
  const entra = client(scim, ENTRA_UA);
  /** the request line of the last audit entry: method, path and query as the client sent them */
  const logged = () => {
    const row = lastRow(app);
    return { event: row.event, http: row.http, request: String(row.log).split('\n').find((l) => / · client /.test(l))?.split(' · ')[0] };
  };

  const created = await entra.send('POST', '/scim/v2//Users', { schemas: [USER_SCHEMA], userName: 'slash@example.com' });
  t.equal(created.statusCode, 201, 'POST //Users creates');
  const id = created.json().id as string;
  t.same(logged(), { event: 'Create User', http: 201, request: 'POST /scim/v2//Users' });

  const filter = 'userName eq "slash@example.com"';
  const found = await entra.send('GET', `/scim/v2//Users?${qs({ filter })}`);
  t.equal(found.statusCode, 200);
  t.same(found.json().Resources.map((u: Json) => u.id), [id], 'GET //Users?filter= finds the user');
  t.same(logged(), { event: 'List Users', http: 200, request: `GET /scim/v2//Users?filter=${filter}` });

  const page = await entra.send('GET', '/scim/v2/Users/?count=1');
  t.equal(page.statusCode, 200, '/Users/ is the list, not a user with an empty id');
  t.same(page.json().schemas, [LIST_SCHEMA]);
  t.equal(page.json().itemsPerPage, 1);
  t.same(logged(), { event: 'List Users', http: 200, request: 'GET /scim/v2/Users/?count=1' });

  for (const url of [`/scim/v2//Users/${id}`, `/scim/v2/Users/${id}/`, `/scim/v2//Users//${id}/`]) {
    const res = await entra.send('GET', url);
    t.equal(res.statusCode, 200, `GET ${url}`);
    t.equal(res.json().id, id);
    t.same(logged(), { event: 'Get User', http: 200, request: `GET ${url}` });
  }
  const patched = await entra.patch(`/scim/v2//Users/${id}`, { op: 'Replace', path: 'displayName', value: 'Slash' });
  t.equal(patched.statusCode, 200, 'PATCH //Users/{id}');
  t.equal((await entra.send('POST', '/scim/v2//Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter })).json().totalResults, 1, 'POST //Users/.search');
  t.equal((await entra.send('GET', '/scim/v2//Groups/')).statusCode, 200, 'GET //Groups/');
  t.equal((await entra.send('GET', '/scim/v2//ServiceProviderConfig')).statusCode, 200, 'GET //ServiceProviderConfig');
  t.equal((await entra.send('GET', '/scim/v2/')).statusCode, 404, 'the base URL itself is still no endpoint');

  const unknown = await entra.send('GET', '/scim/v2//Nope/');
  t.equal(unknown.statusCode, 404, 'an unknown path is still a SCIM 404');
  t.match(unknown.headers['content-type'], SCIM_JSON);
  t.same(logged(), { event: 'Unknown Endpoint', http: 404, request: 'GET /scim/v2//Nope/' });

  const unauthorized = await scim({ method: 'GET', url: '/scim/v2//Users', token: null });
  t.equal(unauthorized.statusCode, 401, 'without a token: 401, as without the slash');

  t.equal((await entra.send('DELETE', `/scim/v2//Users/${id}/`)).statusCode, 204, 'DELETE //Users/{id}/');
  t.equal((await entra.send('GET', `/scim/v2/Users/${id}`)).statusCode, 404, 'deleted');
});

t.test('.search: the SearchRequest attribute names are case-insensitive (RFC 7643 §2.1)', async (t) => {
  const b = await build(t);
  for (const userName of ['ann@example.com', 'ben@example.com', 'cid@example.com']) {
    t.equal((await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName } })).statusCode, 201);
  }
  const search = (payload: Record<string, unknown>) => b.scim({ method: 'POST', url: '/Users/.search', payload });
  const res = await search({ Schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], Filter: 'userName sw "b"', Count: 5, StartIndex: 1, SortBy: 'userName', Attributes: ['userName'] });
  t.equal(res.statusCode, 200);
  const body = res.json() as { totalResults: number; Resources: { userName: string; name?: unknown }[] };
  t.equal(body.totalResults, 1, '"Filter" filters: not every user');
  t.same(body.Resources.map((r) => r.userName), ['ben@example.com']);
  const all = (await search({ FILTER: 'userName pr', SORTORDER: 'descending', sortby: 'userName', COUNT: 2 })).json() as { totalResults: number; Resources: { userName: string }[] };
  t.same(all.Resources.map((r) => r.userName), ['cid@example.com', 'ben@example.com'], 'sortBy, sortOrder and count in any case');
  t.equal(all.totalResults, 3);

  const twice = await search({ filter: 'userName eq "ann@example.com"', Filter: 'userName pr' });
  t.equal(twice.statusCode, 400, 'the same attribute twice in two cases is refused, not guessed');
  t.equal(twice.json().scimType, 'invalidSyntax');
  t.match(twice.json().detail, /"filter" twice/);
});
