// attributes and excludedAttributes (RFC 7644 §3.4.2.5, §3.9) with URN-qualified names (§3.10):
// every case through GET by id, a list and POST /.search, including the attributes the server
// computes instead of storing (a user's groups, a group's members).
import t from 'tap';
import { build, ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA, qs } from '../helper.js';

type Json = Record<string, any>;
const SEARCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

interface Case {
  attributes?: string;
  excludedAttributes?: string;
  /** the expected representation, from the full one */
  expect: (full: Json) => Json;
}

const U = USER_SCHEMA;
const E = ENTERPRISE;
const G = GROUP_SCHEMA;

/** `full` without the named top-level keys */
const omit = (full: Json, ...keys: string[]) => Object.fromEntries(Object.entries(full).filter(([k]) => !keys.includes(k)));
const always = (full: Json) => ({ schemas: full.schemas, id: full.id });

const userCases: Case[] = [
  { attributes: `${U}:groups`, expect: (f) => ({ ...always(f), groups: f.groups }) },
  { attributes: `${U.toUpperCase()}:GROUPS`, expect: (f) => ({ ...always(f), groups: f.groups }) },
  { attributes: `${U}:groups.display`, expect: (f) => ({ ...always(f), groups: f.groups.map((g: Json) => ({ display: g.display })) }) },
  { attributes: 'groups', expect: (f) => ({ ...always(f), groups: f.groups }) },
  { attributes: `${U}:userName`, expect: (f) => ({ ...always(f), userName: f.userName }) },
  { attributes: `${U}:name.givenName,${U}:meta.created`, expect: (f) => ({ ...always(f), name: { givenName: f.name.givenName }, meta: { created: f.meta.created } }) },
  { attributes: `${U}:emails.value`, expect: (f) => ({ ...always(f), emails: f.emails.map((e: Json) => ({ value: e.value })) }) },
  { attributes: `${E}:manager.value`, expect: (f) => ({ ...always(f), [E]: { manager: { value: f[E].manager.value } } }) },
  { attributes: `${E}:department,${U}:groups`, expect: (f) => ({ ...always(f), groups: f.groups, [E]: { department: f[E].department } }) },
  { attributes: E, expect: (f) => ({ ...always(f), [E]: f[E] }) },
  { attributes: `${E}:employeeNumber`, expect: (f) => ({ ...always(f), [E]: { employeeNumber: f[E].employeeNumber } }) },

  { excludedAttributes: `${U}:groups`, expect: (f) => omit(f, 'groups') },
  { excludedAttributes: `${U}:groups.display`, expect: (f) => ({ ...f, groups: f.groups.map((g: Json) => omit(g, 'display')) }) },
  { excludedAttributes: `${U}:emails,${U}:name.familyName,${U}:meta`, expect: (f) => ({ ...omit(f, 'emails', 'meta'), name: omit(f.name, 'familyName') }) },
  // the manager's only sub-attribute: the emptied manager goes too
  { excludedAttributes: `${E}:manager.value`, expect: (f) => ({ ...f, [E]: omit(f[E], 'manager') }) },
  { excludedAttributes: `${E.toLowerCase()}:EMPLOYEENUMBER`, expect: (f) => ({ ...f, [E]: omit(f[E], 'employeeNumber') }) },
  { excludedAttributes: `${E}:department,${E}:manager`, expect: (f) => ({ ...f, [E]: omit(f[E], 'department', 'manager') }) },
  { excludedAttributes: E, expect: (f) => omit(f, E) },
];

const groupCases: Case[] = [
  { attributes: `${G}:members`, expect: (f) => ({ ...always(f), members: f.members }) },
  { attributes: `${G}:members.value`, expect: (f) => ({ ...always(f), members: f.members.map((m: Json) => ({ value: m.value })) }) },
  { attributes: `${G}:displayName`, expect: (f) => ({ ...always(f), displayName: f.displayName }) },
  { excludedAttributes: `${G}:members`, expect: (f) => omit(f, 'members') },
  { excludedAttributes: `${G}:members.display,${G}:meta.location`, expect: (f) => ({ ...f, members: f.members.map((m: Json) => omit(m, 'display')), meta: omit(f.meta, 'location') }) },
];

t.test('URN-qualified attributes and excludedAttributes: GET by id, list and .search agree', async (t) => {
  const b = await build(t);
  const create = async (url: string, payload: Json) => {
    const res = await b.scim({ method: 'POST', url, payload });
    if (res.statusCode !== 201) throw new Error(`seeding: ${res.statusCode} ${res.body}`);
    return res.json() as Json;
  };
  const boss = await create('/Users', { schemas: [U], userName: 'boss@example.com', displayName: 'The Boss' });
  const user = await create('/Users', {
    schemas: [U, E],
    userName: 'proj@example.com',
    name: { givenName: 'Pro', familyName: 'Jection' },
    emails: [{ value: 'proj@example.com', type: 'work', primary: true }, { value: 'p@home.test', type: 'home' }],
    [E]: { department: 'Sales', employeeNumber: '42', manager: { value: boss.id } },
  });
  const group = await create('/Groups', { schemas: [G], displayName: 'Projectors', members: [{ value: user.id }, { value: boss.id }] });

  const run = async (resource: 'Users' | 'Groups', id: string, cases: Case[]) => {
    const full = (await b.scim({ method: 'GET', url: `/${resource}/${id}` })).json() as Json;
    t.ok(resource === 'Users' ? full.groups?.length === 1 && full[E]?.manager?.value === boss.id : full.members?.length === 2, `${resource}: the full representation has what the cases select`);
    for (const c of cases) {
      const param: Record<string, string> = c.attributes !== undefined ? { attributes: c.attributes } : { excludedAttributes: c.excludedAttributes! };
      const expected = c.expect(full);
      await t.test(`${resource} ${decodeURIComponent(qs(param))}`, async (t) => {
        const byId = await b.scim({ method: 'GET', url: `/${resource}/${id}?${qs(param)}` });
        t.equal(byId.statusCode, 200);
        t.same(byId.json(), expected, 'GET by id');
        t.strictSame(Object.keys(byId.json()).sort(), Object.keys(expected).sort(), 'GET by id: no other attribute');

        const list = await b.scim({ method: 'GET', url: `/${resource}?${qs({ filter: `id eq "${id}"`, ...param })}` });
        t.same((list.json() as Json).Resources, [expected], 'list');

        const body: Json = { schemas: [SEARCH_SCHEMA], filter: `id eq "${id}"` };
        for (const [k, v] of Object.entries(param)) body[k] = v.split(',');
        const search = await b.scim({ method: 'POST', url: `/${resource}/.search`, payload: body });
        t.same((search.json() as Json).Resources, [expected], '.search');
      });
    }
  };
  await run('Users', user.id, userCases);
  await run('Groups', group.id, groupCases);
});
