// Filters (RFC 7644 §3.4.2.2) and sorting (§3.4.2.3) through the HTTP API, table-driven from
// test/fixtures/scim-filter-queries.json over a fixed seeded set, plus the query plans of the
// indexed lookups.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { compileFilter, compileSort } from '../../src/db/scim-query.js';
import type { AttrPath } from '../../src/scim/filter-ast.js';
import { evaluateFilter, parseFilter } from '../../src/scim/filter.js';
import { groupResourceType, resolveAttribute, userResourceType, type ResourceTypeDef } from '../../src/scim/schemas.js';
import { build, ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

type Json = Record<string, any>;
interface Query {
  filter: string;
  expect: string[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/scim-filter-queries.json', import.meta.url), 'utf8')) as {
  Users: Query[];
  Groups: Query[];
};

/** The seeded users, in creation order; `later*` are created after the instant {{t1}}. */
function seedUsers(ids: Map<string, string>): Json[] {
  return [
    {
      userName: 'bjensen@example.com',
      externalId: 'bjensen',
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      displayName: 'Babs Jensen',
      title: 'Tour Guide',
      emails: [
        { type: 'home', value: 'babs@jensen.org' },
        { type: 'work', value: 'bjensen@example.com', primary: true },
      ],
      active: true,
      [ENTERPRISE]: { department: 'Tour Operations', employeeNumber: '701984' },
    },
    {
      userName: 'jsmith@example.org',
      externalId: 'JSmith',
      name: { givenName: 'John', familyName: 'Smith' },
      displayName: 'John Smith',
      title: 'Engineer',
      emails: [{ type: 'work', value: 'jsmith@example.org', primary: true }],
      active: true,
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '1001' },
    },
    {
      userName: 'asmith@example.org',
      externalId: 'jsmith',
      name: { givenName: 'Alice', familyName: 'Smith' },
      title: 'Senior Engineer',
      emails: [
        { type: 'work', value: 'asmith@example.org' },
        { type: 'home', value: 'alice@gmail.test' },
      ],
      active: false,
      [ENTERPRISE]: { department: 'Engineering', employeeNumber: '1002' },
    },
    {
      userName: 'mjones@example.com',
      name: { givenName: 'Mary', familyName: 'Jones' },
      title: 'Manager',
      emails: [{ type: 'work', value: 'mjones@example.com', primary: true }],
      phoneNumbers: [{ type: 'mobile', value: '+44 20 7946 0000' }],
      active: true,
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '2001' },
    },
    {
      userName: 'tlee@example.net',
      name: { givenName: 'Tom', familyName: 'Lee' },
      emails: [{ type: 'home', value: 'tlee@example.net' }],
      active: false,
    },
    {
      userName: 'zoe@example.org',
      name: { givenName: 'Zoë', familyName: 'Zimmerman' },
      title: 'Engineer',
      // the primary email is not the first one: sortBy=emails must use the primary
      emails: [
        { type: 'work', value: 'zoe@example.org' },
        { type: 'home', value: 'aaa-zoe@example.com', primary: true },
      ],
      active: true,
      [ENTERPRISE]: { department: 'engineering', employeeNumber: '1003' },
    },
    {
      userName: 'kwong@example.com',
      name: { givenName: 'Kim', familyName: 'Wong' },
      title: 'Director',
      active: true,
      [ENTERPRISE]: { department: 'Sales', employeeNumber: '2002', manager: { value: ids.get('user:mjones') } },
    },
    {
      userName: 'xavier@example.org',
      name: { givenName: 'Xavier', familyName: "O'Brien" },
      title: 'Intern',
      emails: [{ type: 'work', value: 'xavier@example.org' }],
      active: true,
    },
    {
      userName: 'percent@example.com',
      displayName: '100% Done_ok',
      title: 'QA_Lead',
      emails: [{ type: 'work', value: 'percent@example.com' }],
      active: true,
    },
    {
      userName: 'amy@example.com',
      name: { givenName: 'Amy', familyName: 'Adams' },
      displayName: 'Amy Doneyok',
      title: 'engineer',
      emails: [{ type: 'work', value: 'amy@EXAMPLE.ORG' }],
      active: true,
    },
    { userName: 'later1@example.com', title: 'Contractor', emails: [{ type: 'work', value: 'later1@example.com' }], active: true },
    { userName: 'later2@example.com', title: 'Contractor', active: false },
  ];
}

interface Seeded {
  b: Built;
  ids: Map<string, string>;
  t1: string;
  users: Json[];
  groups: Json[];
}

async function seed(t: Tap): Promise<Seeded> {
  const b = await build(t);
  const ids = new Map<string, string>();
  const created: Json[] = [];
  const create = async (u: Json) => {
    const schemas = u[ENTERPRISE] ? [USER_SCHEMA, ENTERPRISE] : [USER_SCHEMA];
    const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas, ...u } });
    if (res.statusCode !== 201) throw new Error(`seeding ${u.userName}: ${res.statusCode} ${res.body}`);
    ids.set(`user:${String(u.userName).split('@')[0]}`, res.json().id);
    created.push(res.json());
  };
  // sequentially, one commit each, so creation order (seq) is the seed order; kwong needs mjones' id
  const first = seedUsers(ids).slice(0, 10);
  for (let i = 0; i < first.length; i++) await create(seedUsers(ids)[i]!);

  const group = async (displayName: string, members: string[], externalId?: string) => {
    const res = await b.scim({
      method: 'POST',
      url: '/Groups',
      payload: { schemas: [GROUP_SCHEMA], displayName, ...(externalId && { externalId }), members: members.map((m) => ({ value: ids.get(m) })) },
    });
    if (res.statusCode !== 201) throw new Error(`seeding group ${displayName}: ${res.statusCode} ${res.body}`);
    ids.set(`group:${displayName}`, res.json().id);
  };
  await group('Engineering', ['user:jsmith'], 'grp-eng');
  await group('Sales', ['user:mjones', 'user:kwong']);
  await group('All Staff', ['user:jsmith', 'group:Sales']);
  await group('Empty', []);

  await new Promise((r) => setTimeout(r, 15));
  const t1 = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 15));
  for (const u of seedUsers(ids).slice(10)) await create(u);

  const users = ((await b.scim({ method: 'GET', url: '/Users' })).json() as Json).Resources as Json[];
  const groups = ((await b.scim({ method: 'GET', url: '/Groups' })).json() as Json).Resources as Json[];
  return { b, ids, t1, users, groups };
}
type Tap = Parameters<typeof build>[0];

function substitute(text: string, s: Pick<Seeded, 'ids' | 't1'>): string {
  return text.replace(/\{\{(user:[^}]+|group:[^}]+|t1)\}\}/g, (_, key: string) => {
    if (key === 't1') return s.t1;
    const id = s.ids.get(key);
    if (!id) throw new Error(`fixture names unknown ${key}`);
    return id;
  });
}

/** caseExact as the schema defines it, for the in-memory evaluator. */
function caseExactOf(rt: ResourceTypeDef) {
  return (path: AttrPath): boolean => {
    const r = resolveAttribute(rt, path);
    if (!r) return false;
    if (r.sub) return r.sub.caseExact;
    if (r.attribute.type === 'complex') return r.attribute.subAttributes?.find((s) => s.name === 'value')?.caseExact ?? false;
    return r.attribute.caseExact;
  };
}

t.test('filters', async (t) => {
  const s = await seed(t);
  const { b } = s;
  t.equal(s.users.length, 12, 'twelve users seeded');
  t.equal(s.groups.length, 4, 'four groups seeded');

  const run = async (resource: 'Users' | 'Groups', q: Query) => {
    const filter = substitute(q.filter, s);
    const key = resource === 'Users' ? 'userName' : 'displayName';
    await t.test(`${resource}: ${q.filter}`, async (t) => {
      const res = await b.scim({ method: 'GET', url: `/${resource}?${qs({ filter })}` });
      t.equal(res.statusCode, 200, res.statusCode === 200 ? 'ok' : res.body);
      if (res.statusCode !== 200) return;
      const body = res.json() as Json;
      const got = ((body.Resources ?? []) as Json[]).map((r) => r[key] as string);
      t.same([...got].sort(), [...q.expect].sort(), 'the expected resources');
      t.equal(body.totalResults, q.expect.length, 'totalResults');

      // the same filter through POST /.search
      const search = await b.scim({ method: 'POST', url: `/${resource}/.search`, payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter } });
      t.same((((search.json() as Json).Resources ?? []) as Json[]).map((r) => r[key]).sort(), [...q.expect].sort(), '.search agrees');

      // the in-memory evaluator (used for PATCH value filters) agrees with the SQL compilation
      const rt = resource === 'Users' ? userResourceType : groupResourceType;
      const all = resource === 'Users' ? s.users : s.groups;
      const parsed = parseFilter(filter);
      const inMemory = all.filter((r) => evaluateFilter(parsed, r, { caseExact: caseExactOf(rt) })).map((r) => r[key] as string);
      t.same(inMemory.sort(), [...q.expect].sort(), 'evaluateFilter agrees');
    });
  };
  for (const q of fixture.Users) await run('Users', q);
  for (const q of fixture.Groups) await run('Groups', q);
});

t.test('sorting and paging', async (t) => {
  const s = await seed(t);
  const { b } = s;
  const seedOrder = s.users.map((u) => u.userName as string);
  /** creation order, then the key: nulls last, ties in creation order */
  const sortedBy = (key: (u: Json) => string | null | undefined, order: 'ascending' | 'descending' = 'ascending') => {
    const rows = s.users.map((u, i) => ({ u, i, k: key(u) ?? null }));
    rows.sort((a, b) => {
      if (a.k === null || b.k === null) return a.k === b.k ? a.i - b.i : a.k === null ? 1 : -1;
      if (a.k === b.k) return a.i - b.i;
      return (a.k < b.k ? -1 : 1) * (order === 'descending' ? -1 : 1);
    });
    return rows.map((r) => r.u.userName as string);
  };
  const list = async (params: Record<string, string | number>) => {
    const res = await b.scim({ method: 'GET', url: `/Users?${qs(params)}` });
    t.equal(res.statusCode, 200, `GET /Users?${qs(params)}`);
    return ((res.json() as Json).Resources ?? []) as Json[];
  };
  const names = (rows: Json[]) => rows.map((u) => u.userName as string);

  t.same(names(await list({})), seedOrder, 'no sortBy: creation order');
  t.same(names(await list({ sortBy: 'userName' })), [...seedOrder].sort(), 'sortBy userName (ascending by default)');
  t.same(names(await list({ sortBy: 'userName', sortOrder: 'ascending' })), [...seedOrder].sort());
  t.same(names(await list({ sortBy: 'userName', sortOrder: 'descending' })), [...seedOrder].sort().reverse(), 'descending');
  t.same(names(await list({ sortBy: 'USERNAME', sortOrder: 'DESCENDING' })), [...seedOrder].sort().reverse(), 'names and order are case-insensitive');

  const primaryEmail = (u: Json) => {
    const emails = (u.emails ?? []) as Json[];
    return ((emails.find((e) => e.primary === true) ?? emails[0])?.value as string | undefined)?.toLowerCase();
  };
  const byEmail = sortedBy(primaryEmail);
  t.equal(byEmail[0], 'zoe@example.org', 'zoe sorts first by her primary (not first) email');
  t.same(names(await list({ sortBy: 'emails' })), byEmail, 'sortBy emails uses the primary value');
  t.same(names(await list({ sortBy: 'emails.value' })), byEmail, 'sortBy emails.value');
  t.same(names(await list({ sortBy: 'emails', sortOrder: 'descending' })), sortedBy(primaryEmail, 'descending'), 'sortBy emails descending');

  const title = (u: Json) => (u.title as string | undefined)?.toLowerCase();
  const byTitle = sortedBy(title);
  t.same(names(await list({ sortBy: 'title' })), byTitle, 'sortBy title, case-insensitive, ties in creation order');
  t.same(names(await list({ sortBy: 'name.familyName' })), sortedBy((u) => (u.name?.familyName as string | undefined)?.toLowerCase()), 'sortBy a sub-attribute');
  t.same(
    names(await list({ sortBy: `${ENTERPRISE}:department`, sortOrder: 'descending' })),
    sortedBy((u) => (u[ENTERPRISE]?.department as string | undefined)?.toLowerCase(), 'descending'),
    'sortBy an enterprise attribute',
  );
  t.same(names(await list({ sortBy: 'externalId' })), sortedBy((u) => u.externalId as string | undefined), 'externalId sorts case-exactly');
  t.same(names(await list({ sortBy: 'meta.created', sortOrder: 'descending' })), [...seedOrder].reverse(), 'sortBy meta.created');
  t.same(names(await list({ sortBy: 'meta.created' })), seedOrder, 'sortBy meta.created ascending');
  // users created in the same millisecond tie on meta.created: their creation order follows the direction
  t.match(compileSort(userResourceType, 'meta.created', 'descending'), /created_at DESC, r\.seq DESC$/, 'newest first even within one millisecond');
  t.match(compileSort(userResourceType, 'meta.created', 'ascending'), /created_at ASC, r\.seq ASC$/);
  t.match(compileSort(userResourceType, 'title', 'descending'), /r\.seq ASC$/, 'other ties stay in creation order');

  for (const count of [1, 2, 5]) {
    for (const [sortBy, expected] of [
      ['title', byTitle],
      ['emails', byEmail],
      ['userName', [...seedOrder].sort()],
    ] as const) {
      const walked: string[] = [];
      for (let startIndex = 1; startIndex <= 12; startIndex += count) walked.push(...names(await list({ sortBy, startIndex, count })));
      t.same(walked, expected, `sortBy ${sortBy}, pages of ${count}: stable and complete`);
    }
  }

  const filteredPage = await list({ filter: 'title eq "engineer"', sortBy: 'userName', sortOrder: 'descending', startIndex: 2, count: 1 });
  t.same(names(filteredPage), ['jsmith@example.org'], 'filter, sort and page together');

  const groups = ((await b.scim({ method: 'GET', url: `/Groups?${qs({ sortBy: 'displayName' })}` })).json() as Json).Resources as Json[];
  t.same(groups.map((g) => g.displayName), ['All Staff', 'Empty', 'Engineering', 'Sales'], 'groups sort by displayName');
});

t.test('indexed lookups use their indexes (EXPLAIN QUERY PLAN)', async (t) => {
  const b = await build(t);
  const { sqlite } = b.app.database;
  const plan = (sql: string, params: unknown[]) =>
    (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');

  const cases: { rt: ResourceTypeDef; table: string; filter: string; sql: string; index: string }[] = [
    { rt: userResourceType, table: 'scim_users', filter: 'userName eq "bjensen@example.com"', sql: 'r.user_name_key = ?', index: 'scim_users_user_name_key' },
    { rt: userResourceType, table: 'scim_users', filter: 'USERNAME eq "BJensen@example.com"', sql: 'r.user_name_key = ?', index: 'scim_users_user_name_key' },
    { rt: userResourceType, table: 'scim_users', filter: 'userName eq "Élodie.Durand@contoso.com"', sql: 'r.user_name_key = ?', index: 'scim_users_user_name_key' },
    { rt: userResourceType, table: 'scim_users', filter: 'userName sw "bjen"', sql: 'r.user_name_key >= ?', index: 'scim_users_user_name_key' },
    { rt: userResourceType, table: 'scim_users', filter: 'externalId eq "00ujl29u0le5T6Aj10h7"', sql: 'r.external_id = ?', index: 'scim_users_external_id' },
    { rt: userResourceType, table: 'scim_users', filter: 'displayName eq "Babs Jensen"', sql: 'r.display_name_key = ?', index: 'scim_users_display_name_key' },
    { rt: groupResourceType, table: 'scim_groups', filter: 'displayName eq "Engineering"', sql: 'r.display_name_key = ?', index: 'scim_groups_display_name_key' },
    { rt: groupResourceType, table: 'scim_groups', filter: 'displayName eq "Équipe Ventes"', sql: 'r.display_name_key = ?', index: 'scim_groups_display_name_key' },
    { rt: groupResourceType, table: 'scim_groups', filter: 'externalId eq "8aa1a0c0"', sql: 'r.external_id = ?', index: 'scim_groups_external_id' },
  ];
  for (const c of cases) {
    const where = compileFilter(c.rt, parseFilter(c.filter));
    t.ok(where.sql.includes(c.sql), `${c.filter} compiles to ${c.sql}: ${where.sql}`);
    const bare = plan(`SELECT * FROM ${c.table} r WHERE ${where.sql}`, where.params);
    t.match(bare, new RegExp(`USING (COVERING )?INDEX ${c.index}\\b`), `${c.filter}: ${bare}`);
    // the statements the repository runs: the page, in creation order, and the count
    const page = plan(`SELECT * FROM ${c.table} r WHERE ${where.sql} ORDER BY r.seq ASC LIMIT ? OFFSET ?`, [...where.params, 100, 0]);
    t.match(page, new RegExp(`INDEX ${c.index}\\b`), `${c.filter} (page): ${page}`);
    const count = plan(`SELECT count(*) AS n FROM ${c.table} r WHERE ${where.sql}`, where.params);
    t.match(count, new RegExp(`INDEX ${c.index}\\b`), `${c.filter} (count): ${count}`);
  }

  // and with data in the tables, the answers are right (the index is on the stored fold key)
  await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'MiXeD@Example.COM', displayName: 'MiXeD Case' } });
  for (const filter of ['userName eq "mixed@example.com"', 'displayName eq "mixed case"', 'userName sw "MIXED@"']) {
    const res = (await b.scim({ method: 'GET', url: `/Users?${qs({ filter })}` })).json() as Json;
    t.equal(res.totalResults, 1, filter);
  }
});

t.test('the same filter compiles to the same SQL (so the prepared-statement cache can hit)', async (t) => {
  for (const filter of ['userName eq "a"', 'emails.value eq "x"', 'emails[type eq "work"]', 'groups.value eq "g"']) {
    const a = compileFilter(userResourceType, parseFilter(filter)).sql;
    const b = compileFilter(userResourceType, parseFilter(filter)).sql;
    t.equal(a, b, filter);
  }
});
