// POST /api/v1/events: events from other IAM systems, as a JSON array or NDJSON, with ingest tokens
// only; per-item results, no duplicates on re-send, limits as JSON errors, one summary entry per
// request, and the red-flag rules run on what is ingested.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { catalogEntry } from '../../src/audit/catalog.js';
import { createSettingsService } from '../../src/services/settings.js';
import { auditRows, build, type Built, expectJsonError } from '../helper.js';

type Json = Record<string, any>;
type Res = Awaited<ReturnType<Built['app']['inject']>>;

interface Ctx extends Built {
  ingest: string;
  post(body: unknown, opts?: { type?: string; token?: string | null }): Promise<Res>;
}

async function setup(t: Test): Promise<Ctx> {
  const b = await build(t);
  const settings = createSettingsService(b.app.database.sqlite, b.app.repos);
  const ingest = settings.createToken({ name: 'collector', scope: 'ingest' }, { name: 'test', protocol: 'CLI' }).token;
  const post = (body: unknown, opts: { type?: string; token?: string | null } = {}) => {
    const token = opts.token === undefined ? ingest : opts.token;
    const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/json', 'user-agent': 'collector-test/1.0' };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    return b.app.inject({ method: 'POST', url: '/api/v1/events', headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  };
  return { ...b, ingest, post };
}

const ingested = (b: Built) => auditRows(b.app).filter((r) => r.protocol === 'API' && r.action !== 'EVENTS_INGESTED');
const summaries = (b: Built) => auditRows(b.app).filter((r) => r.action === 'EVENTS_INGESTED');


const iso = (ms: number) => new Date(ms).toISOString();

t.test('a JSON array of events becomes entries with every field, in order', async (t) => {
  const b = await setup(t);
  const now = Date.now();
  const res = await b.post([
    {
      id: 'okta-1',
      timestamp: iso(now - 60_000),
      action: 'LOGIN',
      outcome: 'FAILURE',
      principal: 'jdoe',
      targetUser: 'jdoe',
      targetSystem: 'Okta',
      sourceIp: '203.0.113.7',
      country: 'fr',
      userAgent: 'Mozilla/5.0',
      ticket: 'INC-42',
      detail: { reason: 'INVALID_CREDENTIALS', password: 'hunter2' },
    },
    { id: 'hr-9', timestamp: now - 30_000, action: 'CHANGE_PASSWORD', outcome: 'SUCCESS', principal: 'svc-hr', targetUser: 'asmith' },
    { id: 'idm-3', timestamp: '2024-05-01T10:00:00+02:00', action: 'PROVISIONING_ADD', targetUser: 'bnew', targetSystem: 'Salesforce', detail: 'created by rule 7' },
    { id: 'sync-1', timestamp: '2024-05-01T10:00:00Z', action: 'SYNCHRONIZATION_ORPHAN', outcome: 'SUCCESS' },
    { id: 'x-1', timestamp: '2024-05-01', action: 'CUSTOM_THING' },
  ]);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  const body = res.json() as Json;
  t.equal(body.accepted, 5);
  t.equal(body.duplicates, 0);
  t.equal(body.rejected, 0);
  t.same(
    body.results.map((r: Json) => [r.index, r.id, r.status]),
    [
      [0, 'okta-1', 'stored'],
      [1, 'hr-9', 'stored'],
      [2, 'idm-3', 'stored'],
      [3, 'sync-1', 'stored'],
      [4, 'x-1', 'stored'],
    ],
  );
  for (const r of body.results) t.type(r.entryId, 'number');

  const rows = ingested(b);
  t.equal(rows.length, 5);
  const [login, password, add, sync, custom] = rows as Json[];
  t.equal(login!.id, body.results[0].entryId, 'entryId is the audit entry id');
  t.match(login, {
    ts: now - 60_000,
    type: 'Login',
    protocol: 'API',
    event: catalogEntry('LOGIN')!.label,
    http: null,
    action: 'LOGIN',
    outcome: 'FAILURE',
    principal: 'jdoe',
    target: 'jdoe',
    target_system: 'Okta',
    source_ip: '203.0.113.7',
    country: 'FR',
    user_agent: 'Mozilla/5.0',
    ticket: 'INC-42',
    event_id: 'okta-1',
    resource_id: null,
  });
  const lines = String(login!.log).split('\n');
  t.equal(lines[0], 'LOGIN FAILURE for "jdoe" by "jdoe" on "Okta" from 203.0.113.7 (FR)', 'a human first line');
  t.match(login!.log, /Event id "okta-1" · time \d{4}-/);
  t.match(login!.log, /ticket "INC-42"/);
  t.match(login!.log, /Detail: \{"reason":"INVALID_CREDENTIALS","password":"\[REDACTED\]"\}/, 'the detail, redacted');
  t.notMatch(login!.log, /hunter2/, 'no secret in the trail');
  t.match(login!.log, /token "collector"/, 'how it arrived');

  t.match(password, { type: 'Password', ts: now - 30_000, principal: 'svc-hr', target: 'asmith' });
  t.match(add, { type: 'Provisioning', ts: Date.parse('2024-05-01T08:00:00Z'), outcome: null, target_system: 'Salesforce' });
  t.match(add!.log, /Detail: created by rule 7/);
  t.match(sync, { type: 'Synchronization' });
  t.match(custom, { type: 'Other', event: 'CUSTOM_THING', ts: Date.parse('2024-05-01T00:00:00Z') });
});

t.test('NDJSON: one event per line, blank lines and CRLF allowed, line numbers in the results', async (t) => {
  const b = await setup(t);
  const now = Date.now();
  const text = [
    JSON.stringify({ id: 'n1', timestamp: iso(now), action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'ann' }),
    '',
    JSON.stringify({ id: 'n2', timestamp: iso(now), action: 'LOGOUT', targetUser: 'ann' }),
    JSON.stringify({ id: 'n3', timestamp: iso(now), action: 'IMPERSONATION', principal: 'admin', targetUser: 'ann', ticket: 'T-1' }),
  ].join('\r\n');
  const res = await b.post(text, { type: 'application/x-ndjson' });
  t.equal(res.statusCode, 200);
  const body = res.json() as Json;
  t.same(
    body.results.map((r: Json) => [r.index, r.line, r.id, r.status]),
    [
      [0, 1, 'n1', 'stored'],
      [1, 3, 'n2', 'stored'],
      [2, 4, 'n3', 'stored'],
    ],
  );
  t.same(
    ingested(b).map((r) => r.event_id),
    ['n1', 'n2', 'n3'],
  );
  const also = await b.post(JSON.stringify({ id: 'n4', action: 'LOGIN' }), { type: 'application/ndjson; charset=utf-8' });
  t.equal(also.statusCode, 200, 'application/ndjson is accepted too');
});

t.test('re-sending a batch stores nothing twice: the items are duplicates', async (t) => {
  const b = await setup(t);
  const batch = [
    { id: 'd1', timestamp: iso(Date.now()), action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u1' },
    { id: 'd2', timestamp: iso(Date.now()), action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u2' },
  ];
  const first = await b.post(batch);
  t.equal(first.statusCode, 200);
  t.equal(first.json().accepted, 2);
  const again = await b.post([...batch, { id: 'd3', action: 'LOGOUT', targetUser: 'u1' }]);
  t.equal(again.statusCode, 200, 'duplicates are not errors');
  const body = again.json() as Json;
  t.match(body, { accepted: 1, duplicates: 2, rejected: 0 });
  t.same(
    body.results.map((r: Json) => [r.id, r.status, r.entryId === undefined]),
    [
      ['d1', 'duplicate', true],
      ['d2', 'duplicate', true],
      ['d3', 'stored', false],
    ],
  );
  t.same(
    ingested(b).map((r) => r.event_id),
    ['d1', 'd2', 'd3'],
  );
  const ndjson = await b.post(batch.map((e) => JSON.stringify(e)).join('\n'), { type: 'application/x-ndjson' });
  t.match(ndjson.json(), { accepted: 0, duplicates: 2 }, 'also across formats');
  const twice = await b.post([{ id: 'same', action: 'LOGIN' }, { id: 'same', action: 'LOGIN' }]);
  t.same(
    (twice.json() as Json).results.map((r: Json) => r.status),
    ['stored', 'duplicate'],
    'the same id twice in one batch',
  );
});

t.test('an event is known by its sender id, time, user and action: the same id at another time is another event', async (t) => {
  const b = await setup(t);
  const at = Date.now() - 60_000;
  const first = await b.post([{ id: 'evt-1', timestamp: at, action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u1' }]);
  t.match(first.json(), { accepted: 1 });
  const again = await b.post([
    { id: 'evt-1', timestamp: new Date(at).toISOString(), action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u1' },
    { id: 'evt-1', timestamp: at, action: 'LOGIN', outcome: 'FAILURE', targetUser: 'U1', detail: { resent: true } },
    { id: 'evt-1', timestamp: at + 1, action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u1' },
  ]);
  t.same(
    (again.json() as Json).results.map((r: Json) => r.status),
    ['duplicate', 'duplicate', 'stored'],
    'the same instant written differently is a duplicate, whatever else differs (outcome, case of the user, detail); a millisecond later is a new event',
  );
  // a sender whose ids collide with another's (two systems numbering from 1) loses nothing: at the
  // same instant, an event of the same id about another user or of another action is another event
  const other = await b.post([
    { id: 'evt-1', timestamp: at, action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'u2' },
    { id: 'evt-1', timestamp: at, action: 'LOGOUT', targetUser: 'u1' },
  ]);
  t.same(
    (other.json() as Json).results.map((r: Json) => r.status),
    ['stored', 'stored'],
    'another user or another action',
  );
  // the database itself refuses a copy, also through INSERT OR REPLACE from another connection
  const stored = ingested(b).filter((r) => r.event_id === 'evt-1');
  t.equal(stored.length, 4);
  const sqlite = b.app.database.sqlite;
  t.throws(
    () =>
      sqlite
        .prepare(`INSERT OR REPLACE INTO audit_log (ts, type, protocol, event, log, action, subject, event_id) VALUES (?, 'x', 'API', 'x', 'x', 'LOGIN', 'u1', 'evt-1')`)
        .run(at),
    /append-only/,
  );
  t.throws(
    () => sqlite.prepare(`INSERT OR REPLACE INTO audit_log (id, ts, type, protocol, event, log) VALUES (?, ?, 'x', 'API', 'x', 'x')`).run(stored[0]!.id, at),
    /append-only/,
    'nor can an entry be replaced by its id',
  );
  t.equal(ingested(b).filter((r) => r.event_id === 'evt-1').length, 4, 'nothing replaced');

  // the trigger seeks the event itself, down to its id: events of one user and action sent without a
  // time share the rest of the key, and a lookup that read each of them made storing n of them n²
  const trigger = (sqlite.prepare(`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_replace'`).get() as { sql: string }).sql;
  const lookup = trigger.slice(trigger.lastIndexOf('EXISTS (') + 'EXISTS ('.length, trigger.lastIndexOf('))')).replace(/NEW\.`?\w+`?/g, '?');
  const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${lookup}`).all(...Array<number>((lookup.match(/\?/g) ?? []).length).fill(1)) as { detail: string }[])
    .map((r) => r.detail)
    .join(' | ');
  t.match(plan, /COVERING INDEX audit_log_day_subject_action_ts \(<expr>=\? AND subject=\? AND action=\? AND ts=\? AND event_id=\?\)/, `the duplicate lookup: ${plan}`);
  const untimed = Array.from({ length: 300 }, (_, i) => ({ id: `u-${i}`, action: 'LOGIN', outcome: 'FAILURE', targetUser: 'kim' }));
  t.match((await b.post(untimed)).json(), { accepted: 300, duplicates: 0 }, 'events without a time');
  t.match((await b.post(untimed)).json(), { accepted: 0, duplicates: 300 }, 'sent again: duplicates');
});

t.test('partial failure: 207, each invalid event rejected with a reason, the valid ones kept', async (t) => {
  const b = await setup(t);
  const now = iso(Date.now());
  const res = await b.post([
    { id: 'ok-1', timestamp: now, action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'a' },
    { timestamp: now, action: 'LOGIN' },
    { id: 'bad-action', action: 'login' },
    { id: 'bad-outcome', action: 'LOGIN', outcome: 'MAYBE' },
    { id: 'x'.repeat(201), action: 'LOGIN' },
    { id: 'big-detail', action: 'LOGIN', detail: { blob: 'y'.repeat(9000) } },
    { id: 'bad-type', action: 'LOGIN', principal: { name: 'x' } },
    { id: 'long-ua', action: 'LOGIN', userAgent: 'u'.repeat(2000) },
    'not an object',
    { id: 'ok-2', action: 'LOGOUT', targetUser: 'a' },
  ]);
  t.equal(res.statusCode, 207);
  const body = res.json() as Json;
  t.match(body, { accepted: 2, duplicates: 0, rejected: 8 });
  const by = (i: number) => body.results[i] as Json;
  t.match(by(0), { status: 'stored', id: 'ok-1' });
  t.match(by(1), { status: 'rejected', id: null, error: /id is required/ });
  t.match(by(2), { status: 'rejected', id: 'bad-action', error: /action "login" is not a catalog code/ });
  t.match(by(3), { status: 'rejected', error: /outcome must be SUCCESS or FAILURE/ });
  t.match(by(4), { status: 'rejected', error: /id is 201 characters long; at most 200/ });
  t.match(by(5), { status: 'rejected', id: 'big-detail', error: /detail is [\d,]+ bytes when serialised; at most 8,192/ });
  t.match(by(6), { status: 'rejected', error: /principal must be a string/ });
  t.match(by(7), { status: 'rejected', error: /userAgent is 2,000 characters long/ });
  t.match(by(8), { status: 'rejected', error: /an event is a JSON object/ });
  t.match(by(9), { status: 'stored', id: 'ok-2' });
  t.same(
    ingested(b).map((r) => r.event_id),
    ['ok-1', 'ok-2'],
    'only the valid events are stored',
  );

  const ndjson = await b.post(['{"id":"l1","action":"LOGIN"}', '{"id":"l2","action":', '{"id":"l3","action":"LOGOUT"}', '[1]'].join('\n'), {
    type: 'application/x-ndjson',
  });
  t.equal(ndjson.statusCode, 207);
  const nb = ndjson.json() as Json;
  t.match(nb, { accepted: 2, rejected: 2 });
  t.match(nb.results[1], { index: 1, line: 2, status: 'rejected', error: /line 2 is not valid JSON/ });
  t.match(nb.results[3], { index: 3, line: 4, status: 'rejected', error: /an event is a JSON object, not an array/ });

  const all = await b.post([{ action: 'LOGIN' }]);
  t.equal(all.statusCode, 207, 'all rejected is a 207 as well: the body says why per item');
  t.match(all.json(), { accepted: 0, rejected: 1 });
});

t.test('a missing or invalid timestamp is stored as NULL, not refused', async (t) => {
  const b = await setup(t);
  const res = await b.post([
    { id: 't-none', action: 'LOGIN', outcome: 'FAILURE', targetUser: 'z' },
    { id: 't-bad', timestamp: 'yesterday', action: 'LOGIN', outcome: 'FAILURE', targetUser: 'z' },
    { id: 't-impossible', timestamp: '2024-02-30T10:00:00Z', action: 'LOGIN' },
    { id: 't-type', timestamp: { at: 1 }, action: 'LOGIN' },
    { id: 't-ok', timestamp: 1714557600000, action: 'LOGIN' },
  ]);
  t.equal(res.statusCode, 200);
  t.match(res.json(), { accepted: 5, rejected: 0 });
  const rows = ingested(b);
  t.same(
    rows.map((r) => [r.event_id, r.ts]),
    [
      ['t-none', null],
      ['t-bad', null],
      ['t-impossible', null],
      ['t-type', null],
      ['t-ok', 1714557600000],
    ],
  );
  t.match(rows[0]!.log, /^LOGIN FAILURE for "z" — no valid timestamp\n.*no valid timestamp \(none sent\)/);
  t.match(rows[1]!.log, /no valid timestamp \(sent: "yesterday"\)/);
  t.match(rows[3]!.log, /no valid timestamp \(sent: \{"at":1\}\)/);
});

t.test('limits: 5,001 events or more than 10 MiB are refused with a JSON 413 naming the limit', async (t) => {
  const b = await setup(t);
  const many = Array.from({ length: 5001 }, (_, i) => ({ id: `m${i}`, action: 'LOGIN' }));
  const arr = expectJsonError(t, await b.post(many), 413, 'too_many_events');
  t.match(arr.message, /5,001 events; at most 5,000/);
  const nd = expectJsonError(t, await b.post(many.map((e) => JSON.stringify(e)).join('\n'), { type: 'application/x-ndjson' }), 413, 'too_many_events');
  t.match(nd.message, /at most 5,000/);
  t.equal(ingested(b).length, 0, 'nothing stored');

  const exactly = await b.post(many.slice(0, 5000));
  t.equal(exactly.statusCode, 200, '5,000 events are fine');
  t.equal(exactly.json().accepted, 5000);

  const big = JSON.stringify([{ id: 'big', action: 'LOGIN', detail: 'x'.repeat(10 * 1024 * 1024) }]);
  const tooBig = expectJsonError(t, await b.post(big), 413, 'body_too_large');
  t.match(tooBig.message, /10 MiB \(10,485,760 bytes\)/);
  t.equal(ingested(b).length, 5000);

  const res = await b.app.inject({ method: 'GET', url: '/healthz' });
  t.equal(res.statusCode, 200, 'the server still serves');
});

t.test('malformed bodies: a JSON array that does not parse is a 400 and nothing is stored', async (t) => {
  const b = await setup(t);
  const bad = expectJsonError(t, await b.post('[{"id":"a","action":"LOGIN"},\n{"id":'), 400, 'invalid_json');
  t.match(bad.message, /line 2/);
  expectJsonError(t, await b.post({ id: 'single', action: 'LOGIN' }), 400, 'not_an_array');
  expectJsonError(t, await b.post('[]'), 400, 'empty_batch');
  expectJsonError(t, await b.post(''), 400, 'empty_batch');
  expectJsonError(t, await b.post('\n\n', { type: 'application/x-ndjson' }), 400, 'empty_batch');
  const media = expectJsonError(t, await b.post('id,action\n1,LOGIN', { type: 'text/csv' }), 415, 'unsupported_media_type');
  t.match(media.message, /application\/x-ndjson/);
  t.equal(ingested(b).length, 0);
  const proto = await b.post('[{"id":"p1","action":"LOGIN","detail":{"__proto__":{"polluted":true}}}]');
  t.equal(proto.statusCode, 200);
  t.equal(({} as Json).polluted, undefined, 'no prototype pollution');
  expectJsonError(t, await b.app.inject({ method: 'GET', url: '/api/v1/nothing-here' }), 404, 'not_found');
});

t.test('malformed JSON is described by place, never quoted: a secret in it reaches neither the answer nor the trail', async (t) => {
  const b = await setup(t);
  const bad = expectJsonError(t, await b.post('[{"id":"a","action":"LOGIN"},\n{"id":"b","detail":{"password":Pw-1234}}]'), 400, 'invalid_json');
  t.match(bad.message, /line 2, column 32 \(character 62\): expected a value/, bad.message);
  t.notOk(bad.message.includes('Pw-1234'), 'the message does not quote the body');

  const nd = await b.post(['{"id":"l1","action":"LOGIN"}', '{"id":"l2","action":"LOGIN","detail":{"pwd":Nd-Secret-9}}'].join('\n'), { type: 'application/x-ndjson' });
  t.equal(nd.statusCode, 207);
  t.match(nd.json().results[1], { line: 2, status: 'rejected', error: /^line 2 is not valid JSON: at line 2, column 45 .*expected a value/ });
  t.notOk(nd.body.includes('Nd-Secret-9'), 'the per-line reason does not quote the line');

  for (const row of auditRows(b.app)) {
    t.notOk(String(row.log).includes('Pw-1234'), `entry ${row.id} does not contain the first secret`);
    t.notOk(String(row.log).includes('Nd-Secret-9'), `entry ${row.id} does not contain the second`);
  }
  t.ok(summaries(b).some((r) => /not valid JSON: at line 2, column 32/.test(String(r.log))), 'the refusal is logged with the place');
});

t.test('an event nested thousands of levels deep is rejected alone; the batch is stored (no 500)', async (t) => {
  const b = await setup(t);
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const res = await b.post(
    `[{"id":"ok-1","action":"LOGIN"},{"id":"deep","action":"LOGIN","detail":${deep(5000)}},` +
      `{"id":"deep-ts","action":"LOGIN","timestamp":${deep(5000)}},{"id":"at-limit","action":"LOGIN","detail":${deep(32)}}]`,
  );
  t.equal(res.statusCode, 207, 'a multi-status answer, not a 500');
  const body = res.json() as Json;
  t.match(body, { accepted: 3, rejected: 1 });
  t.match(body.results[1], { id: 'deep', status: 'rejected', error: 'detail is nested deeper than 32 levels of objects and arrays' });
  t.match(body.results[2], { id: 'deep-ts', status: 'stored' });
  t.match(body.results[3], { id: 'at-limit', status: 'stored' });
  t.same(
    ingested(b).map((r) => r.event_id),
    ['ok-1', 'deep-ts', 'at-limit'],
  );
  t.match(String(ingested(b)[1]!.log), /no valid timestamp \(sent: an object nested too deep to show\)/, 'a deep object sent as the timestamp is named, not serialised');

  const nd = await b.post(`{"id":"n-deep","action":"LOGIN","detail":${deep(5000)}}\n{"id":"n-ok","action":"LOGIN"}`, { type: 'application/x-ndjson' });
  t.equal(nd.statusCode, 207);
  t.match(nd.json().results, [{ id: 'n-deep', status: 'rejected', error: /nested deeper than 32 levels/ }, { id: 'n-ok', status: 'stored' }]);

  // a body that is nothing but nesting: a clear answer, never a 500
  const arrays = await b.post('['.repeat(100_000) + ']'.repeat(100_000));
  t.equal(arrays.statusCode, 207);
  t.match(arrays.json().results[0], { status: 'rejected', error: /an event is a JSON object, not an array/ });
  t.notOk(auditRows(b.app).some((r) => Number(r.http) >= 500), 'no 5xx');
});

t.test('detail redaction: secret key names in any spelling, and secrets inside strings', async (t) => {
  const b = await setup(t);
  const res = await b.post([
    {
      id: 'keys',
      action: 'CHANGE_PASSWORD',
      detail: {
        pwd: 'Leak-pwd-1',
        private_key: 'Leak-pk-2',
        privateKey: 'Leak-pk-3',
        bearer: 'Leak-bearer-4',
        PassPhrase: 'Leak-pp-5',
        'client-secret': 'Leak-cs-6',
        apiKey: 'Leak-ak-7',
        nested: [{ API_KEY: 'Leak-ak-8', note: 'rotated with client_secret=Leak-cs-9' }],
        reason: 'rotation',
      },
    },
    { id: 'text', action: 'LOGIN', detail: 'password=Leak-text-10 Bearer iamt_LeakText11 then pwd: "Leak text 12"' },
    { id: 'basic', action: 'LOGIN', detail: `sent Authorization: Basic ${Buffer.from('svc:Leak-basic-13').toString('base64')} · Basic authentication failed` },
    { id: 'plain', action: 'LOGIN', detail: 'logged in at 10:30 from the office; token=' },
  ]);
  t.equal(res.statusCode, 200);
  const log = (id: string) => String(ingested(b).find((r) => r.event_id === id)!.log);
  t.match(
    log('keys'),
    /Detail: \{"pwd":"\[REDACTED\]","private_key":"\[REDACTED\]","privateKey":"\[REDACTED\]","bearer":"\[REDACTED\]","PassPhrase":"\[REDACTED\]","client-secret":"\[REDACTED\]","apiKey":"\[REDACTED\]","nested":\[\{"API_KEY":"\[REDACTED\]","note":"rotated with client_secret=\[REDACTED\]"\}\],"reason":"rotation"\}/,
  );
  t.match(log('text'), /Detail: password=\[REDACTED\] Bearer \[REDACTED\] then pwd: "\[REDACTED\]"$/);
  t.match(log('basic'), /Detail: sent Authorization: \[REDACTED\] · Basic authentication failed$/, 'Basic credentials go; the words "Basic authentication" stay');
  t.match(log('plain'), /Detail: logged in at 10:30 from the office; token=$/, 'text without a secret is kept as sent');
  const secrets = /Leak-|LeakText/;
  for (const row of auditRows(b.app)) t.notMatch(String(row.log), secrets, `entry ${row.id} holds none of the secrets`);
  b.app.writeQueue.flush();
  const path = b.config.DATABASE_PATH;
  for (const file of [path, `${path}-wal`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    t.equal(bytes.indexOf(Buffer.from('Leak-')), -1, `${file.split('/').pop()} holds none of the secrets`);
  }
});

t.test('authentication: ingest tokens only; 401 with WWW-Authenticate, 403 for other scopes', async (t) => {
  const b = await setup(t);
  const batch = [{ id: 'auth-1', action: 'LOGIN' }];
  const none = expectJsonError(t, await b.post(batch, { token: null }), 401, 'unauthorized');
  t.match(none.message, /No Authorization header/);
  t.match(String((await b.post(batch, { token: null })).headers['www-authenticate']), /^Bearer realm="iamtrail API"/);
  const unknown = await b.post(batch, { token: 'iamt_nope' });
  expectJsonError(t, unknown, 401, 'unauthorized');
  t.match(String(unknown.headers['www-authenticate']), /error="invalid_token"/);

  const scim = expectJsonError(t, await b.post(batch, { token: b.token }), 403, 'insufficient_scope');
  t.match(scim.message, /Token "test-token" has scope "scim", not "ingest"/);
  const settings = createSettingsService(b.app.database.sqlite, b.app.repos);
  const actor = { name: 'test', protocol: 'CLI' as const };
  const read = settings.createToken({ name: 'reader', scope: 'read' }, actor).token;
  expectJsonError(t, await b.post(batch, { token: read }), 403, 'insufficient_scope');

  const old = settings.createToken({ name: 'old-collector', scope: 'ingest' }, actor).token;
  settings.revokeToken('old-collector', actor);
  const revoked = expectJsonError(t, await b.post(batch, { token: old }), 401, 'unauthorized');
  t.match(revoked.message, /revoked/);
  t.equal(ingested(b).length, 0, 'nothing stored without a valid ingest token');

  const refused = summaries(b);
  t.equal(refused.length, 6, 'each refused request has its summary entry');
  t.match(refused[0], { protocol: 'API', type: 'Ingest', event: 'Ingest Events', http: 401, outcome: 'FAILURE', principal: null });
  t.match(refused[0]!.log, /^Ingestion request refused \(401\): No Authorization header/);
  t.match(refused[3], { http: 403, principal: 'test-token' });

  const ok = await b.post(batch);
  t.equal(ok.statusCode, 200);
  const tokenRow = b.app.database.sqlite.prepare('SELECT last_used_at FROM api_tokens WHERE name = ?').get('collector') as Json;
  t.type(tokenRow.last_used_at, 'number', 'the token is marked used');
});

t.test('one summary audit entry per batch, in the same transaction', async (t) => {
  const b = await setup(t);
  const before = auditRows(b.app).length;
  const res = await b.post(
    [
      { id: 's1', action: 'LOGIN', targetUser: 'a' },
      { id: 's2', action: 'LOGIN', targetUser: 'b' },
      { id: 's3', action: 'nope' },
    ],
    {},
  );
  t.equal(res.statusCode, 207);
  const rows = auditRows(b.app).slice(before);
  t.equal(rows.length, 3, 'two events and one summary');
  const summary = rows[2]!;
  t.match(summary, {
    type: 'Ingest',
    protocol: 'API',
    event: 'Ingest Events',
    action: 'EVENTS_INGESTED',
    principal: 'collector',
    http: 207,
    outcome: 'FAILURE',
    user_agent: 'collector-test/1.0',
  });
  t.type(summary.ts, 'number');
  const lines = String(summary.log).split('\n');
  t.equal(lines[0], 'Ingested 3 events (JSON array) with token "collector": 2 stored, 0 duplicates, 1 rejected');
  t.match(summary.log, /POST \/api\/v1\/events · client/);
  t.match(summary.log, new RegExp(`Stored entries: #${rows[0]!.id}–#${rows[1]!.id}`));
  t.match(summary.log, /#2 \(id "s3"\): action "nope" is not a catalog code/);

  await b.post([{ id: 's1', action: 'LOGIN', targetUser: 'a' }]);
  const last = summaries(b).at(-1)!;
  t.match(last, { http: 200, outcome: 'SUCCESS' });
  t.match(last.log, /0 stored, 1 duplicate, 0 rejected/);
});

t.test('a burst of 5 LOGIN FAILURE for one user via the API raises login-brute-force', async (t) => {
  const b = await setup(t);
  const start = Date.now() - 5 * 60_000;
  const burst = Array.from({ length: 5 }, (_, i) => ({
    id: `bf-${i}`,
    timestamp: iso(start + i * 30_000),
    action: 'LOGIN',
    outcome: 'FAILURE',
    principal: 'mallory',
    targetUser: 'victim@example.com',
    sourceIp: '198.51.100.9',
    country: 'RU',
  }));
  const four = await b.post(burst.slice(0, 4), { type: 'application/json' });
  t.equal(four.statusCode, 200);
  const flags = () => b.app.database.sqlite.prepare("SELECT * FROM red_flags WHERE rule = 'login-brute-force'").all() as Json[];
  t.equal(flags().length, 0, 'four failures are not a flag');
  const fifth = await b.post(burst.slice(4).map((e) => JSON.stringify(e)).join('\n'), { type: 'application/x-ndjson' });
  t.equal(fifth.statusCode, 200);
  const raised = flags();
  t.equal(raised.length, 1, 'the fifth failure raises the flag');
  t.match(raised[0], { subject: 'victim@example.com', status: 'open', severity: 'high' });
  t.match(raised[0]!.title, /5 failed sign-ins for "victim@example.com"/);
  const linked = b.app.database.sqlite.prepare('SELECT count(*) AS n FROM red_flag_entries WHERE flag_id = ?').get(raised[0]!.id) as Json;
  t.equal(linked.n, 5, 'the five entries are linked to the flag');

  // entries without a valid time are stored but judged by no rule
  const undated = Array.from({ length: 6 }, (_, i) => ({ id: `nd-${i}`, action: 'LOGIN', outcome: 'FAILURE', targetUser: 'other' }));
  await b.post(undated);
  t.equal(
    (b.app.database.sqlite.prepare("SELECT count(*) AS n FROM red_flags WHERE subject = 'other'").get() as Json).n,
    0,
  );
});

t.test('the Log text: one line per part, a detail cannot add lines, epoch seconds are pointed out', async (t) => {
  const b = await setup(t);
  const res = await b.post([
    { id: 'forge', action: 'LOGIN', targetUser: 'x', detail: 'oops\nReceived over the API with token "someone-else"' },
    { id: 'secs', timestamp: 1714557600, action: 'LOGIN', targetUser: 'y' },
    { id: 'nl-user', action: 'LOGIN', targetUser: 'a\nb' },
  ]);
  t.equal(res.statusCode, 207);
  t.match((res.json() as Json).results[2], { status: 'rejected', error: /targetUser contains a control character/ });
  const [forge, secs] = ingested(b);
  const lines = String(forge!.log).split('\n');
  t.equal(lines.length, 4, 'human line, fields, provenance, detail');
  t.equal(lines[2], 'Received over the API with token "collector"');
  t.equal(lines[3], 'Detail: "oops\\nReceived over the API with token \\"someone-else\\""');
  t.equal(secs!.ts, 1714557600, 'stored as sent: epoch milliseconds');
  t.match(secs!.log, /sent 1714557600: epoch milliseconds — were seconds meant\?/);
});

// Batches are stored by a writer thread with its own connection (src/services/ingest-writer.ts),
// while SCIM and the console write through the server's own connection.
t.test('batches and SCIM writes at the same time: every request answered and logged, nothing lost', async (t) => {
  const b = await setup(t);
  const now = Date.now();
  const batches = Array.from({ length: 6 }, (_, k) =>
    Array.from({ length: 200 }, (_, i) => ({ id: `c-${k}-${i}`, timestamp: now - i, action: 'LOGIN', outcome: 'SUCCESS', targetUser: `u${i}`, sourceIp: '192.0.2.1' })),
  );
  const users = Array.from({ length: 20 }, (_, i) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `concurrent${i}` }));
  const [ingests, creates] = await Promise.all([
    Promise.all(batches.map((batch) => b.post(batch))),
    Promise.all(users.map((payload) => b.scim({ method: 'POST', url: '/Users', payload }))),
  ]);
  t.same(ingests.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200]);
  t.same(ingests.map((r) => (r.json() as Json).accepted), [200, 200, 200, 200, 200, 200]);
  t.same(new Set(creates.map((r) => r.statusCode)), new Set([201]));
  t.equal(ingested(b).length, 1200, 'every event is in the log');
  t.equal(summaries(b).length, 6, 'one summary per batch');
  t.equal(auditRows(b.app).filter((r) => r.protocol === 'SCIM' && r.event === 'Create User').length, 20, 'every SCIM request is in the log');
  // what the thread wrote is seen at once by the server's connection and its caches
  const token = b.app.repos.tokens.list().find((x) => x.name === 'collector')!;
  t.ok(token.lastUsedAt !== null && token.lastUsedAt >= now, 'the token’s last use, written by the thread, is seen by the server');
});

t.test('closing the server answers the batches in flight first', async (t) => {
  const b = await setup(t);
  const batch = Array.from({ length: 500 }, (_, i) => ({ id: `z-${i}`, timestamp: Date.now(), action: 'LOGOUT', targetUser: `u${i}` }));
  const pending = b.post(batch);
  // the request is parsed and handed to the thread on a later turn; close once it is
  await new Promise((r) => setTimeout(r, 50));
  await b.app.close();
  const res = await pending;
  t.equal(res.statusCode, 200);
  t.equal((res.json() as Json).accepted, 500);
});

t.test('an in-memory database (one connection, no thread) ingests the same way', async (t) => {
  const b = await build(t, { DATABASE_PATH: ':memory:' }, { scim: false });
  const settings = createSettingsService(b.app.database.sqlite, b.app.repos);
  const token = settings.createToken({ name: 'mem', scope: 'ingest' }, { name: 'test', protocol: 'CLI' }).token;
  const res = await b.app.inject({
    method: 'POST',
    url: '/api/v1/events',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify([{ id: 'm1', timestamp: Date.now(), action: 'LOGIN', outcome: 'FAILURE', targetUser: 'kim' }, { id: 'bad' }]),
  });
  t.equal(res.statusCode, 207);
  t.match(res.json(), { accepted: 1, rejected: 1 });
  t.equal(ingested(b).length, 1);
  t.match(summaries(b)[0], { http: 207, principal: 'mem' });
});
