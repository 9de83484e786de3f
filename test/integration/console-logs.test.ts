// IT Settings › IAM Settings › Logs: the date format in the configured zone, entries without a
// timestamp, HTML escaping, keyset paging (htmx fragments and the no-JavaScript fallback) while new
// entries keep arriving, the empty state, the read-only content area, the breadcrumb, Vary and
// invalid cursors.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { IAM_SECTIONS, breadcrumbFor } from '../../src/routes/console/nav.js';
import { USER_SCHEMA } from '../helper.js';
import { ADMIN, Browser, LOGS, buildConsole, forgeSession, type Res } from '../console-helper.js';

const DATE_FORMAT = /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}\.\d{3}$/;

/** Appends an entry straight into the trail (INSERT is what the application does too). */
function insertEntry(app: FastifyInstance, ts: number | null, log = 'inserted by the test'): number {
  const info = app.database.sqlite
    .prepare("INSERT INTO audit_log (ts, type, protocol, event, http, log) VALUES (?, 'Test', 'API', 'Test Event', 200, ?)")
    .run(ts, log);
  return Number(info.lastInsertRowid);
}

function allIds(app: FastifyInstance): number[] {
  return (app.database.sqlite.prepare('SELECT id FROM audit_log ORDER BY id DESC').all() as { id: number }[]).map((r) => r.id);
}

/** ids of the log rows in an HTML page or fragment, in order */
function rowIds(html: string): number[] {
  return [...html.matchAll(/<tr id="log-(\d+)"/g)].map((m) => Number(m[1]));
}

/** the <tr> of one entry */
function row(html: string, id: number): string {
  return new RegExp(`<tr id="log-${id}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
}

/** the text of one cell of a row (tags removed) */
function cellText(rowHtml: string, cls: string): string | undefined {
  const inner = new RegExp(`<td class="${cls}">([\\s\\S]*?)</td>`).exec(rowHtml)?.[1];
  return inner?.replace(/<[^>]*>/g, '').trim();
}

/** the URL of the "load more" row (htmx) of a page or fragment */
function moreUrl(html: string): string | undefined {
  return /<tr class="log-more" hx-get="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** what is inside <main class="content"> (the page content, without the menu) */
function contentArea(html: string): string | undefined {
  return /<main class="content">([\s\S]*)<\/main>/.exec(html)?.[1];
}

/** A signed-in administrator on an app whose audit trail is still empty. */
async function emptyTrail(t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance; b: Browser }> {
  // build() with { scim: false } writes no entry; the account is inserted directly (no
  // ACCOUNT_CREATED) and the session written into the session store (no LOGIN entry)
  const { app } = await buildConsole(t, env, { scim: false, admin: false });
  const account = app.repos.accounts.insert(ADMIN.username, 'never-used-for-sign-in', Date.now());
  app.repos.accounts.grantRole(account.id, app.repos.accounts.roleByName('Administrator')!.id);
  const b = new Browser(app);
  b.jar.set('iamtrail.sid', forgeSession(app, { kind: 'local', id: String(account.id), username: ADMIN.username }));
  t.equal(allIds(app).length, 0, 'the audit trail is empty');
  return { app, b };
}

t.test('dates: MM/DD/YYYY, HH:MM:SS.mmm in TZ, the zone named in the header, the UTC instant in <time>', async (t) => {
  const { app, signedIn } = await buildConsole(t, { TZ: 'Europe/Paris' });
  const winter = insertEntry(app, Date.UTC(2025, 0, 15, 13, 32, 7, 842));
  const summer = insertEntry(app, Date.UTC(2025, 6, 1, 10, 0, 0, 5));
  const midnight = insertEntry(app, Date.UTC(2025, 0, 14, 23, 0, 0, 0));
  const epoch = insertEntry(app, 0);
  const b = await signedIn();
  const res = await b.get(LOGS);
  t.equal(res.statusCode, 200);
  t.match(res.body, /<th[^>]*class="col-date"[^>]*title="[^"]*Europe\/Paris[^"]*"[^>]*>Date<\/th>/, 'the Date header names the zone');

  const cases: [number, string, string][] = [
    [winter, '01/15/2025, 14:32:07.842', '2025-01-15T13:32:07.842Z'],
    [summer, '07/01/2025, 12:00:00.005', '2025-07-01T10:00:00.005Z'],
    [midnight, '01/15/2025, 00:00:00.000', '2025-01-14T23:00:00.000Z'],
    [epoch, '01/01/1970, 01:00:00.000', '1970-01-01T00:00:00.000Z'],
  ];
  for (const [id, text, iso] of cases) {
    const r = row(res.body, id);
    t.equal(cellText(r, 'col-date'), text, `${iso} in Paris`);
    t.match(r, `<time datetime="${iso}">${text}</time>`, 'the <time> element carries the UTC instant');
  }
  // every date cell of the page has the format
  for (const id of rowIds(res.body)) t.match(cellText(row(res.body, id), 'col-date'), DATE_FORMAT, `entry ${id}: format`);
});

t.test('an entry without a timestamp shows "-"', async (t) => {
  const { app, signedIn } = await buildConsole(t);
  const id = insertEntry(app, null, 'no time given by the source');
  const b = await signedIn();
  const res = await b.get(LOGS);
  const r = row(res.body, id);
  t.ok(r, 'the entry is listed');
  t.equal(cellText(r, 'col-date'), '-');
  t.notMatch(r, /<time/, 'no <time> element');
  t.equal(cellText(r, 'col-log'), 'no time given by the source');
});

t.test('log text is escaped', async (t) => {
  const { scim, signedIn } = await buildConsole(t);
  const evil = '<img src=x onerror=alert(1)>';
  const created = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: evil, displayName: '<script>alert("x")</script>' } });
  t.equal(created.statusCode, 201);
  const b = await signedIn();
  const res = await b.get(LOGS);
  t.match(res.body, '&lt;img src=x onerror=alert(1)&gt;', 'escaped');
  t.notMatch(res.body, evil, 'the raw tag is not in the page');
  t.notMatch(res.body, /<script>alert/, 'no raw script tag');
  t.notMatch(res.body, /<img /);
  const frag = await b.get(`${LOGS}?before=${Number.MAX_SAFE_INTEGER}`, { 'hx-request': 'true' });
  t.match(frag.body, '&lt;img src=x onerror=alert(1)&gt;', 'escaped in the fragment too');
  t.notMatch(frag.body, evil);
});

t.test('keyset paging: 50 rows, htmx fragments, new entries do not shift pages', async (t) => {
  const { app, b } = await emptyTrail(t);
  for (let i = 0; i < 120; i++) insertEntry(app, Date.now() - (120 - i) * 1000, `entry ${i + 1}`);
  const original = allIds(app);
  t.equal(original.length, 120);

  const page1 = await b.get(LOGS);
  t.equal(page1.statusCode, 200);
  t.match(page1.headers.vary, /HX-Request/i, 'Vary: HX-Request');
  const ids1 = rowIds(page1.body);
  t.equal(ids1.length, 50, 'page 1: 50 rows');
  t.same(ids1, original.slice(0, 50), 'newest first');
  const next1 = moreUrl(page1.body);
  t.equal(next1, `${LOGS}?before=${ids1.at(-1)}`, 'the load-more row asks for ?before=<last id>');
  t.match(page1.body, new RegExp(`<a class="older" href="${LOGS}\\?before=${ids1.at(-1)}">Older entries</a>`), 'with a plain link as fallback');
  t.notMatch(page1.body, /End of log/);

  // 30 new entries arrive while the user reads
  for (let i = 0; i < 30; i++) insertEntry(app, Date.now(), `late entry ${i + 1}`);

  const page2 = await b.get(next1!, { 'hx-request': 'true' });
  t.equal(page2.statusCode, 200);
  t.match(page2.headers.vary, /HX-Request/i);
  expectFragment(t, page2);
  const ids2 = rowIds(page2.body);
  t.equal(ids2.length, 50, 'page 2: 50 rows');
  const next2 = moreUrl(page2.body);
  t.ok(next2, 'more to come');

  const page3 = await b.get(next2!, { 'hx-request': 'true' });
  expectFragment(t, page3);
  const ids3 = rowIds(page3.body);
  t.equal(ids3.length, 20, 'page 3: the last 20');
  t.equal(moreUrl(page3.body), undefined, 'no further load-more row');
  t.match(page3.body, /<tr class="log-end"><td colspan="6">End of log<\/td><\/tr>\s*$/, '"End of log" at the end');

  const union = [...ids1, ...ids2, ...ids3];
  t.equal(new Set(union).size, union.length, 'no duplicates');
  t.same(union, original, 'exactly the original 120, newest first: no gaps, none of the new ones');
});

function expectFragment(t: Test, res: Res): void {
  t.match(res.headers['content-type'], /^text\/html/);
  t.notMatch(res.body, /<html|<body|<head|<table|<thead|<nav/i, 'a fragment, not a page');
  t.equal(res.body.replace(/<tr\b[\s\S]*?<\/tr>/g, '').trim(), '', 'only <tr> rows');
}

t.test('paging without JavaScript: ?before= returns a full page with the "Older entries" link', async (t) => {
  const { app, b } = await emptyTrail(t);
  for (let i = 0; i < 120; i++) insertEntry(app, Date.now(), `entry ${i + 1}`);
  const ids = allIds(app);
  const res = await b.get(`${LOGS}?before=${ids[49]}`);
  t.equal(res.statusCode, 200);
  t.match(res.body, /<html/, 'a full page');
  t.match(res.body, /Showing older entries\. <a href="\/it-settings\/iam\/logs">Back to the newest<\/a>/);
  t.same(rowIds(res.body), ids.slice(50, 100), 'the 50 entries before the cursor');
  t.match(res.body, new RegExp(`<a class="older" href="${LOGS}\\?before=${ids[99]}">Older entries</a>`));
  const last = await b.get(`${LOGS}?before=${ids[99]}`);
  t.same(rowIds(last.body), ids.slice(100));
  t.match(last.body, /End of log/);
  t.notMatch(last.body, /Older entries/);
  // a cursor beyond the start: an empty page that still says where the log ends, not the empty state
  const beyond = await b.get(`${LOGS}?before=1`);
  t.equal(beyond.statusCode, 200);
  t.same(rowIds(beyond.body), []);
  t.match(beyond.body, /End of log/);
  t.notMatch(beyond.body, /No log entries yet/);
});

t.test('empty log: the empty state names both usual causes', async (t) => {
  const { app, b } = await emptyTrail(t);
  const res = await b.get(LOGS);
  t.equal(res.statusCode, 200);
  t.match(res.body, /<div class="empty-state">/);
  t.match(res.body, /No log entries yet/);
  t.match(res.body, /SCIM has never been enabled\.[\s\S]*href="\/it-settings\/iam\/scim"/, 'cause 1: SCIM never enabled, with a link');
  t.match(res.body, /SCIM token is wrong or expired\.[\s\S]*href="\/it-settings\/iam\/tokens"/, 'cause 2: a wrong or expired token, with a link');
  t.notMatch(res.body, /<table class="log-table"/, 'no table');
  t.notMatch(res.body, /End of log/);
  t.equal(allIds(app).length, 0, 'viewing the log wrote nothing');
});

t.test('the Logs screen: All tab, read-only content, breadcrumb, Vary, no-store', async (t) => {
  const { signedIn } = await buildConsole(t);
  const b = await signedIn();
  const res = await b.get(LOGS);
  t.equal(res.statusCode, 200);
  t.match(res.headers.vary, /HX-Request/i, 'Vary: HX-Request');
  t.equal(res.headers['cache-control'], 'no-store');

  const tab = /<[^>]*role="tab"[^>]*>All<\/[a-z]+>/.exec(res.body)?.[0];
  t.ok(tab, 'an "All" tab');
  t.match(tab, /class="tab selected"/, 'selected');
  t.match(tab, /aria-selected="true"/);

  // read-only: nothing to tick, type or submit in the content area
  const content = contentArea(res.body) ?? '';
  t.ok(contentArea(res.body), 'a content area next to the menu');
  t.match(res.body, /<nav class="menu"[\s\S]*<form method="post" action="\/logout">[\s\S]*<\/nav>\s*<main class="content">/, 'the sign-out form is in the menu');
  t.notMatch(content, /type="checkbox"/i, 'no checkboxes');
  t.notMatch(content, /<form/i, 'no forms');
  t.notMatch(content, /<input|<select|<textarea/i, 'no inputs');
  const buttons = [...content.matchAll(/<button\b[^>]*>/g)].map((m) => m[0]);
  t.ok(buttons.every((btn) => /role="tab"/.test(btn) && /type="button"/.test(btn)), 'the only buttons are tabs (not submit buttons)');
  const forms = [...res.body.matchAll(/<form\b[^>]*>/g)].map((m) => m[0]);
  t.same(forms, ['<form method="post" action="/logout">'], 'the page has exactly one form: sign-out in the menu');

  // breadcrumb: IT Settings › IAM Settings › ‹ Logs ›
  const i = IAM_SECTIONS.findIndex((s) => s.key === 'logs');
  const prev = IAM_SECTIONS[(i - 1 + IAM_SECTIONS.length) % IAM_SECTIONS.length]!;
  const next = IAM_SECTIONS[(i + 1) % IAM_SECTIONS.length]!;
  t.equal(prev.label, 'Roles Mapping', 'Roles Mapping comes before Logs');
  const crumb = /<nav class="breadcrumb"[\s\S]*?<\/nav>/.exec(res.body)?.[0] ?? '';
  t.match(crumb, /<a class="crumb-link" href="\/it-settings\/iam">IAM Settings<\/a>/, 'IAM Settings link');
  t.match(crumb, /<strong class="crumb-current" aria-current="page">Logs<\/strong>/, 'Logs in bold, current');
  t.match(crumb, new RegExp(`<a class="chevron chevron-prev" href="${prev.href}"[^>]*>`), `‹ goes to ${prev.label}`);
  t.match(crumb, new RegExp(`<a class="chevron chevron-next" href="${next.href}"[^>]*>`), `› goes to ${next.label}`);
  // the chevrons wrap around: after the last section comes SCIM Overview, and before SCIM Overview the last
  const lastKey = IAM_SECTIONS.at(-1)!.key;
  t.equal(breadcrumbFor(lastKey).next.label, 'SCIM Overview', 'the walk wraps around forwards');
  t.equal(breadcrumbFor('scim').previous.key, lastKey, 'and backwards');
  const scim = await b.get('/it-settings/iam/scim');
  t.match(scim.body, new RegExp(`<a class="chevron chevron-prev" href="${IAM_SECTIONS.at(-1)!.href}"`), 'SCIM Overview ‹ goes to the last section');
  // the menu marks Logs as the current page
  t.match(res.body, /<a class="menu-link active" href="\/it-settings\/iam\/logs" aria-current="page">Logs<\/a>/, 'menu: Logs active');
});

t.test('an invalid cursor is a 400 page, not a 500', async (t) => {
  const { signedIn } = await buildConsole(t);
  const b = await signedIn();
  for (const before of ['abc', '0', '-5', '1.5', '', '1;DROP TABLE audit_log']) {
    const res = await b.get(`${LOGS}?before=${encodeURIComponent(before)}`);
    t.equal(res.statusCode, 400, `before=${JSON.stringify(before)}: 400`);
    t.match(res.headers['content-type'], /^text\/html/);
    t.match(res.body, /400 Bad Request/);
    t.notMatch(res.body, /Something went wrong on our side/);
    const hx = await b.get(`${LOGS}?before=${encodeURIComponent(before)}`, { 'hx-request': 'true' });
    t.equal(hx.statusCode, 400, `htmx, before=${JSON.stringify(before)}: 400`);
  }
  t.equal((await b.get(LOGS)).statusCode, 200, 'the log still works');
});
