// Case-insensitive SCIM strings fold all of Unicode (src/scim/fold.ts), not ASCII only as SQLite's
// lower() does: lookups, filters, sorting and uniqueness (RFC 7643 §4.1.1, caseExact=false), the
// start-up backfill of the fold keys of rows written before migration 0013, and the query plans.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connection.js';
import { backfillScimKeys } from '../../src/db/scim-keys.js';
import { compileFilter, compileSort } from '../../src/db/scim-query.js';
import { parseFilter } from '../../src/scim/filter.js';
import { fold } from '../../src/scim/fold.js';
import { groupResourceType, userResourceType } from '../../src/scim/schemas.js';
import { createThreadScimReader } from '../../src/services/scim-reader.js';
import type { ReadOutcome } from '../../src/services/scim-reads.js';
import { build, ENTERPRISE, GROUP_SCHEMA, PATCH_SCHEMA, qs, tempDir, USER_SCHEMA, type Built } from '../helper.js';

type Json = Record<string, any>;

async function post(t: Test, b: Built, url: string, payload: Json, status = 201): Promise<Json> {
  const res = await b.scim({ method: 'POST', url, payload });
  t.equal(res.statusCode, status, `POST ${url} ${JSON.stringify(payload.userName ?? payload.displayName)}: ${status}`);
  return res.json() as Json;
}

async function list(b: Built, resource: 'Users' | 'Groups', params: Record<string, string>): Promise<Json> {
  const res = await b.scim({ method: 'GET', url: `/${resource}?${qs(params)}` });
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
  return res.json() as Json;
}

const ids = (page: Json) => (page.Resources as Json[]).map((r) => r.id as string);

t.test('fold() is the locale-independent Unicode lower-case mapping', async (t) => {
  t.equal(fold('Élodie.Durand@Contoso.com'), 'élodie.durand@contoso.com');
  t.equal(fold('ÉQUIPE VENTES'), 'équipe ventes');
  t.equal(fold('ÖMER'), 'ömer');
  t.equal(fold('ΣΊΣΥΦΟΣ'), 'σίσυφος', 'final sigma, as String.prototype.toLowerCase maps it');
  t.equal(fold('I'), 'i', 'no Turkish dotless i: the mapping does not depend on a locale');
  t.equal(fold('plain@example.com'), 'plain@example.com');
});

t.test('userName: the exact string finds its user, a Unicode case variant is the same name (409), never another user', async (t) => {
  const b = await build(t);
  const elodie = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'Élodie.Durand@contoso.com', displayName: 'Élodie Durand' });
  for (const filter of [
    'userName eq "Élodie.Durand@contoso.com"',
    'userName eq "élodie.durand@contoso.com"',
    'userName eq "ÉLODIE.DURAND@CONTOSO.COM"',
    'userName sw "élodie"',
    'userName ew "DURAND@CONTOSO.COM"',
    'userName co "LODIE.D"',
    'userName co "ÉLODIE"',
    'displayName eq "ÉLODIE DURAND"',
  ]) {
    t.same(ids(await list(b, 'Users', { filter })), [elodie.id], filter);
  }
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "elodie.durand@contoso.com"' })), [], 'folding is not accent stripping');

  const dup = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'élodie.durand@contoso.com' }, 409);
  t.equal(dup.scimType, 'uniqueness');
  t.match(dup.detail, elodie.id, 'the 409 names the user who holds the name');

  const other = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'omer@contoso.com' });
  const put = await b.scim({ method: 'PUT', url: `/Users/${other.id}`, payload: { schemas: [USER_SCHEMA], userName: 'ÉLODIE.durand@contoso.com' } });
  t.equal(put.statusCode, 409, 'PUT to a case variant: 409');
  t.equal(put.json().scimType, 'uniqueness');
  const patch = await b.scim({
    method: 'PATCH',
    url: `/Users/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'élodie.DURAND@contoso.com' }] },
  });
  t.equal(patch.statusCode, 409, 'PATCH rename to a case variant: 409');
  t.equal(patch.json().scimType, 'uniqueness');
  const pathless = await b.scim({
    method: 'PATCH',
    url: `/Users/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', value: { userName: 'élodie.durand@contoso.com' } }] },
  });
  t.equal(pathless.statusCode, 409, 'path-less PATCH (Entra): 409');

  // the lookup of each name finds its own user only
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "omer@contoso.com"' })), [other.id]);
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "élodie.durand@contoso.com"' })), [elodie.id]);

  // renaming oneself to a case variant of one's own name is allowed, and the key follows the name
  const self = await b.scim({
    method: 'PATCH',
    url: `/Users/${elodie.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'ÉLODIE.DURAND@CONTOSO.COM' }] },
  });
  t.equal(self.statusCode, 200);
  const renamed = await b.scim({ method: 'PATCH', url: `/Users/${other.id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'Ömer.Yılmaz@contoso.com' }] } });
  t.equal(renamed.statusCode, 200);
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "ömer.yılmaz@contoso.com"' })), [other.id], 'a PATCH rename sets the new key');
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "omer@contoso.com"' })), [], 'and drops the old one');
  const replaced = await b.scim({ method: 'PUT', url: `/Users/${other.id}`, payload: { schemas: [USER_SCHEMA], userName: 'Øystein@contoso.com', displayName: 'ØYSTEIN' } });
  t.equal(replaced.statusCode, 200);
  t.same(ids(await list(b, 'Users', { filter: 'userName eq "øystein@contoso.com"' })), [other.id], 'a PUT sets the new key');
  t.same(ids(await list(b, 'Users', { filter: 'displayName eq "øystein"' })), [other.id], 'and the displayName key');
  // the stored keys, as the indexes hold them
  const rows = b.app.database.sqlite.prepare('SELECT id, user_name_key AS k, display_name_key AS d FROM scim_users ORDER BY seq').all();
  t.same(rows, [
    { id: elodie.id, k: 'élodie.durand@contoso.com', d: 'élodie durand' },
    { id: other.id, k: 'øystein@contoso.com', d: 'øystein' },
  ]);
});

t.test('group displayName: exact and case-variant lookups find the group; a variant is 409 on POST, PUT and PATCH', async (t) => {
  const b = await build(t);
  const ventes = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Équipe Ventes' });
  for (const filter of ['displayName eq "Équipe Ventes"', 'displayName eq "ÉQUIPE VENTES"', 'displayName sw "équipe"']) {
    t.same(ids(await list(b, 'Groups', { filter })), [ventes.id], filter);
  }
  const dup = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'équipe ventes' }, 409);
  t.equal(dup.scimType, 'uniqueness');
  const other = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Achats' });
  const put = await b.scim({ method: 'PUT', url: `/Groups/${other.id}`, payload: { schemas: [GROUP_SCHEMA], displayName: 'ÉQUIPE VENTES' } });
  t.equal(put.statusCode, 409);
  t.equal(put.json().scimType, 'uniqueness');
  const patch = await b.scim({
    method: 'PATCH',
    url: `/Groups/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'équipe VENTES' }] },
  });
  t.equal(patch.statusCode, 409);
  t.equal(patch.json().scimType, 'uniqueness');
  const rename = await b.scim({
    method: 'PATCH',
    url: `/Groups/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'Équipe Achats' }] },
  });
  t.equal(rename.statusCode, 200);
  t.same(ids(await list(b, 'Groups', { filter: 'displayName eq "ÉQUIPE ACHATS"' })), [other.id]);
  t.same(ids(await list(b, 'Groups', { filter: 'displayName eq "achats"' })), []);
  t.same(ids(await list(b, 'Groups', { filter: 'displayName sw "ÉQUIPE"', sortBy: 'displayName' })), [other.id, ventes.id], 'sorted by the folded name');
  // the database itself refuses a second key, whatever the service checks first
  t.throws(
    () => b.app.repos.groups.insert({ id: 'x', displayName: 'ÉQUIPE VENTES', externalId: null, data: {}, version: 1, createdAt: 'x', lastModified: 'x' }),
    { code: 'SQLITE_CONSTRAINT_UNIQUE' },
  );
});

t.test('JSON attributes compare and sort with the same fold (scim_fold), on the server and on the reader thread', async (t) => {
  const b = await build(t);
  const mk = (userName: string, givenName: string, email: string, department: string) =>
    post(t, b, '/Users', {
      schemas: [USER_SCHEMA, ENTERPRISE],
      userName,
      name: { givenName, familyName: 'X' },
      emails: [{ value: email, type: 'work', primary: true }],
      [ENTERPRISE]: { department },
    });
  const omer = await mk('u1@x.com', 'Ömer', 'Ömer.Kaya@Contoso.com', 'Ventes Île-de-France');
  const emile = await mk('u2@x.com', 'Émile', 'emile@contoso.com', 'Achats');
  const abel = await mk('u3@x.com', 'ábel', 'abel@contoso.com', 'ACHATS');
  const bob = await mk('u4@x.com', 'Bob', 'bob@contoso.com', 'Zoé');
  const cases: [string, string[]][] = [
    ['name.givenName eq "Ömer"', [omer.id]],
    ['name.givenName eq "ömer"', [omer.id]],
    ['name.givenName eq "ÖMER"', [omer.id]],
    ['name.givenName sw "É"', [emile.id]],
    ['name[givenName eq "ÁBEL"]', [abel.id]],
    ['emails.value eq "ömer.kaya@contoso.com"', [omer.id]],
    ['emails[value co "ÖMER"]', [omer.id]],
    [`${ENTERPRISE}:department eq "VENTES ÎLE-DE-FRANCE"`, [omer.id]],
    [`${ENTERPRISE}:department eq "achats"`, [emile.id, abel.id]],
    [`${ENTERPRISE}:department ew "DE-FRANCE"`, [omer.id]],
    ['name.givenName pr and name.givenName ne "ÉMILE"', [omer.id, abel.id, bob.id]],
  ];
  for (const [filter, want] of cases) t.same(ids(await list(b, 'Users', { filter })), want, filter);
  // code point order of the folded values: bob < ábel < émile < ömer (SQLite's lower() put É and Ö first)
  t.same(ids(await list(b, 'Users', { sortBy: 'name.givenName' })), [bob.id, abel.id, emile.id, omer.id], 'sortBy name.givenName');
  t.same(ids(await list(b, 'Users', { sortBy: 'emails' })), [abel.id, bob.id, emile.id, omer.id], 'sortBy emails (primary value)');
  t.same(ids(await list(b, 'Users', { sortBy: 'name.givenName', sortOrder: 'descending' })), [omer.id, emile.id, abel.id, bob.id], 'descending');

  // the reader thread's connection (openDatabase, migrate: false) has scim_fold too: a read it
  // could not run would be answered by `inline` instead
  const sentinel: ReadOutcome = { ok: false, status: 599, detail: 'answered inline, not by the thread' };
  const reader = createThreadScimReader({ databasePath: b.config.DATABASE_PATH, inline: () => sentinel });
  t.teardown(() => reader.close());
  reader.start();
  for (let i = 0; i < 400 && !reader.threaded(); i++) await new Promise((r) => setTimeout(r, 25));
  t.ok(reader.threaded(), 'the reader thread started');
  const out = await reader.read({ kind: 'list', resourceType: 'User', params: { filter: 'name.givenName eq "ömer"', sortBy: 'name.givenName' }, baseUrl: 'https://x/scim/v2' });
  t.match(out, { ok: true, kind: 'list' }, 'answered by the thread');
  if (out.ok && out.kind === 'list') t.same((JSON.parse(out.body) as Json).Resources.map((r: Json) => r.id), [omer.id]);

  // null-safe, non-strings unchanged
  const { sqlite } = b.app.database;
  t.same(sqlite.prepare(`SELECT scim_fold(NULL) AS a, scim_fold(5) AS b, scim_fold(1.5) AS c, scim_fold('ÉA') AS d`).get(), { a: null, b: 5, c: 1.5, d: 'éa' });
  // and a second connection opened like the reader's
  const second = openDatabase(b.config.DATABASE_PATH, { migrate: false });
  t.teardown(() => second.close());
  t.equal((second.sqlite.prepare(`SELECT scim_fold('ÖMER') AS v`).get() as Json).v, 'ömer');
});

t.test('ASCII behaviour is unchanged', async (t) => {
  const b = await build(t);
  const alice = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'Alice@Example.com', displayName: 'Alice A', name: { givenName: 'Alice' } });
  const bob = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'bob@example.com', displayName: 'bob b', name: { givenName: 'bob' } });
  await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'ALICE@EXAMPLE.COM' }, 409);
  for (const [filter, want] of [
    ['userName eq "alice@example.com"', [alice.id]],
    ['userName sw "AL"', [alice.id]],
    ['userName ew "@EXAMPLE.COM"', [alice.id, bob.id]],
    ['userName gt "b"', [bob.id]],
    ['userName lt "B"', [alice.id]],
    ['displayName co "B B"', [bob.id]],
    ['name.givenName eq "ALICE"', [alice.id]],
    ['userName ne "ALICE@example.com"', [bob.id]],
    ['displayName pr', [alice.id, bob.id]],
    ['externalId eq null', [alice.id, bob.id]],
  ] as [string, string[]][]) {
    t.same(ids(await list(b, 'Users', { filter })), want, filter);
  }
  t.same(ids(await list(b, 'Users', { sortBy: 'userName', sortOrder: 'descending' })), [bob.id, alice.id]);
  t.same(ids(await list(b, 'Users', { sortBy: 'displayName' })), [alice.id, bob.id]);
  const g = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Sales' });
  await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'SALES' }, 409);
  t.same(ids(await list(b, 'Groups', { filter: 'displayName eq "sales"' })), [g.id]);
});

t.test('query plans: userName and displayName compare their key columns and SEARCH the new indexes', async (t) => {
  const b = await build(t);
  const { sqlite } = b.app.database;
  const plan = (sql: string, params: unknown[]) =>
    (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
  const cases = [
    { rt: userResourceType, table: 'scim_users', filter: 'userName eq "Élodie.Durand@contoso.com"', index: 'scim_users_user_name_key', op: '=' },
    { rt: userResourceType, table: 'scim_users', filter: 'userName sw "élo"', index: 'scim_users_user_name_key', op: '>' },
    { rt: userResourceType, table: 'scim_users', filter: 'displayName eq "Élodie Durand"', index: 'scim_users_display_name_key', op: '=' },
    { rt: groupResourceType, table: 'scim_groups', filter: 'displayName eq "Équipe Ventes"', index: 'scim_groups_display_name_key', op: '=' },
  ];
  for (const c of cases) {
    const where = compileFilter(c.rt, parseFilter(c.filter));
    t.notMatch(where.sql, /lower\(|scim_fold\(/, `${c.filter}: no function on the column: ${where.sql}`);
    t.equal(where.params[0], fold(JSON.parse(c.filter.slice(c.filter.indexOf('"'))) as string), 'the literal folded in JS');
    const p = plan(`SELECT * FROM ${c.table} r WHERE ${where.sql} ORDER BY r.seq ASC LIMIT 100 OFFSET ?`, [...where.params, 0]);
    t.match(p, new RegExp(`SEARCH r USING INDEX ${c.index} \\(\\w+${c.op}`), `${c.filter}: ${p}`);
  }
  // the repository's own lookups (the 409 path and sign-in)
  const byUserName = plan('SELECT * FROM scim_users r WHERE r.user_name_key = ?', ['x']);
  t.match(byUserName, /SEARCH r USING INDEX scim_users_user_name_key \(user_name_key=\?\)/);
  // sorting by userName reads the key column, JSON attributes scim_fold()
  t.match(compileSort(userResourceType, 'userName', undefined), /r\.user_name_key ASC/);
  t.match(compileSort(userResourceType, 'name.givenName', undefined), /scim_fold\(json_extract\(r\.data, '\$\.name\.givenName'\)\)/);
  t.notMatch(compileSort(userResourceType, 'emails', undefined), /lower\(/);
  // the schema has no index on a function SQLite does not know (the file stays usable by other tools)
  const indexSql = (sqlite.prepare(`SELECT group_concat(sql, ' ') AS s FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('scim_users', 'scim_groups')`).get() as Json).s as string;
  t.notMatch(indexSql, /scim_fold|lower\(/);
  t.match(indexSql, /CREATE UNIQUE INDEX `scim_users_user_name_key` ON `scim_users` \(`user_name_key`\)/);
  t.match(indexSql, /CREATE UNIQUE INDEX `scim_groups_display_name_key` ON `scim_groups` \(`display_name_key`\)/);
  t.match(indexSql, /CREATE INDEX `scim_users_display_name_key` ON `scim_users` \(`display_name_key`\)/);
  // the backfill's "anything to do?" checks seek the key indexes for NULL
  t.match(plan('SELECT 1 FROM scim_users WHERE user_name_key IS NULL LIMIT 1', []), /SEARCH scim_users USING COVERING INDEX scim_users_user_name_key \(user_name_key=\?\)/);
  t.match(plan('SELECT 1 FROM scim_groups WHERE display_name_key IS NULL LIMIT 1', []), /SEARCH scim_groups USING COVERING INDEX scim_groups_display_name_key \(display_name_key=\?\)/);
});

t.test('start-up backfill of the keys: fills NULL keys; a legacy case-variant pair keeps the server starting, with a warning', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'iamtrail.sqlite');
  const b = await build(t, { DATABASE_PATH: path });
  const elodie = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'Élodie.Durand@contoso.com', displayName: 'Élodie Durand' });
  const twin = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'twin@contoso.com', displayName: 'Twin' });
  const plain = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'Plain@contoso.com' });
  const ventes = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Équipe Ventes' });
  const variant = await post(t, b, '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Other' });
  await b.app.close();

  // the state before migration 0013: no keys, and the case variants its ASCII-only index let in
  const raw = new Database(path);
  t.teardown(() => raw.close());
  const toLegacy = () => {
    raw.exec('UPDATE scim_users SET user_name_key = NULL, display_name_key = NULL; UPDATE scim_groups SET display_name_key = NULL');
    raw.prepare(`UPDATE scim_users SET user_name = 'élodie.durand@contoso.com', data = json_set(data, '$.userName', 'élodie.durand@contoso.com') WHERE id = ?`).run(twin.id);
    raw.prepare(`UPDATE scim_groups SET display_name = 'équipe ventes', data = json_set(data, '$.displayName', 'équipe ventes') WHERE id = ?`).run(variant.id);
  };
  toLegacy();
  const keys = () => ({
    users: raw.prepare('SELECT id, user_name_key AS k, display_name_key AS d FROM scim_users ORDER BY seq').all(),
    groups: raw.prepare('SELECT id, display_name_key AS k FROM scim_groups ORDER BY seq').all(),
  });

  const warnings = backfillScimKeys(raw);
  t.equal(warnings.length, 2, `one warning per row left without a key: ${warnings.join(' / ')}`);
  t.match(warnings[0], twin.id);
  t.match(warnings[0], elodie.id);
  t.match(warnings[0], '"élodie.durand@contoso.com"');
  t.match(warnings[0], '"Élodie.Durand@contoso.com"');
  t.match(warnings[0], `either name finds ${elodie.id} only`, 'says what lookups do meanwhile');
  t.match(warnings[1], variant.id);
  t.match(warnings[1], ventes.id);
  t.match(warnings[1], '"équipe ventes"');
  t.same(keys(), {
    users: [
      { id: elodie.id, k: 'élodie.durand@contoso.com', d: 'élodie durand' },
      { id: twin.id, k: null, d: 'twin' },
      { id: plain.id, k: 'plain@contoso.com', d: null },
    ],
    groups: [
      { id: ventes.id, k: 'équipe ventes' },
      { id: variant.id, k: null },
    ],
  }, 'the first of a pair keeps the key, the later one none; every other key is filled');
  t.same(backfillScimKeys(raw), warnings, 'the warning comes again at the next start, until the operator resolves it');

  // the server starts on that database, warns, and finds the first of the pair by its name
  toLegacy();
  const opened = openDatabase(path);
  t.equal(opened.warnings.length, 2, 'openDatabase runs the backfill and returns its warnings');
  opened.close();
  // (src/plugins/db.ts logs each warning at level warn)
  const app = await buildApp(loadConfig({ DATABASE_PATH: path, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://iam.example.test' }));
  t.teardown(() => app.close());
  t.equal(app.database.warnings.length, 2, 'the app opened, with the warnings');
  const token = (await import('../../src/services/settings.js')).createSettingsService(app.database.sqlite, app.repos).createToken({ name: 'second' }, { name: 'test', protocol: 'CLI' }).token;
  const get = async (filter: string) =>
    ((await app.inject({ method: 'GET', url: `/scim/v2/Users?${qs({ filter })}`, headers: { authorization: `Bearer ${token}` } })).json() as Json).Resources.map((r: Json) => r.id);
  t.same(await get('userName eq "Élodie.Durand@contoso.com"'), [elodie.id]);
  t.same(await get('userName eq "PLAIN@contoso.com"'), [plain.id], 'a backfilled key is found');

  // resolved (the later twin renamed): the next start fills its key and warns no more
  raw.prepare(`UPDATE scim_users SET user_name = 'twin@contoso.com' WHERE id = ?`).run(twin.id);
  raw.prepare(`UPDATE scim_groups SET display_name = 'Other' WHERE id = ?`).run(variant.id);
  t.same(backfillScimKeys(raw), []);
  t.same(keys().users[1], { id: twin.id, k: 'twin@contoso.com', d: 'twin' });
  const before = raw.prepare('SELECT total_changes() AS n').get();
  t.same(backfillScimKeys(raw), [], 'nothing to do');
  t.same(raw.prepare('SELECT total_changes() AS n').get(), before, 'and nothing written');
});

t.test('case-exact "ew" counts characters as SQLite does: values beyond the BMP (emoji) match', async (t) => {
  const b = await build(t);
  const uni = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'uni@example.com', externalId: 'hr-🦄-42' });
  const plain = await post(t, b, '/Users', { schemas: [USER_SCHEMA], userName: 'plain@example.com', externalId: 'hr-x-42' });
  for (const [filter, want, note] of [
    // JS counts 🦄 as two UTF-16 units, SQLite as one character: the suffix was taken one too long
    ['externalId ew "🦄-42"', [uni.id]],
    ['externalId ew "-🦄-42"', [uni.id]],
    ['externalId ew "hr-🦄-42"', [uni.id]],
    ['externalId ew "-42"', [uni.id, plain.id]],
    ['externalId ew "🦄-42 "', []],
    ['externalId ew "X-42"', [], 'case-exact: X is not x'],
    ['externalId ew "x-42"', [plain.id]],
    ['externalId sw "hr-🦄"', [uni.id]],
    ['externalId co "🦄"', [uni.id]],
    ['externalId ew ""', [uni.id, plain.id], 'every value ends with the empty string, as in PATCH value filters'],
    ['userName ew ""', [uni.id, plain.id], 'case-insensitive too'],
  ] as [string, string[], string?][]) {
    t.same(ids(await list(b, 'Users', { filter })), want, note ? `${filter} (${note})` : filter);
  }
});
