// The read side of /api/v1: keyset-paged logs and red flags, the catalog, and the streamed CSV/NDJSON
// exports, with a `read` token or a signed-in console administrator (session cookie, no
// Authorization header). Every export is itself an audit entry (LOG_EXPORTED), written before the
// first byte is streamed — so the export contains its own LOG_EXPORTED entry as its last row.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { SEED_004_CODES } from '../../src/audit/catalog.js';
import { EXPORT_FIELDS } from '../../src/audit/export.js';
import { RULES } from '../../src/audit/rules.js';
import { hashToken, generateToken } from '../../src/auth/tokens.js';
import { createSettingsService } from '../../src/services/settings.js';
import { auditRows, type Built, expectJsonError } from '../helper.js';
import { ADMIN, buildConsole, createAccount, type ConsoleBuilt } from '../console-helper.js';

type Json = Record<string, any>;
type Res = Awaited<ReturnType<Built['app']['inject']>>;

const ACTOR = { name: 'test', protocol: 'CLI' as const };
const READER = 'reporter';

interface Ctx extends ConsoleBuilt {
  /** a read token named READER */
  read: string;
  /** an ingest token */
  ingest: string;
  settings: ReturnType<typeof createSettingsService>;
  /** GET with a bearer token (null: no Authorization header) */
  get(url: string, token?: string | null, headers?: Record<string, string>): Promise<Res>;
}

async function setup(t: Test): Promise<Ctx> {
  const b = await buildConsole(t);
  const settings = createSettingsService(b.app.database.sqlite, b.app.repos);
  const read = settings.createToken({ name: READER, scope: 'read' }, ACTOR).token;
  const ingest = settings.createToken({ name: 'collector', scope: 'ingest' }, ACTOR).token;
  const get = (url: string, token: string | null = read, headers: Record<string, string> = {}) =>
    b.app.inject({ method: 'GET', url, headers: { 'user-agent': 'api-read-test/1.0', ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers } });
  return { ...b, read, ingest, settings, get };
}


/** The JSON an entry should have, built from the raw audit_log row (independent of src/audit/export.ts). */
function expected(row: Json): Json {
  return {
    id: row.id,
    ts: row.ts,
    time: row.ts === null ? null : new Date(row.ts as number).toISOString(),
    type: row.type,
    protocol: row.protocol,
    event: row.event,
    http: row.http,
    action: row.action,
    outcome: row.outcome,
    principal: row.principal,
    target: row.target,
    resourceId: row.resource_id,
    sourceIp: row.source_ip,
    country: row.country,
    userAgent: row.user_agent,
    targetSystem: row.target_system,
    ticket: row.ticket,
    eventId: row.event_id,
    log: row.log,
  };
}

const exportedCount = (app: FastifyInstance) => auditRows(app).filter((r) => r.action === 'LOG_EXPORTED').length;
const maxId = (app: FastifyInstance) => (app.database.sqlite.prepare('SELECT coalesce(max(id), 0) AS n FROM audit_log').get() as { n: number }).n;

/** An RFC 4180 parser: quoted fields may hold commas, doubled quotes, CR and LF; records end with CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`a bare ${c === '\r' ? 'CR' : 'LF'} outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('the last record does not end with CRLF');
  return records;
}

t.test('GET /logs: newest first, every field including eventId', async (t) => {
  const c = await setup(t);
  const ts = Date.UTC(2026, 0, 14, 9, 30, 15, 123);
  const id = c.app.repos.audit.append({
    ts,
    type: 'User',
    protocol: 'API',
    event: 'Sign In',
    http: 201,
    log: 'Signed in from Okta\nline two, with "quotes"',
    action: 'LOGIN',
    outcome: 'SUCCESS',
    principal: 'okta',
    target: 'jdoe',
    resourceId: 'user-42',
    sourceIp: '203.0.113.9',
    userAgent: 'Mozilla/5.0',
    eventId: 'okta-evt-0001',
    country: 'FR',
    ticket: 'INC-7',
    targetSystem: 'Okta',
  });
  c.app.repos.audit.append({ ts: null, type: 'User', protocol: 'API', event: 'Unknown', log: 'no time' });

  const res = await c.get('/api/v1/logs?limit=1000');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  const body = res.json() as Json;
  const rows = auditRows(c.app);
  t.equal(body.entries.length, rows.length, 'every entry (fewer than the limit)');
  t.equal(body.next, null, 'no next page');
  t.same(
    body.entries.map((e: Json) => e.id),
    rows.map((r) => r.id).reverse(),
    'newest first',
  );
  t.strictSame(body.entries, rows.reverse().map(expected), 'each entry equals its row, field by field');
  for (const e of body.entries) t.strictSame(Object.keys(e), [...EXPORT_FIELDS], `entry ${e.id} has exactly the export fields`);

  const mine = body.entries.find((e: Json) => e.id === id);
  t.strictSame(mine, {
    id,
    ts,
    time: '2026-01-14T09:30:15.123Z',
    type: 'User',
    protocol: 'API',
    event: 'Sign In',
    http: 201,
    action: 'LOGIN',
    outcome: 'SUCCESS',
    principal: 'okta',
    target: 'jdoe',
    resourceId: 'user-42',
    sourceIp: '203.0.113.9',
    country: 'FR',
    userAgent: 'Mozilla/5.0',
    targetSystem: 'Okta',
    ticket: 'INC-7',
    eventId: 'okta-evt-0001',
    log: 'Signed in from Okta\nline two, with "quotes"',
  });
  t.equal(body.entries[0].time, null, 'an entry without a time has time null');

  // the default page is 100 entries
  for (let i = 0; i < 120; i++) c.app.repos.audit.append({ ts: Date.now(), type: 'Test', protocol: 'API', event: 'Filler', log: `filler ${i}` });
  const first = (await c.get('/api/v1/logs')).json() as Json;
  t.equal(first.entries.length, 100, 'default limit 100');
  t.equal(first.next, `/api/v1/logs?before=${first.entries[99].id}&limit=100`, 'next is the keyset link');
});

t.test('GET /logs: keyset paging walks every entry exactly once while entries are appended', async (t) => {
  const c = await setup(t);
  for (let i = 0; i < 250; i++) c.app.repos.audit.append({ ts: Date.now(), type: 'Test', protocol: 'API', event: 'Filler', log: `entry ${i}` });
  const top = maxId(c.app);
  const seen: number[] = [];
  let url: string | null = '/api/v1/logs?limit=7';
  let pages = 0;
  let appended = 0;
  while (url) {
    const res = await c.get(url);
    t.equal(res.statusCode, 200, `page ${pages + 1}`);
    const body = res.json() as Json;
    t.ok(body.entries.length <= 7, 'at most limit entries');
    if (body.next !== null) t.equal(body.entries.length, 7, 'a page with a next link is full');
    seen.push(...body.entries.map((e: Json) => e.id as number));
    url = body.next;
    pages++;
    // new entries between pages: they are newer than the first page and must not shift the walk
    for (let i = 0; i < 3; i++) c.app.repos.audit.append({ ts: Date.now(), type: 'Test', protocol: 'API', event: 'Concurrent', log: `during paging ${pages}.${i}` });
    appended += 3;
    if (pages > 100) throw new Error('paging does not end');
  }
  t.equal(new Set(seen).size, seen.length, 'no duplicates');
  t.strictSame(seen, Array.from({ length: top }, (_, i) => top - i), 'every id from the first page down to 1, in order: no gaps');
  t.equal(pages, Math.ceil(top / 7), 'pages');
  t.equal(maxId(c.app), top + appended, 'the concurrent entries were stored (and are not part of this walk)');

  // a walk started now sees them
  const fresh = (await c.get('/api/v1/logs?limit=1000')).json() as Json;
  t.equal(fresh.entries[0].id, top + appended);
  t.equal(fresh.entries.length, top + appended);

  // limit=1 and before= at the edges
  const one = (await c.get(`/api/v1/logs?limit=1&before=${top}`)).json() as Json;
  t.strictSame(one.entries.map((e: Json) => e.id), [top - 1]);
  t.equal(one.next, `/api/v1/logs?before=${top - 1}&limit=1`);
  const last = (await c.get('/api/v1/logs?limit=5&before=2')).json() as Json;
  t.strictSame(last.entries.map((e: Json) => e.id), [1]);
  t.equal(last.next, null, 'the oldest page has no next');
  const exact = (await c.get('/api/v1/logs?limit=3&before=4')).json() as Json;
  t.strictSame(exact.entries.map((e: Json) => e.id), [3, 2, 1]);
  t.equal(exact.next, null, 'a page that ends exactly at the oldest entry has no next');
});

t.test('GET /logs and /red-flags: out-of-range or malformed limit and before are 400 JSON errors', async (t) => {
  const c = await setup(t);
  for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=1.5', 'before=0', 'before=abc', 'before=-3']) {
    t.test(q, async (t) => {
      expectJsonError(t, await c.get(`/api/v1/logs?${q}`), 400, 'bad_request');
      expectJsonError(t, await c.get(`/api/v1/red-flags?${q}`), 400, 'bad_request');
    });
  }
  expectJsonError(t, await c.get('/api/v1/red-flags?status=closed'), 400, 'bad_request');
  t.equal((await c.get('/api/v1/logs?limit=1000')).statusCode, 200, 'limit=1000 is allowed');
  t.equal((await c.get('/api/v1/logs?limit=1')).statusCode, 200, 'limit=1 is allowed');
  t.equal((await c.get('/api/v1/red-flags?limit=1000')).statusCode, 200, 'red-flags limit=1000 is allowed');
  expectJsonError(t, await c.get('/api/v1/nothing-here'), 404, 'not_found');
});

t.test('GET /red-flags: flags with their entry ids, status filter and paging', async (t) => {
  const c = await setup(t);
  const now = Date.now();
  const failures = (target: string) =>
    Array.from({ length: 5 }, (_, i) =>
      c.app.repos.audit.append({
        ts: now - 5 * 60_000 + i * 60_000,
        type: 'Auth',
        protocol: 'API',
        event: 'Sign In',
        log: `Sign-in failed for ${target}: wrong password`,
        action: 'LOGIN',
        outcome: 'FAILURE',
        principal: target,
        target,
        sourceIp: '198.51.100.4',
      }),
    );
  const jdoe = failures('jdoe');

  let body = (await c.get('/api/v1/red-flags')).json() as Json;
  const bruteForce = (b: Json) => b.redFlags.filter((f: Json) => f.rule === 'login-brute-force');
  t.equal(bruteForce(body).length, 1, 'one brute-force flag, open by default');
  const flag = bruteForce(body)[0];
  t.equal(flag.subject, 'jdoe');
  t.equal(flag.status, 'open');
  t.equal(flag.severity, 'high');
  t.equal(flag.entryCount, 5);
  t.strictSame(flag.entryIds, [...jdoe].reverse(), 'the five failures, newest first');
  t.equal(flag.firstEntryId, jdoe[0]);
  t.equal(flag.lastEntryId, jdoe[4]);
  for (const k of ['id', 'title', 'explanation', 'action', 'raisedAt', 'updatedAt']) t.ok(flag[k] !== undefined && flag[k] !== null, `has ${k}`);
  t.match(flag.title, /5 failed sign-ins for "jdoe"/);

  const asmith = failures('asmith');
  body = (await c.get('/api/v1/red-flags')).json() as Json;
  t.strictSame(bruteForce(body).map((f: Json) => f.subject), ['asmith', 'jdoe'], 'newest flag first');
  const other = bruteForce(body)[0];
  t.strictSame(other.entryIds, [...asmith].reverse());

  // acknowledge the jdoe flag: it leaves the open list
  c.settings.closeFlag(flag.id, 'acknowledged', 'Talked to jdoe: forgot the new password', ACTOR);
  body = (await c.get('/api/v1/red-flags?status=open')).json() as Json;
  t.strictSame(bruteForce(body).map((f: Json) => f.subject), ['asmith'], 'status=open');
  body = (await c.get('/api/v1/red-flags?status=acknowledged')).json() as Json;
  t.strictSame(body.redFlags.map((f: Json) => f.id), [flag.id], 'status=acknowledged');
  t.equal(body.redFlags[0].note, 'Talked to jdoe: forgot the new password');
  t.equal(body.redFlags[0].closedBy, 'test');
  t.strictSame(body.redFlags[0].entryIds, [...jdoe].reverse(), 'a closed flag keeps its entries');
  body = (await c.get('/api/v1/red-flags?status=resolved')).json() as Json;
  t.strictSame(body.redFlags, [], 'status=resolved: none');
  body = (await c.get('/api/v1/red-flags?status=all')).json() as Json;
  t.strictSame(bruteForce(body).map((f: Json) => f.id), [other.id, flag.id], 'status=all');

  // keyset paging over all flags
  const all = body.redFlags.map((f: Json) => f.id);
  const walked: number[] = [];
  let url: string | null = '/api/v1/red-flags?status=all&limit=1';
  while (url) {
    const page = (await c.get(url)).json() as Json;
    t.ok(page.redFlags.length <= 1);
    walked.push(...page.redFlags.map((f: Json) => f.id));
    url = page.next;
    if (walked.length > 50) throw new Error('paging does not end');
  }
  t.strictSame(walked, all, 'paging with next visits every flag once');
});

t.test('GET /catalog: every code of seed 004, and the rules', async (t) => {
  const c = await setup(t);
  const res = await c.get('/api/v1/catalog');
  t.equal(res.statusCode, 200);
  const body = res.json() as Json;
  const codes = new Set(body.events.map((e: Json) => e.code));
  for (const code of SEED_004_CODES) t.ok(codes.has(code), `catalog has ${code}`);
  t.ok(codes.has('LOG_EXPORTED'), 'and the codes iamtrail writes itself, e.g. LOG_EXPORTED');
  for (const e of body.events) {
    t.type(e.label, 'string');
    t.type(e.summary, 'string');
    t.type(e.default?.meaning, 'string');
    t.type(e.default?.action, 'string');
  }
  t.equal(body.ruleCount, RULES.length);
  t.strictSame(
    body.rules.map((r: Json) => r.id),
    RULES.map((r) => r.id),
    'every rule, in order',
  );
  for (const r of body.rules) {
    t.type(r.enabled, 'boolean', `${r.id} enabled`);
    t.type(r.name, 'string');
    t.ok(['low', 'medium', 'high', 'critical'].includes(r.severity), `${r.id} severity`);
    t.ok(Array.isArray(r.on) && r.on.length > 0, `${r.id} on`);
    t.type(r.thresholds, 'object');
    t.ok(r.lacking === null || typeof r.lacking === 'string', `${r.id} lacking: null or what context is missing`);
  }
  // a rule without its context says which, in words and by name (a fresh install lists nobody)
  const bulk = body.rules.find((r: Json) => r.id === 'bulk-reset-outside-maintenance');
  t.equal(bulk.lacking, 'No maintenance windows are set on the Rules screen.');
  t.same(bulk.missingContext, ['maintenanceWindows']);
  const deprov = body.rules.find((r: Json) => r.id === 'deprovisioning-without-termination');
  t.same(deprov.missingContext, ['terminated']);
  const brute = body.rules.find((r: Json) => r.id === 'login-brute-force');
  t.equal(brute.lacking, null);
  t.same(brute.missingContext, []);
  t.equal(brute.enabled, true);
  t.match(brute.thresholds, { failures: 5, windowMinutes: 10 });
});

t.test('auth: no token, wrong scope, revoked, expired, malformed', async (t) => {
  const c = await setup(t);
  const urls = ['/api/v1/logs', '/api/v1/red-flags', '/api/v1/catalog', '/api/v1/logs/export.csv', '/api/v1/logs/export.ndjson'];
  const before = exportedCount(c.app);

  for (const url of urls) {
    t.test(`${url}: no token and no session → 401`, async (t) => {
      const res = await c.get(url, null);
      expectJsonError(t, res, 401, 'unauthorized');
      t.match(res.headers['www-authenticate'], /^Bearer realm="iamtrail API"/);
    });
    t.test(`${url}: scim and ingest tokens → 403 insufficient_scope`, async (t) => {
      for (const token of [c.token, c.ingest]) {
        const res = await c.get(url, token);
        const body = expectJsonError(t, res, 403, 'insufficient_scope');
        t.match(body.message, /scope "read"/);
        t.equal(res.headers['www-authenticate'], 'Bearer realm="iamtrail API", error="insufficient_scope", scope="read"');
      }
    });
  }

  // an unknown token, a malformed header
  for (const auth of [`Bearer ${generateToken()}`, 'Basic dXNlcjpwYXNz', 'Bearer', `Bearer ${c.read} extra`]) {
    const res = await c.app.inject({ method: 'GET', url: '/api/v1/logs', headers: { authorization: auth } });
    expectJsonError(t, res, 401, 'unauthorized');
    t.match(res.headers['www-authenticate'], /^Bearer realm="iamtrail API"/, `WWW-Authenticate for ${auth.slice(0, 12)}…`);
  }

  // an expired read token (inserted directly: createToken only takes a future expiry)
  const expiredToken = generateToken();
  c.app.repos.tokens.insert({ name: 'old-reader', tokenHash: hashToken(expiredToken), scope: 'read', createdAt: Date.now() - 10 * 86_400_000, expiresAt: Date.now() - 1000, createdBy: 'test' });
  for (const url of urls) {
    const res = await c.get(url, expiredToken);
    const body = expectJsonError(t, res, 401, 'unauthorized');
    t.match(body.message, /old-reader" expired/);
    t.equal(res.headers['www-authenticate'], 'Bearer realm="iamtrail API", error="invalid_token"');
  }

  // the read token works, then is revoked
  t.equal((await c.get('/api/v1/logs')).statusCode, 200, 'the read token works');
  c.settings.revokeToken(READER, ACTOR);
  for (const url of urls) {
    const res = await c.get(url);
    const body = expectJsonError(t, res, 401, 'unauthorized');
    t.match(body.message, /reporter" was revoked/);
    t.equal(res.headers['www-authenticate'], 'Bearer realm="iamtrail API", error="invalid_token"');
  }

  t.equal(exportedCount(c.app), before, 'refused exports write no LOG_EXPORTED entry');
});

t.test('a signed-in console administrator reads without a token; an Employee gets 403', async (t) => {
  const c = await setup(t);
  const admin = await c.signedIn();

  const logs = await admin.get('/api/v1/logs?limit=5');
  t.equal(logs.statusCode, 200, 'the session stands in for the token');
  t.equal((logs.json() as Json).entries.length, 5);
  t.equal((await admin.get('/api/v1/red-flags')).statusCode, 200);
  t.equal((await admin.get('/api/v1/catalog')).statusCode, 200);

  const before = maxId(c.app);
  const csv = await admin.get('/api/v1/logs/export.csv');
  t.equal(csv.statusCode, 200, 'and export');
  t.match(csv.headers['content-type'], /^text\/csv/);
  const added = auditRows(c.app).filter((r) => (r.id as number) > before);
  t.equal(added.length, 1, 'one new entry');
  t.match(added[0], { action: 'LOG_EXPORTED', outcome: 'SUCCESS', protocol: 'WEB', principal: ADMIN.username, type: 'Export', source_ip: '203.0.113.7' });
  t.match(added[0]!.log, /^Exported the whole audit log as CSV\nBy "admin" from 203\.0\.113\.7$/);

  // with an Authorization header, the header decides, not the session
  expectJsonError(t, await admin.get('/api/v1/logs', { authorization: 'Bearer nope' }), 401, 'unauthorized');
  expectJsonError(t, await admin.get('/api/v1/logs', { authorization: `Bearer ${c.ingest}` }), 403, 'insufficient_scope');
  const viaToken = maxId(c.app);
  t.equal((await admin.get('/api/v1/logs/export.ndjson', { authorization: `Bearer ${c.read}` })).statusCode, 200);
  t.match(c.app.repos.audit.byId(viaToken + 1), { action: 'LOG_EXPORTED', principal: READER, protocol: 'API' }, 'a token beats the session');

  await createAccount(c.app, 'erin', 'erin-password-123', 'Employee');
  const erin = await c.signedIn('erin', 'erin-password-123');
  const exported = exportedCount(c.app);
  for (const url of ['/api/v1/logs', '/api/v1/red-flags', '/api/v1/catalog', '/api/v1/logs/export.csv', '/api/v1/logs/export.ndjson']) {
    const body = expectJsonError(t, await erin.get(url), 403, 'forbidden');
    t.match(body.message, /IT Settings IAM/, `${url}: names the missing permission`);
  }
  t.equal(exportedCount(c.app), exported, 'a refused export writes no LOG_EXPORTED');

  // a signed-out browser is back to 401
  const anon = c.browser();
  expectJsonError(t, await anon.get('/api/v1/logs'), 401, 'unauthorized');
});

t.test('CSV export: header, one row per entry, RFC 4180 quoting, formula guard, its own LOG_EXPORTED', async (t) => {
  const c = await setup(t);
  const tricky = [
    'plain text',
    'comma, and "double quotes", and ""two""',
    'line one\nline two\r\nline three\rline four',
    '"starts with a quote',
    'ends with a quote"',
    'trailing comma,',
    ' leading and trailing spaces ',
    'ünïcødé — 日本語 🚀',
    '',
  ];
  const formulas = ['=SUM(A1:A9)', '=HYPERLINK("http://evil.example","click, me")', '+1+2', '-2+3', '@SUM(1)', '\tTAB', '\rCR first'];
  const ids = new Map<number, string>();
  for (const log of [...tricky, ...formulas]) ids.set(c.app.repos.audit.append({ ts: Date.now(), type: 'Test', protocol: 'API', event: 'CSV', log, principal: 'csv-tester' }), log);
  // other columns are guarded too
  const guardedPrincipal = c.app.repos.audit.append({ ts: Date.now(), type: 'Test', protocol: 'API', event: 'CSV', log: 'principal is a formula', principal: '=cmd|/C calc!A0', target: '@evil', eventId: '-evt,1' });

  const before = maxId(c.app);
  const exportsBefore = exportedCount(c.app);
  const res = await c.get('/api/v1/logs/export.csv');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.headers['content-disposition'], /^attachment; filename="iamtrail-audit-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.csv"$/);
  t.equal(exportedCount(c.app), exportsBefore + 1, 'exactly one LOG_EXPORTED for the request');

  const records = parseCsv(res.body);
  t.strictSame(records[0], [...EXPORT_FIELDS], 'the header');
  const data = records.slice(1);
  const rows = auditRows(c.app);
  t.equal(data.length, rows.length, 'one row per entry');
  t.equal(rows.length, before + 1, 'the DB has the entries before the export plus the LOG_EXPORTED');
  for (const r of data) t.equal(r.length, EXPORT_FIELDS.length, `row ${r[0]}: ${EXPORT_FIELDS.length} fields`);
  t.strictSame(data.map((r) => Number(r[0])), rows.map((r) => r.id), 'oldest first, every id');

  const col = (name: (typeof EXPORT_FIELDS)[number]) => EXPORT_FIELDS.indexOf(name);
  const guard = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
  // every cell equals its DB value: null as empty, numbers as decimals, text with the formula guard
  for (const [i, row] of rows.entries()) {
    const want = expected(row);
    const got = data[i]!;
    const mismatches = EXPORT_FIELDS.filter((f) => got[col(f)] !== (want[f] === null ? '' : guard(String(want[f]))));
    t.strictSame(mismatches, [], `row ${row.id}: every cell matches the database`);
  }
  const byId = new Map(data.map((r) => [Number(r[0]), r]));
  for (const [id, log] of ids) {
    const cell = byId.get(id)![col('log')];
    if (formulas.includes(log)) t.equal(cell, `'${log}`, `formula ${JSON.stringify(log)} is prefixed with '`);
    else t.equal(cell, log, `${JSON.stringify(log)} round-trips exactly`);
  }
  const p = byId.get(guardedPrincipal)!;
  t.equal(p[col('principal')], "'=cmd|/C calc!A0", 'a formula principal is guarded');
  t.equal(p[col('target')], "'@evil", 'a formula target is guarded');
  t.equal(p[col('eventId')], "'-evt,1", 'a formula event id is guarded (and quoted for its comma)');
  t.ok(res.body.includes('"\'=HYPERLINK(""http://evil.example"",""click, me"")"'), 'the raw cell: quoted, quotes doubled, guard inside the quotes');

  // the export contains its own LOG_EXPORTED entry, as its last row: it is written before the stream starts
  const last = data[data.length - 1]!;
  t.equal(Number(last[0]), before + 1, 'the last row is the entry written by this export');
  t.equal(last[col('action')], 'LOG_EXPORTED');
  t.equal(last[col('principal')], READER, 'naming the token');
  t.equal(last[col('protocol')], 'API');
  t.equal(last[col('log')], `Exported the whole audit log as CSV\nBy token "${READER}" from 127.0.0.1`);
  t.equal(last[col('userAgent')], 'api-read-test/1.0');
});

t.test('NDJSON export: one JSON object per line, equal to the database rows, its own LOG_EXPORTED last', async (t) => {
  const c = await setup(t);
  c.app.repos.audit.append({ ts: Date.now(), type: 'User', protocol: 'API', event: 'Sign In', log: 'multi\nline "log", =not a formula in JSON', action: 'LOGIN', outcome: 'FAILURE', target: 'jdoe', eventId: 'e-1', country: 'DE', ticket: 'T-1', targetSystem: 'SAP', http: 401 });
  c.app.repos.audit.append({ ts: null, type: 'User', protocol: 'API', event: 'Unknown', log: 'no time' });
  const before = maxId(c.app);

  const res = await c.get('/api/v1/logs/export.ndjson');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.headers['content-disposition'], /^attachment; filename="iamtrail-audit-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.ndjson"$/);
  t.ok(res.body.endsWith('\n'), 'ends with a newline');
  const lines = res.body.slice(0, -1).split('\n');
  const rows = auditRows(c.app);
  t.equal(rows.length, before + 1, 'exactly one entry was added: the LOG_EXPORTED');
  t.equal(lines.length, rows.length, 'one line per entry');
  t.strictSame(lines.map((l) => JSON.parse(l)), rows.map(expected), 'each line equals its row (oldest first)');
  const last = JSON.parse(lines[lines.length - 1]!) as Json;
  t.match(last, { id: before + 1, action: 'LOG_EXPORTED', principal: READER, protocol: 'API', type: 'Export', event: 'Export Logs', outcome: 'SUCCESS', target: 'Audit log' });
  t.equal(last.log, `Exported the whole audit log as NDJSON\nBy token "${READER}" from 127.0.0.1`);

  // each request: exactly one more LOG_EXPORTED
  const n = exportedCount(c.app);
  await c.get('/api/v1/logs/export.ndjson');
  await c.get('/api/v1/logs/export.csv');
  t.equal(exportedCount(c.app), n + 2, 'two exports, two entries');

  // an unknown format writes nothing
  const m = maxId(c.app);
  expectJsonError(t, await c.get('/api/v1/logs/export.xml'), 400, 'bad_request');
  t.equal(maxId(c.app), m, 'an unknown format writes no entry');
});

t.test('HEAD on an export: nothing is exported, so nothing should be logged as exported', async (t) => {
  const c = await setup(t);
  const n = exportedCount(c.app);
  const res = await c.app.inject({ method: 'HEAD', url: '/api/v1/logs/export.csv', headers: { authorization: `Bearer ${c.read}` } });
  t.equal(res.body, '', 'no body');
  // the export route has no HEAD twin (Fastify would otherwise run the export handler for HEAD)
  t.not(res.statusCode, 200, 'HEAD is not an export');
  t.equal(exportedCount(c.app), n, 'a HEAD request writes no LOG_EXPORTED entry');
});
