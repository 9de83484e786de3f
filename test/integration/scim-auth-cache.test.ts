// The SCIM scope keeps settings and tokens in memory (db/read-cache.ts): changes made by another
// connection to the same file (the CLI, in another process) and by the server itself still apply to
// the next request (read-cache.ts: the next one read after a setImmediate has run, which every request
// that touches the database lets pass); a token's last use is written at most once a second.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t from 'tap';
import { hashToken } from '../../src/auth/tokens.js';
import { createSettingsService } from '../../src/services/settings.js';
import { auditRows, build, PATCH_SCHEMA, USER_SCHEMA, type Built, qs } from '../helper.js';

type Json = Record<string, any>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const actor = { name: 'test', protocol: 'CLI' as const };

/** A second connection to the server's database file, as the CLI opens it. */
function otherConnection(t: { teardown(fn: () => unknown): void }, b: Built): Database.Database {
  const db = new Database(b.config.DATABASE_PATH);
  db.pragma('busy_timeout = 5000');
  t.teardown(() => db.close());
  return db;
}

/** lets the event loop's check phase run: read-cache.ts reads data_version again after it */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const listUsers = (b: Built, token?: string) => b.scim({ method: 'GET', url: '/Users?count=1', ...(token !== undefined && { token }) });

t.test('a token revoked by another connection is refused on the next request', async (t) => {
  const b = await build(t);
  const other = otherConnection(t, b);
  t.equal((await listUsers(b)).statusCode, 200, 'the token works (and is now cached)');
  t.equal((await listUsers(b)).statusCode, 200, 'still');
  other.prepare('UPDATE api_tokens SET revoked_at = ? WHERE name = ?').run(Date.now(), 'test-token');
  const res = await listUsers(b);
  t.equal(res.statusCode, 401, 'refused at once');
  t.match(res.json().detail, /Token "test-token" was revoked at/);
  t.equal(auditRows(b.app).at(-1)!.event, 'Authenticate', 'and audited as an authentication failure');
});

t.test('a token that expires, or is made to expire by another connection, is refused at once', async (t) => {
  const b = await build(t);
  const other = otherConnection(t, b);
  t.equal((await listUsers(b)).statusCode, 200);
  other.prepare('UPDATE api_tokens SET expires_at = ? WHERE name = ?').run(Date.now() - 1000, 'test-token');
  const expired = await listUsers(b);
  t.equal(expired.statusCode, 401);
  t.match(expired.json().detail, /Token "test-token" expired at/);

  // a cached token is checked against the clock on every request
  other.prepare('UPDATE api_tokens SET expires_at = ? WHERE name = ?').run(Date.now() + 400, 'test-token');
  t.equal((await listUsers(b)).statusCode, 200, 'valid again for a moment');
  await new Promise((r) => setTimeout(r, 500));
  t.match((await listUsers(b)).json().detail, /expired at/, 'refused once the expiry has passed');
});

t.test('a token created by another connection is accepted on its first request', async (t) => {
  const b = await build(t);
  const other = otherConnection(t, b);
  const fresh = 'iamt_created-by-the-cli-in-another-process-000000';
  t.equal((await listUsers(b, fresh)).statusCode, 401, 'unknown for now');
  other
    .prepare("INSERT INTO api_tokens (name, token_hash, scope, created_at) VALUES ('cli-token', ?, 'scim', ?)")
    .run(hashToken(fresh), Date.now());
  t.equal((await listUsers(b, fresh)).statusCode, 200, 'an unknown token is not remembered as unknown');
});

t.test('SCIM disabled, re-enabled and switched to Entra ID mode by another connection', async (t) => {
  const b = await build(t);
  const other = otherConnection(t, b);
  const set = other.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  t.equal((await listUsers(b)).statusCode, 200);
  set.run('scim_enabled', 'false');
  const disabled = await listUsers(b);
  t.equal(disabled.statusCode, 401);
  t.match(disabled.json().detail, /SCIM provisioning is disabled/);
  set.run('scim_enabled', 'true');
  t.equal((await listUsers(b)).statusCode, 200, 'enabled again');
  set.run('provisioning_mode', 'entra');
  t.equal((await listUsers(b)).statusCode, 403, 'Entra ID mode');
  set.run('provisioning_mode', 'scim');
  // the 403 above touched no table (its refusal is counted later): nothing else let a turn pass
  await nextTurn();
  t.equal((await listUsers(b)).statusCode, 200);
});

t.test('changes made through the server itself apply to the next request', async (t) => {
  const b = await build(t);
  const settings = createSettingsService(b.app.database.sqlite, b.app.repos);
  t.equal((await listUsers(b)).statusCode, 200);
  settings.setScimEnabled(false, actor);
  t.equal((await listUsers(b)).statusCode, 401, 'disabled');
  settings.setScimEnabled(true, actor);
  t.equal((await listUsers(b)).statusCode, 200, 'enabled');
  settings.revokeToken('test-token', actor);
  t.match((await listUsers(b)).json().detail, /was revoked/, 'revoked');

  // a revocation rolled back leaves the token valid
  const second = settings.createToken({ name: 'second' }, actor).token;
  t.equal((await listUsers(b, second)).statusCode, 200);
  const { sqlite } = b.app.database;
  t.throws(() =>
    sqlite.transaction(() => {
      b.app.repos.tokens.revoke(b.app.repos.tokens.byName('second')!.id, Date.now());
      t.match(b.app.repos.tokens.byHash(hashToken(second)), { revokedAt: Number }, 'revoked inside the transaction');
      throw new Error('rolled back');
    })(),
  );
  t.equal((await listUsers(b, second)).statusCode, 200, 'still valid after the rollback');
});

t.test('the CLI in another process: token revoke and scim disable take effect at once', async (t) => {
  const b = await build(t);
  const cli = (...args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [join(ROOT, 'bin', 'iamtrail.mjs'), ...args], { cwd: ROOT, env: { ...process.env, DATABASE_PATH: b.config.DATABASE_PATH, LOG_LEVEL: 'silent' }, timeout: 60_000 }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  t.equal((await listUsers(b)).statusCode, 200);
  await cli('scim', 'disable');
  t.match((await listUsers(b)).json().detail, /disabled/, 'scim disable');
  await cli('scim', 'enable');
  t.equal((await listUsers(b)).statusCode, 200, 'scim enable');
  await cli('token', 'revoke', 'test-token');
  t.match((await listUsers(b)).json().detail, /was revoked/, 'token revoke');
});

t.test("a token's last use is written at most once a second", async (t) => {
  const b = await build(t);
  const other = otherConnection(t, b);
  const lastUsed = () => (other.prepare('SELECT last_used_at AS v FROM api_tokens WHERE name = ?').get('test-token') as { v: number | null }).v;
  t.equal(lastUsed(), null, 'never used');
  const before = Date.now();
  await listUsers(b);
  const first = lastUsed();
  t.ok(first !== null && first >= before && first <= Date.now(), 'the first request marks it used');
  await listUsers(b);
  await listUsers(b);
  t.equal(lastUsed(), first, 'requests within the second do not write it again');
  await new Promise((r) => setTimeout(r, 1100));
  await listUsers(b);
  t.ok(lastUsed()! > first! + 1000, 'a request more than a second later does');
  t.equal(auditRows(b.app).filter((r) => r.protocol === 'SCIM').length, 4, 'every request still has its entry');
});

t.test('writes answer with the stored representation and name the holder of a taken userName', async (t) => {
  const b = await build(t);
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'Taken@example.com', name: { givenName: 'T' }, emails: [{ value: 'taken@example.com', type: 'work', primary: true }] } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const get = async (uid: string) => (await b.scim({ method: 'GET', url: `/Users/${uid}` })).json() as Json;
  t.same(created.json(), await get(id), 'POST answers what a GET reads back');
  t.equal(created.headers.etag, created.json().meta.version);

  const other = (await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'other@example.com' } })).json() as Json;
  const patched = await b.scim({
    method: 'PATCH',
    url: `/Users/${other.id}`,
    payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'displayName', value: 'Other' }, { op: 'add', path: 'emails[type eq "work"].value', value: 'o@example.com' }] },
  });
  t.equal(patched.statusCode, 200);
  t.same(patched.json(), await get(other.id), 'PATCH answers what a GET reads back');
  const put = await b.scim({ method: 'PUT', url: `/Users/${other.id}`, payload: { schemas: [USER_SCHEMA], userName: 'other@example.com', active: false } });
  t.equal(put.statusCode, 200);
  t.same(put.json(), await get(other.id), 'PUT answers what a GET reads back');

  const taken = `userName "TAKEN@example.com" is already taken by user ${id}`;
  const writes = [
    { method: 'POST' as const, url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'TAKEN@example.com' } },
    { method: 'PUT' as const, url: `/Users/${other.id}`, payload: { schemas: [USER_SCHEMA], userName: 'TAKEN@example.com' } },
    { method: 'PATCH' as const, url: `/Users/${other.id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'TAKEN@example.com' }] } },
  ];
  for (const w of writes) {
    const res = await b.scim(w);
    t.equal(res.statusCode, 409, `${w.method}: 409`);
    t.equal(res.json().detail, taken, `${w.method}: the detail names the user who has it`);
    t.match(String(auditRows(b.app).at(-1)!.log), taken, `${w.method}: so does the audit entry`);
  }
  t.same(await get(other.id), put.json(), 'the failed writes changed nothing');
  const list = (await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "taken@example.com"' })}` })).json() as Json;
  t.equal(list.totalResults, 1);
});
