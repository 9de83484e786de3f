// The console screens of the audit interpretation: a log entry's detail view (a page, and the
// fragment htmx loads inline under its Logs row), the Red Flags screen (list, one flag, acknowledge
// and resolve with a note) and the Rules screen (thresholds, enabled state, context). The entries
// come in through POST /api/v1/events, so the rules judge them as they would in production.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { interpret } from '../../src/audit/interpret.js';
import { createAuditRepository } from '../../src/db/audit-repository.js';
import { build, PATCH_SCHEMA, USER_SCHEMA } from '../helper.js';
import { RULES } from '../../src/audit/rules.js';
import { ADMIN, IAM, LOGS, auditSince, buildConsole, decodeHtml, lastAuditId, type Browser, type ConsoleBuilt } from '../console-helper.js';
import { BASE, MIN, linked, type FlagRow } from '../red-flags-helper.js';

const FLAGS = `${IAM}/red-flags`;
const RULES_URL = `${IAM}/rules`;

/** what Eta's <%= %> makes of a value */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const iso = (ms: number) => new Date(ms).toISOString();
/** the text of the page's flash message */
const flash = (html: string) => decodeHtml(/<div class="flash [^"]*" role="status">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? '');

interface Ctx {
  built: ConsoleBuilt;
  b: Browser;
  ingest(events: Record<string, unknown>[]): Promise<void>;
  /** the audit entry id of a sender event id */
  entryOf(eventId: string): number;
  /** the flags raised by ingested events, oldest first */
  flags(): FlagRow[];
}

/**
 * The administrator signs in at the real time of the test run, which may be outside the default
 * business hours (a LOGIN SUCCESS there raises login-unusual-hours). Unless a test needs the
 * defaults, business hours are made to cover the whole week first, so that the screens show only
 * the flags the test's events raise.
 */
async function setup(t: Test, opts: { defaultContext?: boolean } = {}): Promise<Ctx> {
  const built = await buildConsole(t);
  const { app } = built;
  if (!opts.defaultContext) {
    const context = app.repos.rules.context();
    app.repos.rules.saveContext({ ...context, businessHours: { ...context.businessHours, start: '00:00', end: '00:00', days: [0, 1, 2, 3, 4, 5, 6] } });
  }
  const token = app.settingsService.createToken({ name: 'collector', scope: 'ingest' }, { name: 'test', protocol: 'CLI' }).token;
  const ingest = async (events: Record<string, unknown>[]) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(events),
    });
    t.equal(res.statusCode, 200, `${events.length} events ingested`);
  };
  const entryOf = (eventId: string) => (app.database.sqlite.prepare('SELECT id FROM audit_log WHERE event_id = ?').get(eventId) as { id: number }).id;
  const flags = () =>
    app.database.sqlite.prepare("SELECT * FROM red_flags WHERE first_entry_id IN (SELECT id FROM audit_log WHERE protocol = 'API') ORDER BY id").all() as FlagRow[];
  return { built, b: await built.signedIn(), ingest, entryOf, flags };
}

const login = (id: string, at: number, user: string, outcome: 'SUCCESS' | 'FAILURE', ip = '198.51.100.10') => ({
  id,
  timestamp: iso(at),
  action: 'LOGIN',
  outcome,
  principal: user,
  targetUser: user,
  targetSystem: 'Okta',
  sourceIp: ip,
  country: 'FR',
});

/** jdoe: a sign-in 2 h before, five failures in four minutes, then a success; asmith signs in meanwhile. */
async function attack(ctx: Ctx): Promise<{ success: number; failures: number[]; earlier: number; other: number }> {
  await ctx.ingest([
    login('early', BASE - 120 * MIN, 'jdoe@example.com', 'SUCCESS'),
    ...[0, 1, 2, 3, 4].map((i) => login(`fail-${i}`, BASE + i * MIN, 'jdoe@example.com', 'FAILURE')),
    login('other', BASE + 2 * MIN, 'asmith@example.com', 'SUCCESS', '203.0.113.77'),
    login('success', BASE + 5 * MIN, 'jdoe@example.com', 'SUCCESS'),
  ]);
  return {
    success: ctx.entryOf('success'),
    failures: [0, 1, 2, 3, 4].map((i) => ctx.entryOf(`fail-${i}`)),
    earlier: ctx.entryOf('early'),
    other: ctx.entryOf('other'),
  };
}

/** the rows of the "Related entries" table: the entry ids they link to */
function relatedIds(html: string): number[] {
  const table = /<table class="data-table related">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  return [...table.matchAll(/href="\/it-settings\/iam\/logs\/(\d+)"/g)].map((m) => Number(m[1]));
}

t.test('log entry detail: every field, the interpretation, related entries and red flags; page and htmx fragment', async (t) => {
  const ctx = await setup(t);
  const { app } = ctx.built;
  const ids = await attack(ctx);
  const entry = app.repos.audit.byId(ids.success)!;
  const flags = ctx.flags();
  t.strictSame(flags.map((f) => f.rule).sort(), ['login-brute-force', 'login-success-after-failures'], 'the attack raised two flags');

  const page = await ctx.b.get(`${LOGS}/${ids.success}`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers.vary, /HX-Request/, 'Vary: HX-Request (one URL for the page and the fragment)');
  t.match(page.body, /<html/, 'a whole page without JavaScript');
  t.match(page.body, `<h1 class="section-title">Log entry #${ids.success} · ${esc(entry.event)}</h1>`, 'heading names the entry and its event');
  t.match(page.body, /<nav class="breadcrumb"[\s\S]*Logs/, 'the Logs breadcrumb');
  for (const [label, value] of [
    ['Entry', `#${ids.success}`],
    ['Exact instant (UTC)', iso(BASE + 5 * MIN)],
    ['Protocol', 'API'],
    ['Action code', 'LOGIN'],
    ['Outcome', 'SUCCESS'],
    ['Principal (who acted)', 'jdoe@example.com'],
    ['Source IP', '198.51.100.10'],
    ['Country', 'FR'],
    ['Target system', 'Okta'],
    ['Sender event id', 'success'],
  ] as const) {
    t.match(page.body, `<dt>${esc(label)}</dt><dd>${esc(value)}</dd>`, `field ${label}: ${value}`);
  }
  const meaning = interpret(entry);
  t.match(page.body, esc(meaning.meaning), 'what this means');
  t.match(page.body, esc(meaning.action), 'what to do');
  const ofEntry = flags.filter((f) => linked(app, f.id).includes(ids.success));
  t.ok(ofEntry.some((f) => f.rule === 'login-success-after-failures'), 'the success belongs to the success-after-failures flag');
  for (const f of flags) {
    const shown = page.body.includes(`<a href="${FLAGS}/${f.id}">${esc(f.title)}</a>`);
    t.equal(shown, ofEntry.includes(f), `red flag "${f.rule}" ${ofEntry.includes(f) ? 'listed and linked' : 'not listed (the entry is not part of it)'}`);
  }
  t.strictSame(relatedIds(page.body).sort((a, b) => a - b), ids.failures, "related: jdoe's five failures of the hour, not asmith's sign-in nor jdoe's 2 h before");

  const frag = await ctx.b.get(`${LOGS}/${ids.success}`, { 'hx-request': 'true' });
  t.equal(frag.statusCode, 200);
  t.notMatch(frag.body, /<html|<nav/, 'the fragment has no layout');
  t.match(frag.body.trimStart(), new RegExp(`^<tr class="entry-detail" id="detail-${ids.success}"><td colspan="6">`), 'a table row that htmx puts under the Logs row');
  t.match(frag.body, `<a href="${LOGS}/${ids.success}">Open as a page</a>`, 'with a link to the page');
  t.match(frag.body, esc(meaning.meaning), 'and the same content');

  // an entry without flags or related entries says so
  const lone = await ctx.b.get(`${LOGS}/${ids.other}`);
  t.notMatch(lone.body, /<h3>Red flags<\/h3>/, 'no red flags section for an unflagged entry');
  t.match(lone.body, /<h3>Related entries[\s\S]*?<p class="muted">None\.<\/p>/, 'no related entries: "None."');

  // the Logs table: flagged rows carry a marker and every date opens the detail inline
  const logs = await ctx.b.get(LOGS);
  const row = (id: number) => new RegExp(`<tr id="log-${id}"[^>]*>[\\s\\S]*?</tr>`).exec(logs.body)?.[0] ?? '';
  const order = ['low', 'medium', 'high', 'critical'];
  const top = ofEntry.map((f) => f.severity).sort((a, b) => order.indexOf(b) - order.indexOf(a))[0]!;
  t.match(row(ids.success), `class="flagged flagged-${top}"`, `the flagged row is marked with its highest severity (${top})`);
  t.match(row(ids.success), new RegExp(`<span class="flag-marker flag-${top}"[^>]*>⚑</span>`), 'with the flag marker');
  t.match(row(ids.success), new RegExp(`hx-get="${LOGS}/${ids.success}" hx-target="closest tr" hx-swap="afterend"`), 'the date loads the detail under the row');
  t.notMatch(row(ids.other), /flagged|flag-marker/, 'an unflagged row has no marker');
});

t.test('log entry detail: related entries follow a SCIM user across a rename (same resource id) and the token', async (t) => {
  const ctx = await setup(t);
  const { app, scim } = ctx.built;
  const created = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'old.name@example.com' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;
  const renamed = await scim({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: 'new.name@example.com' }] } });
  t.equal(renamed.statusCode, 200);
  t.equal((await scim({ method: 'GET', url: `/Users/${id}` })).statusCode, 200);
  const rows = app.database.sqlite.prepare('SELECT id, event, subject FROM audit_log WHERE resource_id = ? ORDER BY id').all(id) as { id: number; event: string; subject: string }[];
  t.strictSame(rows.map((r) => r.event), ['Create User', 'Update User', 'Get User']);
  t.equal(rows[0]!.subject, 'old.name@example.com', 'the create is about the old name');
  const page = await ctx.b.get(`${LOGS}/${rows[2]!.id}`);
  const related = relatedIds(page.body);
  t.ok(related.includes(rows[0]!.id), 'the GET after the rename relates the create under the old name (same resource id)');
  t.ok(related.includes(rows[1]!.id), 'and the rename');
  const names = () => app.database.sqlite.prepare('SELECT subject FROM audit_resource_subjects WHERE resource_id = ? ORDER BY subject').pluck().all(id);
  t.strictSame(names(), ['new.name@example.com', 'old.name@example.com'], 'both names of the user are kept for its id');
  const patched = await scim({ method: 'PATCH', url: `/Users/${id}`, payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: 'New' }] } });
  t.equal(patched.statusCode, 200);
  t.strictSame(names(), ['new.name@example.com', 'old.name@example.com'], 'a change that keeps the name adds none');
  // an entry of the resource without a subject is related by its id
  const audit = app.repos.audit;
  const bare = audit.append({ ts: Date.now(), type: 'User', protocol: 'SCIM', event: 'Get User', log: 'x', resourceId: id });
  t.equal(audit.byId(bare)!.subject, null);
  t.ok(audit.related(audit.byId(rows[0]!.id)!, 60 * MIN, 20).some((e) => e.id === bare), 'an entry of the same id without a subject is related');
  // the same name, later given to another resource, does not make that resource's entries related
  const other = audit.append({ ts: Date.now(), type: 'User', protocol: 'SCIM', event: 'Get User', log: 'x', resourceId: 'another-id', target: 'old.name@example.com' });
  t.notOk(audit.related(audit.byId(rows[2]!.id)!, 60 * MIN, 20).some((e) => e.id === other), "another resource's entry under the old name is not");
});

t.test('migration 0019: the names of the resources of the entries already in the log are kept', async (t) => {
  const { app } = await build(t, {}, { scim: false });
  const db = app.database.sqlite;
  // the state before 0019
  db.exec(`DROP TRIGGER audit_log_resource_subject; DROP TABLE audit_resource_subjects; DROP INDEX audit_log_resource_unnamed;
    CREATE INDEX audit_log_resource ON audit_log (resource_id) WHERE resource_id IS NOT NULL;`);
  const audit = app.repos.audit;
  const at = Date.UTC(2026, 0, 15, 12);
  const base = { type: 'User', protocol: 'SCIM', event: 'Update User', log: 'x' };
  const before = audit.append({ ...base, ts: at, resourceId: 'u1', target: 'Old.Name' });
  audit.append({ ...base, ts: at + MIN, resourceId: 'u1', target: 'old.name' });
  const after = audit.append({ ...base, ts: at + 2 * MIN, resourceId: 'u1', target: 'new.name' });
  audit.append({ ...base, ts: at, resourceId: 'u2', target: 'kim' });
  audit.append({ ...base, ts: at, resourceId: null, target: 'lee' });
  db.exec(readFileSync(fileURLToPath(new URL('../../db/migrations/0019_resource_subjects.sql', import.meta.url)), 'utf8'));
  t.strictSame(
    db.prepare('SELECT resource_id AS r, subject AS s FROM audit_resource_subjects ORDER BY r, s').all(),
    [{ r: 'u1', s: 'new.name' }, { r: 'u1', s: 'old.name' }, { r: 'u2', s: 'kim' }],
    'one row per resource and subject (folded)',
  );
  t.ok(createAuditRepository(db).related(audit.byId(after)!, 60 * MIN, 20).some((e) => e.id === before), 'an entry under the old name is related again');
});

t.test('log entry detail: related entries across midnight (UTC), found through the index', async (t) => {
  const ctx = await setup(t);
  const { app } = ctx.built;
  const midnight = Date.UTC(2026, 0, 15);
  await ctx.ingest([
    login('before', midnight - 40 * MIN, 'kim@example.com', 'FAILURE'),
    login('last-ms', midnight - 1, 'kim@example.com', 'FAILURE'),
    login('after', midnight + 20 * MIN, 'kim@example.com', 'SUCCESS'),
    login('too-early', midnight - 61 * MIN, 'kim@example.com', 'FAILURE'),
    login('someone-else', midnight - 10 * MIN, 'lee@example.com', 'FAILURE'),
  ]);
  const page = await ctx.b.get(`${LOGS}/${ctx.entryOf('after')}`);
  t.strictSame(relatedIds(page.body), [ctx.entryOf('last-ms'), ctx.entryOf('before')], 'the hour before, across midnight, newest first');
  // each branch of the OR seeks an index: none scans the log (the repository's own statement,
  // captured by a stand-in for the connection)
  const sqlite = app.database.sqlite;
  const prepared: string[] = [];
  createAuditRepository(new Proxy(sqlite, { get: (target, key) => (key === 'prepare' ? (sql: string) => (prepared.push(sql), target.prepare(sql)) : Reflect.get(target, key, target)) }));
  const relatedSql = prepared.find((sql) => sql.includes('@resourceId'))!;
  const params = { id: 1, from: 1, to: 2, firstDay: 0, lastDay: 0, subject: 'a', resourceId: 'r', principal: 'p', principalSubject: 'p', limit: 20 };
  const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${relatedSql}`).all(params) as { detail: string }[]).map((r) => r.detail).join(' | ');
  t.notMatch(plan, /SCAN audit_log\b/, `no scan: ${plan}`);
  t.match(plan, /INDEX audit_log_day_subject_action_ts \(<expr>=\? AND subject=\?\)/, 'the subject branches seek (day, subject)');
  t.match(plan, /INDEX audit_log_resource_unnamed \(resource_id=\?\)/, 'the resource branch without a subject seeks its index');
  t.match(plan, /audit_resource_subjects USING PRIMARY KEY \(resource_id=\?\)/, 'the names of the resource are read by its key');
  // and the window's part of it: not every entry the actor ever made (a SCIM token's millions)
  t.match(plan, /INDEX audit_log_principal_ts \(principal=\? AND ts>\? AND ts<\?\)/, 'the principal branch seeks (principal, time)');
});

t.test('related entries: an actor whose name has a non-ASCII capital finds the entries about itself', async (t) => {
  const { app } = await build(t, {}, { scim: false });
  const audit = app.repos.audit;
  const at = Date.UTC(2026, 0, 15, 12);
  const base = { type: 'Session', protocol: 'API', event: 'x', log: 'x' };
  // Élodie resets someone else's password, then signs in (an entry about herself: subject "élodie")
  const reset = audit.append({ ...base, ts: at, action: 'USER_RESET_PASSWORD_ON_BEHALF', principal: 'Élodie', target: 'kim' });
  const own = audit.append({ ...base, ts: at + MIN, action: 'LOGIN', principal: 'ÉLODIE' });
  audit.append({ ...base, ts: at + MIN, action: 'LOGIN', principal: 'elodie' });
  t.equal(audit.byId(own)!.subject, 'élodie', 'the subject is stored folded');
  t.same(audit.related(audit.byId(reset)!, 60 * MIN, 20).map((e) => e.id), [own], 'found through the subject of the folded principal');
});

t.test('log entry detail: unknown and invalid ids are readable error pages; hostile values are escaped', async (t) => {
  const ctx = await setup(t);
  const missing = await ctx.b.get(`${LOGS}/999999`);
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^text\/html/);
  t.match(missing.body, /There is no log entry #999999\./);
  for (const bad of ['abc', '0', '-1', '1.5']) {
    const res = await ctx.b.get(`${LOGS}/${bad}`);
    t.equal(res.statusCode, 400, `${bad}: 400`);
    t.match(res.headers['content-type'], /^text\/html/, `${bad}: an HTML page`);
    t.notMatch(res.body, /Internal Server Error/, `${bad}: not a crash`);
  }

  const hostile = '<img src=x onerror=alert(1)>';
  await ctx.ingest([{ ...login('xss', BASE, `${hostile}@example.com`, 'SUCCESS'), userAgent: '<script>alert(2)</script>', detail: { note: '</pre><script>alert(3)</script>' } }]);
  const page = await ctx.b.get(`${LOGS}/${ctx.entryOf('xss')}`);
  t.equal(page.statusCode, 200);
  t.notMatch(page.body, /<img src=x|<script>alert/, 'no markup from the event reaches the page');
  t.match(page.body, esc(`${hostile}@example.com`), 'the values are shown as text');
  t.match(page.body, esc('<script>alert(2)</script>'));
});

t.test('Red Flags: open flags newest first with explanation, action and entries; the status tabs', async (t) => {
  const ctx = await setup(t);
  const ids = await attack(ctx);
  const flags = ctx.flags();
  const page = await ctx.b.get(FLAGS);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<h1 class="section-title">Red Flags<\/h1>/);
  t.match(page.body, /<nav class="breadcrumb"[\s\S]*?Red Flags/, 'breadcrumb IT Settings › IAM Settings › Red Flags');
  t.match(page.body, /aria-label="Previous: Logs"/, 'the chevron before it leads to the Logs');
  t.match(page.body, /aria-label="Next: Rules"/, 'the one after it to the Rules');
  t.match(page.body, /<a class="tab selected" role="tab" aria-selected="true" href="\/it-settings\/iam\/red-flags\?status=open">Open \(2\)<\/a>/, 'Open (2) selected');
  const cards = [...page.body.matchAll(/<article class="panel flag-card sev-border-(\w+)" id="flag-(\d+)">([\s\S]*?)<\/article>/g)];
  t.strictSame(cards.map((c) => Number(c[2])), flags.map((f) => f.id).reverse(), 'newest first');
  for (const [, severity, id, body] of cards) {
    const f = flags.find((x) => x.id === Number(id))!;
    const rule = RULES.find((r) => r.id === f.rule)!;
    t.equal(severity, f.severity, `#${id}: severity ${f.severity}`);
    t.match(body, `<span class="badge sev-${f.severity}">${f.severity}</span> <a href="${FLAGS}/${f.id}">${esc(f.title)}</a>`, `#${id}: title links to the flag`);
    t.match(body, esc(rule.name), `#${id}: the rule's name`);
    t.match(body, `<p>${esc(f.explanation)}</p>`, `#${id}: the explanation`);
    t.match(body, `<strong>What to do:</strong> ${esc(rule.action)}`, `#${id}: what to do`);
    const links = [...(body!.match(/Entries: (.*)<\/p>/)?.[1] ?? '').matchAll(/href="\/it-settings\/iam\/logs\/(\d+)"/g)].map((m) => Number(m[1]));
    t.ok(links.length > 0 && links.every((e) => linked(ctx.built.app, f.id).includes(e)), `#${id}: links to its entries`);
    t.match(body, /<button type="submit" name="decision" value="acknowledged">Acknowledge<\/button>/, `#${id}: can be acknowledged`);
  }
  t.ok(flags.some((f) => f.last_entry_id === ids.success), 'the success after the failures is a flag entry');

  const acknowledged = await ctx.b.get(`${FLAGS}?status=acknowledged`);
  t.match(acknowledged.body, /No red flags here\./, 'no acknowledged flags yet');
  const bad = await ctx.b.get(`${FLAGS}?status=nonsense`);
  t.equal(bad.statusCode, 400, 'an unknown status is a 400 page');
  t.notMatch(bad.body, /Internal Server Error/);
  t.equal((await ctx.b.get(`${FLAGS}/999999`)).statusCode, 404, 'an unknown flag is a 404 page');

  // one flag's page: every entry it links, as Logs rows
  const f = flags.find((x) => x.rule === 'login-brute-force')!;
  const one = await ctx.b.get(`${FLAGS}/${f.id}`);
  t.equal(one.statusCode, 200);
  t.match(one.body, new RegExp(`<h1 class="section-title">Red flag #${f.id}</h1>`));
  const rows = [...one.body.matchAll(/<td class="col-date"><a href="\/it-settings\/iam\/logs\/(\d+)">/g)].map((m) => Number(m[1]));
  t.strictSame(rows.sort((a, b) => a - b), ids.failures, 'the brute-force flag shows the five failures');
});

t.test('Red Flags: acknowledge and resolve with a note, each an audit entry; a note is required', async (t) => {
  const ctx = await setup(t);
  const { app } = ctx.built;
  await attack(ctx);
  const f = ctx.flags().find((x) => x.rule === 'login-brute-force')!;
  const flagUrl = `${FLAGS}/${f.id}`;
  let mark = lastAuditId(app);

  // no note: refused with the reason, nothing changes
  const empty = await ctx.b.submit(flagUrl, flagUrl, { decision: 'acknowledged', note: '   ' });
  t.equal(empty.statusCode, 303);
  t.equal(empty.headers.location, flagUrl, 'back to the flag');
  const shown = await ctx.b.follow(empty);
  t.match(shown.res.body, /a note is required/, 'says that a note is required');
  t.equal(ctx.flags().find((x) => x.id === f.id)!.status, 'open', 'still open');
  t.strictSame(auditSince(app, mark).filter((e) => String(e.action).startsWith('FLAG_')), [], 'no entry');

  // acknowledge
  const note = 'Called jdoe <at desk>: she mistyped her new password';
  const ack = await ctx.b.submit(FLAGS, flagUrl, { decision: 'acknowledged', note });
  t.equal(ack.statusCode, 303);
  t.equal(ack.headers.location, FLAGS);
  const list = await ctx.b.follow(ack);
  t.match(list.res.body, `Red flag #${f.id} acknowledged.`, 'a confirmation');
  t.notMatch(list.res.body, new RegExp(`id="flag-${f.id}"`), 'it left the open list');
  t.match(list.res.body, /Open \(1\)/);
  let row = ctx.flags().find((x) => x.id === f.id)!;
  t.equal(row.status, 'acknowledged');
  t.equal(row.closed_by, ADMIN.username);
  t.equal(row.note, note);
  let entries = auditSince(app, mark).filter((e) => String(e.action).startsWith('FLAG_'));
  t.equal(entries.length, 1, 'one audit entry');
  t.match(entries[0], { action: 'FLAG_ACKNOWLEDGED', event: 'Acknowledge Red Flag', principal: ADMIN.username, protocol: 'WEB', resource_id: `flag:${f.id}` });
  t.match(String(entries[0]!.log), `Acknowledged red flag #${f.id} "${f.title}" (login-brute-force)\nNote: ${note}`);
  const tab = await ctx.b.get(`${FLAGS}?status=acknowledged`);
  t.match(tab.body, new RegExp(`id="flag-${f.id}"`), 'listed under Acknowledged');
  t.match(tab.body, `Note: ${esc(note)}`, 'with its note, escaped');
  t.match(tab.body, `by ${ADMIN.username}`, 'and who acknowledged it');
  t.notMatch(/<article[^>]*id="flag-\d+">[\s\S]*?<\/article>/.exec(tab.body)?.[0] ?? '', /value="acknowledged"/, 'an acknowledged flag can only be resolved');

  // acknowledging twice is refused
  mark = lastAuditId(app);
  const again = await ctx.b.submit(flagUrl, flagUrl, { decision: 'acknowledged', note: 'again' });
  t.match((await ctx.b.follow(again)).res.body, /already acknowledged/);
  t.strictSame(auditSince(app, mark).filter((e) => String(e.action).startsWith('FLAG_')), [], 'no entry');

  // resolve (a note is stored without NUL and other control characters; line breaks stay)
  const res = await ctx.b.submit(flagUrl, flagUrl, { decision: 'resolved', note: 'Password reset,\u0000 MFA\u001b re-enrolled\r\nTicket 42' });
  t.equal(res.statusCode, 303);
  row = ctx.flags().find((x) => x.id === f.id)!;
  t.equal(row.status, 'resolved');
  t.equal(row.note, 'Password reset, MFA re-enrolled\nTicket 42');
  t.notMatch((await ctx.b.get(flagUrl)).body, /[\u0000\u001b]/, 'no control character reaches the page');
  entries = auditSince(app, mark).filter((e) => String(e.action).startsWith('FLAG_'));
  t.match(entries, [{ action: 'FLAG_RESOLVED', event: 'Resolve Red Flag' }], 'resolving is an audit entry too');
  const resolved = await ctx.b.get(flagUrl);
  t.notMatch(resolved.body, /name="decision"/, 'a resolved flag has no form');
  const twice = await ctx.b.post(flagUrl, { decision: 'resolved', note: 'x' });
  t.match((await ctx.b.follow(twice)).res.body, /already resolved/);

  // a decision that is neither is a readable 400
  const odd = await ctx.b.submit(FLAGS, `${FLAGS}/${ctx.flags()[1]!.id}`, { decision: 'deleted', note: 'x' });
  t.equal(odd.statusCode, 400);
  t.notMatch(odd.body, /Internal Server Error/);
  t.equal(ctx.flags()[1]!.status, 'open', 'the other flag is untouched');
});

t.test('Red Flags: keyset pages of 50 with an "Older red flags" link', async (t) => {
  const ctx = await setup(t);
  // 51 accounts with five failures each: 51 brute-force flags
  const events = [];
  for (let u = 0; u < 51; u++) for (let i = 0; i < 5; i++) events.push(login(`u${u}-${i}`, BASE + i * MIN, `user${u}@example.com`, 'FAILURE'));
  await ctx.ingest(events);
  const all = ctx.flags().map((f) => f.id);
  t.equal(all.length, 51);
  const first = await ctx.b.get(FLAGS);
  const ids = (html: string) => [...html.matchAll(/<article class="panel flag-card[^"]*" id="flag-(\d+)">/g)].map((m) => Number(m[1]));
  t.strictSame(ids(first.body), all.slice(1).reverse(), 'the 50 newest');
  const next = /<a href="([^"]+)">Older red flags<\/a>/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
  t.equal(next, `${FLAGS}?status=open&before=${all[1]}`, 'the link asks for the flags before the last one shown');
  const second = await ctx.b.get(next!);
  t.strictSame(ids(second.body), [all[0]], 'then the oldest');
  t.notMatch(second.body, /Older red flags/, 'and no further link');
});

/** the Rules form as the browser would send it, from the page's current values, with changes */
function rulesForm(html: string, change: Record<string, string | null> = {}): [string, string][] {
  const fields: [string, string][] = [];
  for (const m of html.matchAll(/<input ([^>]*)>/g)) {
    const attrs = m[1]!;
    const name = /name="([^"]+)"/.exec(attrs)?.[1];
    if (!name || name === '_csrf') continue;
    const value = /value="([^"]*)"/.exec(attrs)?.[1] ?? 'on';
    if (/type="checkbox"/.test(attrs) && !/ checked/.test(attrs)) continue;
    fields.push([name, value]);
  }
  for (const m of html.matchAll(/<textarea name="([^"]+)"[^>]*>([^<]*)<\/textarea>/g)) fields.push([m[1]!, m[2]!]);
  const out: [string, string][] = fields.filter(([k]) => !(k in change)).map(([k, v]) => [k, decodeHtml(v)]);
  for (const [k, v] of Object.entries(change)) if (v !== null) out.push([k, v]);
  return out;
}

t.test('Rules: every rule with its thresholds and state; rules that lack context say so', async (t) => {
  const ctx = await setup(t, { defaultContext: true });
  const page = await ctx.b.get(RULES_URL);
  t.equal(page.statusCode, 200);
  t.match(page.body, /<h1 class="section-title">Rules<\/h1>/);
  t.match(page.body, /aria-label="Previous: Red Flags"/, 'after Red Flags in the chevron order');
  for (const rule of RULES) {
    const row = new RegExp(`<tr id="rule-${rule.id}">([\\s\\S]*?)</tr>`).exec(page.body)?.[1] ?? '';
    t.match(row, esc(rule.name), `${rule.id}: listed`);
    t.match(row, `name="enabled.${rule.id}" aria-label="Enable ${esc(rule.name)}" checked`, `${rule.id}: enabled by default`);
    for (const [name, th] of Object.entries(rule.thresholds)) {
      t.match(row, `name="t.${rule.id}.${name}" value="${th.default}"`, `${rule.id}: ${name} = ${th.default}`);
    }
  }
  const lacking = /<tr id="rule-link-orphan-by-system-account">[\s\S]*?<\/tr>/.exec(page.body)?.[0] ?? '';
  t.match(lacking, /⚠ Needs context: No service accounts are listed on the Rules screen\./, 'a rule without its context says what it needs');
  const bulk = /<tr id="rule-bulk-reset-outside-maintenance">[\s\S]*?<\/tr>/.exec(page.body)?.[0] ?? '';
  t.match(bulk, /⚠ Needs context: No maintenance windows are set on the Rules screen\./, 'so does the bulk-reset rule without a window');
  const deprov = /<tr id="rule-deprovisioning-without-termination">[\s\S]*?<\/tr>/.exec(page.body)?.[0] ?? '';
  t.match(deprov, /⚠ Needs context: No terminated users are listed on the Rules screen\./, 'and the de-provisioning rule without a terminated list');
});

t.test('Rules: saving thresholds, the enabled state and context is one audit entry, and takes effect', async (t) => {
  const ctx = await setup(t, { defaultContext: true });
  const { app } = ctx.built;
  const page = await ctx.b.get(RULES_URL);
  let mark = lastAuditId(app);
  const res = await ctx.b.post(
    RULES_URL,
    rulesForm(page.body, {
      't.login-brute-force.failures': '3',
      'enabled.login-unusual-hours': null,
      serviceAccounts: 'svc-backup\nsvc-idm',
      onLeave: 'Leave@Example.com',
      expected: 'jdoe@example.com: SAP, Workday',
    }),
  );
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, RULES_URL);
  const after = await ctx.b.follow(res);
  t.equal(flash(after.res.body), 'Rules saved (5 changes).', 'the confirmation counts the changes');
  t.match(after.res.body, 'name="t.login-brute-force.failures" value="3"', 'the new threshold is shown');
  t.match(after.res.body, /name="enabled.login-unusual-hours" aria-label="[^"]*">/, 'unusual hours is off');
  t.match(after.res.body, /<textarea name="serviceAccounts">svc-backup\nsvc-idm<\/textarea>/, 'the service accounts are kept');
  t.notMatch(/<tr id="rule-link-orphan-by-system-account">[\s\S]*?<\/tr>/.exec(after.res.body)?.[0] ?? '', /Needs context/, 'the rule has its context now');
  const entries = auditSince(app, mark);
  t.equal(entries.length, 1, 'one audit entry');
  t.match(entries[0], { action: 'RULES_CHANGED', event: 'Change Red-Flag Rules', principal: ADMIN.username, protocol: 'WEB' });
  t.match(String(entries[0]!.log), /login-brute-force failures 5 → 3/);
  t.match(String(entries[0]!.log), /login-unusual-hours disabled/);
  t.match(String(entries[0]!.log), /context serviceAccounts updated/);

  // in effect at once: three failures raise the flag, a night sign-in raises nothing
  await ctx.ingest([0, 1, 2].map((i) => login(`f${i}`, BASE + i * MIN, 'kim@example.com', 'FAILURE')));
  t.strictSame(ctx.flags().map((f) => f.rule), ['login-brute-force'], 'three failures are enough now');
  await ctx.ingest([login('night', Date.UTC(2026, 0, 17, 3, 0), 'kim@example.com', 'SUCCESS')]);
  t.notOk(ctx.flags().some((f) => f.rule === 'login-unusual-hours'), 'the disabled rule raised nothing');

  // the same form again changes nothing and writes nothing
  mark = lastAuditId(app);
  const same = await ctx.b.post(RULES_URL, rulesForm((await ctx.b.get(RULES_URL)).body));
  t.match((await ctx.b.follow(same)).res.body, /Nothing changed\./);
  t.strictSame(auditSince(app, mark), [], 'no entry for a save that changes nothing');
});

t.test('Rules: invalid input is refused with the reason and saves nothing', async (t) => {
  const ctx = await setup(t);
  const { app } = ctx.built;
  const cases: [string, Record<string, string | null>, RegExp][] = [
    ['a threshold of 0', { 't.login-brute-force.failures': '0' }, /Repeated failed sign-ins for one account: failures must be a whole number from 1 to 1,000 \(got "0"\)/],
    ['a threshold that is not a number', { 't.login-brute-force.windowMinutes': 'ten' }, /window \(minutes\) must be a whole number from 1 to 10,080 \(got "ten"\)/],
    ['a fractional threshold', { 't.login-brute-force.failures': '2.5' }, /failures must be a whole number from 1 to 1,000 \(got "2\.5"\)/],
    // window counts stop at 1,000, so a larger count could never be reached
    ['a count past the cap', { 't.login-brute-force.failures': '1001' }, /failures must be a whole number from 1 to 1,000 \(got "1001"\)/],
    ['a window longer than 30 days', { 't.repeated-password-changes.windowHours': '721' }, /window \(hours\) must be a whole number from 1 to 720 \(got "721"\)/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus_Mons' }, /the time zone "Mars\/Olympus_Mons" is not a known IANA time zone/],
    ['a time that is not HH:MM', { start: '25:00' }, /business hours need times as HH:MM/],
    ['a maintenance window without a zone', { windows: '2026-01-10T22:00 2026-01-11T02:00 patching' }, /maintenance windows need a start before the end/],
    ['an expected-systems line without a colon', { expected: 'jdoe@example.com SAP' }, /expected systems: "jdoe@example\.com SAP" is not "user: system, system"/],
  ];
  const page = await ctx.b.get(RULES_URL);
  for (const [what, change, message] of cases) {
    const before = app.database.sqlite.prepare("SELECT key, value FROM settings WHERE key LIKE 'rules_%' ORDER BY key").all();
    const mark = lastAuditId(app);
    const typed = rulesForm(page.body, { ...change, serviceAccounts: 'svc-typed-meanwhile' });
    const res = await ctx.b.post(RULES_URL, typed);
    t.equal(res.statusCode, 400, `${what}: 400, the form again`);
    const shown = res.body;
    t.match(shown, /<h1 class="section-title">Rules<\/h1>/, `${what}: the Rules page`);
    t.match(flash(shown), /^Nothing saved: /, `${what}: nothing saved`);
    t.match(flash(shown), message, `${what}: says why`);
    const sorted = (pairs: [string, string][]) => pairs.map((p) => p.join('=')).sort();
    t.strictSame(sorted(rulesForm(shown)), sorted(typed), `${what}: every value as it was typed, the wrong one included`);
    t.strictSame(app.database.sqlite.prepare("SELECT key, value FROM settings WHERE key LIKE 'rules_%' ORDER BY key").all(), before, `${what}: settings unchanged`);
    t.strictSame(auditSince(app, mark), [], `${what}: no entry`);
  }
});
