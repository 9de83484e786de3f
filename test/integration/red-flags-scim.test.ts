// Red flags — the SCIM rules, through the real SCIM API where the server can produce the entries:
// scim-401-wall (an expired token), scim-repeated-failure (the same failing request), scim-bulk-removal
// (DELETEs and deactivations), scim-token-expiring, and scim-5xx-spike (appended: the server cannot
// be made to fail on demand). Also enable-on-leave-or-terminated fed by a SCIM reactivation.
import t from 'tap';
import { createSettingsService } from '../../src/services/settings.js';
import { build, PATCH_SCHEMA, USER_SCHEMA, type Built } from '../helper.js';
import { BASE, DAY, MIN, adder, flagsOf, idsWhere, lastEntry, setContext, theFlag, utc } from '../red-flags-helper.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-00000000dead';
const ACTOR = { name: 'test', protocol: 'CLI' as const };

/** appended SCIM entries (an entry may have no action: an unknown endpoint) */
const add = adder({ type: 'User', protocol: 'SCIM' });

function createToken(b: Built, name: string, expiresInDays: number | null = null): string {
  return createSettingsService(b.app.database.sqlite, b.app.repos).createToken({ name, expiresInDays }, ACTOR).token;
}

async function createUsers(b: Built, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: `${prefix}${i}@example.com` } });
    if (res.statusCode !== 201) throw new Error(`POST /Users: ${res.statusCode} ${res.body}`);
    ids.push((res.json() as { id: string }).id);
  }
  return ids;
}

const deactivate = (b: Built, id: string, active = false) =>
  b.scim({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: active }] } });

// ─── scim-401-wall ───────────────────────────────────────────────────────────────────────────────

t.test('scim-401-wall: 10 requests with an expired token name the token', async (t) => {
  const b = await build(t);
  const { app } = b;
  const old = createToken(b, 'old-idp');
  app.database.sqlite.prepare('UPDATE api_tokens SET expires_at = ? WHERE name = ?').run(Date.now() - DAY, 'old-idp');

  for (let i = 0; i < 9; i++) {
    const res = await b.scim({ method: 'GET', url: '/Users', token: old });
    t.equal(res.statusCode, 401, `request ${i + 1}: 401`);
  }
  t.equal(lastEntry(app).action, 'SCIM_AUTH');
  t.equal(lastEntry(app).fingerprint, 'scim-auth:expired:old-idp');
  t.same(flagsOf(app, 'scim-401-wall'), [], '9 refusals: not yet');

  const tenth = await b.scim({ method: 'GET', url: `/Users/${UNKNOWN_ID}`, token: old });
  t.equal(tenth.statusCode, 401);
  // the flag links every 401 of the wall, not just the one that tipped it
  const walls = () => idsWhere(app, "action = 'SCIM_AUTH'");
  t.equal(walls().length, 10);
  let flag = theFlag(t, app, 'scim-401-wall', 'high', walls());
  t.equal(flag.subject, 'scim-auth');
  t.equal(flag.title, '10 SCIM requests refused with 401 in 10 minutes');
  t.equal(flag.explanation, '10 SCIM 401 responses within 10 minutes. Cause: expired token "old-idp" (10).');

  // a request without a token joins the wall: same flag, both causes named, the larger first
  const none = await b.scim({ method: 'GET', url: '/Users', token: null });
  t.equal(none.statusCode, 401);
  flag = theFlag(t, app, 'scim-401-wall', 'high', walls());
  t.equal(flag.title, '11 SCIM requests refused with 401 in 10 minutes');
  t.equal(flag.explanation, '11 SCIM 401 responses within 10 minutes. Cause: expired token "old-idp" (10); no token sent (1).');

  t.same(flagsOf(app, 'scim-repeated-failure'), [], '401s are not "the same request failing"');
  t.same(flagsOf(app, 'scim-token-expiring'), [], 'an expired token is not "expiring"');
});

t.test('scim-401-wall: every cause is named or counted, however many kinds', async (t) => {
  const b = await build(t);
  const { app } = b;
  // eleven expired tokens, one refusal each: ten causes are named, the eleventh is counted
  for (let i = 0; i < 11; i++) {
    const token = createToken(b, `old-${String(i).padStart(2, '0')}`);
    app.database.sqlite.prepare('UPDATE api_tokens SET expires_at = ? WHERE name = ?').run(Date.now() - DAY, `old-${String(i).padStart(2, '0')}`);
    t.equal((await b.scim({ method: 'GET', url: '/Users', token })).statusCode, 401);
  }
  const [flag] = flagsOf(app, 'scim-401-wall');
  t.equal(flag?.title, '11 SCIM requests refused with 401 in 10 minutes');
  const named = flag!.explanation.match(/expired token "old-\d\d" \(1\)/g) ?? [];
  t.equal(named.length, 10, 'ten causes named');
  t.match(flag!.explanation, /; other causes \(1\)\.$/, 'the rest counted, so that the causes add up to the refusals');
});

t.test('scim-401-wall: near miss — 9 refusals, then valid requests', async (t) => {
  const b = await build(t);
  for (let i = 0; i < 9; i++) t.equal((await b.scim({ method: 'GET', url: '/Users', token: 'iamt_not-a-real-token' })).statusCode, 401);
  for (let i = 0; i < 3; i++) t.equal((await b.scim({ method: 'GET', url: '/Users' })).statusCode, 200);
  t.same(flagsOf(b.app, 'scim-401-wall'), []);
});

// ─── scim-repeated-failure ───────────────────────────────────────────────────────────────────────

t.test('scim-repeated-failure: the same GET failing with 404 five times', async (t) => {
  const b = await build(t);
  const { app } = b;
  for (let i = 0; i < 4; i++) t.equal((await b.scim({ method: 'GET', url: `/Users/${UNKNOWN_ID}` })).statusCode, 404);
  t.equal(lastEntry(app).action, 'SCIM_REQUEST');
  t.equal(lastEntry(app).fingerprint, `scim:GET /scim/v2/Users/${UNKNOWN_ID} 404`);
  t.same(flagsOf(app, 'scim-repeated-failure'), [], '4 failures: not yet');

  t.equal((await b.scim({ method: 'GET', url: `/Users/${UNKNOWN_ID}?attributes=userName` })).statusCode, 404, 'the query string does not make it another request');
  // the flag links all five failures, not just the one that tipped it
  const flag = theFlag(t, app, 'scim-repeated-failure', 'medium', idsWhere(app, `fingerprint = 'scim:GET /scim/v2/Users/${UNKNOWN_ID} 404'`));
  t.equal(flag.subject, `scim:GET /scim/v2/Users/${UNKNOWN_ID} 404`);
  t.equal(flag.title, `GET /scim/v2/Users/${UNKNOWN_ID} failed 5 times with 404`);
  t.match(flag.explanation, new RegExp(`^GET /scim/v2/Users/${UNKNOWN_ID} answered 404 5 times within 30 minutes \\(counted together: same method, path and status\\)\\. Each gave the same error: Get User failed \\(404\\): `));
});

t.test('scim-repeated-failure: a failing create (409) repeated by the identity provider', async (t) => {
  const b = await build(t);
  await createUsers(b, 1, 'dup');
  for (let i = 0; i < 5; i++) {
    const res = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'dup0@example.com' } });
    t.equal(res.statusCode, 409);
  }
  const [flag] = flagsOf(b.app, 'scim-repeated-failure');
  t.ok(flag, 'raised');
  t.equal(flag!.subject, 'scim:POST /scim/v2/Users 409');
  t.equal(flag!.title, 'POST /scim/v2/Users failed 5 times with 409');
  t.match(flag!.explanation, / Each gave the same error: Create User failed \(409\): /, 'the same user each time: the same error');
});

t.test('scim-repeated-failure: five different groups each created twice — said as what was counted, the error as one example', async (t) => {
  const b = await build(t);
  for (let i = 0; i < 5; i++) {
    t.equal((await b.scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `team${i}` } })).statusCode, 201);
    t.equal((await b.scim({ method: 'POST', url: '/Groups', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `team${i}` } })).statusCode, 409);
  }
  const flag = theFlag(t, b.app, 'scim-repeated-failure', 'medium', idsWhere(b.app, "fingerprint = 'scim:POST /scim/v2/Groups 409'"));
  t.equal(flag.title, 'POST /scim/v2/Groups failed 5 times with 409', 'not "5 identical requests"');
  t.notMatch(flag.explanation, /identical/);
  t.match(flag.explanation, /^POST \/scim\/v2\/Groups answered 409 5 times within 30 minutes \(counted together: same method, path and status\)\. The errors differ; the last, as one example: Create Group failed \(409\): .*team4/);
});

t.test('scim-repeated-failure: near misses — 4 of one request and 1 of another', async (t) => {
  const b = await build(t);
  for (let i = 0; i < 4; i++) await b.scim({ method: 'GET', url: `/Users/${UNKNOWN_ID}` });
  await b.scim({ method: 'GET', url: '/Users/00000000-0000-4000-8000-00000000beef' });
  await b.scim({ method: 'DELETE', url: `/Users/${UNKNOWN_ID}` }); // same path, another method
  t.same(flagsOf(b.app, 'scim-repeated-failure'), []);
});

// ─── scim-bulk-removal ───────────────────────────────────────────────────────────────────────────

t.test('scim-bulk-removal: 20 SCIM DELETEs within 10 minutes', async (t) => {
  const b = await build(t);
  const { app } = b;
  const ids = await createUsers(b, 22, 'bulk');
  for (const id of ids.slice(0, 19)) t.equal((await b.scim({ method: 'DELETE', url: `/Users/${id}` })).statusCode, 204);
  t.equal((await b.scim({ method: 'DELETE', url: `/Users/${UNKNOWN_ID}` })).statusCode, 404, 'a failed DELETE does not count');
  t.same(flagsOf(app, 'scim-bulk-removal'), [], '19 deletions: not yet');

  t.equal((await b.scim({ method: 'DELETE', url: `/Users/${ids[19]}` })).statusCode, 204);
  const twentieth = lastEntry(app);
  t.equal(twentieth.action, 'PROVISIONING_DELETE');
  // the flag links all 20 removals by the token
  const removals = () => idsWhere(app, "action IN ('PROVISIONING_DELETE', 'PROVISIONING_DISABLE') AND outcome = 'SUCCESS' AND protocol = 'SCIM'");
  t.equal(removals().length, 20);
  let flag = theFlag(t, app, 'scim-bulk-removal', 'critical', removals());
  t.equal(flag.subject, 'scim-removal|test-token');
  t.equal(flag.title, '20 deletions or deactivations over SCIM in 10 minutes');
  t.equal(flag.explanation, '20 PROVISIONING_DELETE / PROVISIONING_DISABLE entries over SCIM within 10 minutes, by token "test-token".');

  // a deactivation continues the burst
  t.equal((await deactivate(b, ids[20]!)).statusCode, 200);
  const disable = lastEntry(app);
  t.equal(disable.action, 'PROVISIONING_DISABLE');
  flag = theFlag(t, app, 'scim-bulk-removal', 'critical', removals());
  t.equal(flag.title, '21 deletions or deactivations over SCIM in 10 minutes');
});

t.test('scim-bulk-removal: a bulk offboarding of 1,005 users is counted up to 1000, every removal linked once', async (t) => {
  const b = await build(t);
  const ids: number[] = [];
  for (let i = 0; i < 1005; i++) {
    ids.push(add(b.app, { ts: BASE + i * 100, action: 'PROVISIONING_DISABLE', outcome: 'SUCCESS', event: 'Update User', http: 200, principal: 'idp-token', target: `leaver${i}@example.com` }));
  }
  // theFlag: all 1005 linked, entry_count 1005
  const flag = theFlag(t, b.app, 'scim-bulk-removal', 'critical', ids);
  t.equal(flag.title, '1000+ deletions or deactivations over SCIM in 10 minutes');
});

t.test('scim-bulk-removal: near misses — 19 removals; removals that are not over SCIM', async (t) => {
  const b = await build(t);
  const ids = await createUsers(b, 19, 'few');
  for (const id of ids.slice(0, 10)) await b.scim({ method: 'DELETE', url: `/Users/${id}` });
  for (const id of ids.slice(10)) await deactivate(b, id);
  t.same(flagsOf(b.app, 'scim-bulk-removal'), [], '19 removals');
  // a removal appended by another protocol is not counted, nor does it trigger the rule
  add(b.app, { ts: Date.now(), action: 'PROVISIONING_DELETE', protocol: 'API', principal: 'importer', target: 'x' });
  add(b.app, { ts: Date.now(), action: 'PROVISIONING_DELETE', protocol: 'SCIM', outcome: 'FAILURE', http: 404, principal: null, target: 'y' });
  t.same(flagsOf(b.app, 'scim-bulk-removal'), [], 'not over SCIM, or failed');
});

t.test('scim-bulk-removal: 10 removals by each of two tokens are not 20 by the last one', async (t) => {
  const b = await build(t);
  const other = createToken(b, 'idp-b');
  const ids = await createUsers(b, 20, 'split');
  for (const [i, id] of ids.entries()) {
    const res = await b.scim({ method: 'DELETE', url: `/Users/${id}`, ...(i % 2 === 1 ? { token: other } : {}) });
    t.equal(res.statusCode, 204);
  }
  // counted per token: each made 10, below the threshold of 20
  t.same(flagsOf(b.app, 'scim-bulk-removal'), [], '10 removals by each of two tokens: not flagged');
});

// ─── scim-token-expiring ─────────────────────────────────────────────────────────────────────────

t.test('scim-token-expiring: a token expiring in 5 days is still in use', async (t) => {
  const b = await build(t);
  const { app } = b;
  const soon = createToken(b, 'soon-idp', 5);
  const expiresAt = app.repos.tokens.byName('soon-idp')!.expiresAt!;
  t.equal((await b.scim({ method: 'GET', url: '/Users', token: soon })).statusCode, 200);
  const first = lastEntry(app).id;
  let flag = theFlag(t, app, 'scim-token-expiring', 'medium', [first]);
  t.equal(flag.subject, 'token:soon-idp');
  t.equal(flag.title, 'SCIM token "soon-idp" expires in 5 days');
  t.equal(flag.explanation, `The identity provider is still using the token "soon-idp", which expires at ${utc(expiresAt)}.`);

  t.equal((await b.scim({ method: 'GET', url: `/Users/${UNKNOWN_ID}`, token: soon })).statusCode, 404);
  flag = theFlag(t, app, 'scim-token-expiring', 'medium', [first, lastEntry(app).id]);
  t.pass('a failing request with it extends the same flag');
});

t.test('scim-token-expiring: near misses — no expiry, 21 days left; the 20-day edge raises it', async (t) => {
  const b = await build(t);
  const { app } = b;
  t.equal((await b.scim({ method: 'GET', url: '/Users' })).statusCode, 200, 'test-token never expires');
  const later = createToken(b, 'later-idp', 21);
  t.equal((await b.scim({ method: 'GET', url: '/Users', token: later })).statusCode, 200);
  t.same(flagsOf(app, 'scim-token-expiring'), [], 'no expiry, or 21 days left: nothing');

  const edge = createToken(b, 'edge-idp', 20);
  t.equal((await b.scim({ method: 'GET', url: '/Users', token: edge })).statusCode, 200);
  const flags = flagsOf(app, 'scim-token-expiring');
  t.equal(flags.length, 1, 'a little under 20 days left: raised');
  t.equal(flags[0]!.title, 'SCIM token "edge-idp" expires in 20 days');
});

// ─── scim-5xx-spike ──────────────────────────────────────────────────────────────────────────────

t.test('scim-5xx-spike: 5 SCIM server errors within 5 minutes', async (t) => {
  const b = await build(t, {}, { scim: false });
  const { app } = b;
  const err = (ts: number, http = 500, protocol = 'SCIM') =>
    add(app, { ts, action: 'SCIM_REQUEST', protocol, http, outcome: 'FAILURE', event: 'Create User', log: `Create User failed (${http}): database is locked\nPOST /scim/v2/Users`, fingerprint: `scim:POST /scim/v2/Users ${http}` });
  for (let i = 0; i < 4; i++) err(BASE + i * MIN, 500 + i);
  err(BASE + 2 * MIN, 500, 'WEB'); // not SCIM
  err(BASE + 2 * MIN, 499); // not a server error
  t.same(flagsOf(app, 'scim-5xx-spike'), [], '4 SCIM 5xx: not yet');

  err(BASE + 5 * MIN, 503); // exactly 5 minutes after the first: inside
  // the flag links every error of the spike, not just the one that tipped it
  const flag = theFlag(t, app, 'scim-5xx-spike', 'high', idsWhere(app, "protocol = 'SCIM' AND http >= 500"));
  t.equal(flag.subject, 'scim-5xx');
  t.equal(flag.title, '5 SCIM server errors in 5 minutes');
  t.equal(flag.explanation, `5 SCIM responses with status 500 or above within 5 minutes, the last at ${utc(BASE + 5 * MIN)}: Create User failed (503): database is locked`);
});

t.test('scim-5xx-spike: near miss — 5 errors spread over more than 5 minutes', async (t) => {
  const b = await build(t, {}, { scim: false });
  const err = (ts: number) => add(b.app, { ts, action: 'SCIM_REQUEST', http: 500, outcome: 'FAILURE', log: 'failed (500)' });
  err(BASE);
  for (let i = 1; i < 5; i++) err(BASE + 5 * MIN + i);
  t.same(flagsOf(b.app, 'scim-5xx-spike'), []);
  // a SCIM 5xx entry without an action is still looked at ('*' rules)
  add(b.app, { ts: BASE + 5 * MIN + 10, action: null, http: 502, outcome: 'FAILURE', log: 'Bad gateway' });
  t.equal(flagsOf(b.app, 'scim-5xx-spike').length, 1, 'the fifth in the window, without an action code, raises it');
});

// ─── enable-on-leave-or-terminated, fed by SCIM ──────────────────────────────────────────────────

t.test('enable-on-leave-or-terminated: the identity provider reactivates a user on leave', async (t) => {
  const b = await build(t);
  const { app } = b;
  setContext(app, { onLeave: ['leave0@example.com'] });
  const [id] = await createUsers(b, 1, 'leave');
  t.equal((await deactivate(b, id!)).statusCode, 200);
  t.same(flagsOf(app, 'enable-on-leave-or-terminated'), [], 'deactivation: nothing');
  t.equal((await deactivate(b, id!, true)).statusCode, 200);
  const enable = lastEntry(app);
  t.equal(enable.action, 'PROVISIONING_ENABLE');
  const flag = theFlag(t, app, 'enable-on-leave-or-terminated', 'high', [enable.id]);
  t.equal(flag.title, '"leave0@example.com" re-enabled while on leave');
});
