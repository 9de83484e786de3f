// The Logs screen in a real browser with 500+ entries: htmx infinite scroll down to "End of log",
// every entry exactly once and newest first; and hostile SCIM values (an <img onerror> userName, a
// <script> group name) shown as text, both in the first page and in rows appended by htmx.
import t from 'tap';
import type { Request } from 'playwright-core';
import { ADMIN, CONTENT, LOGS_PATH, RESULTS_DIR, auditIdsDesc, eventName, logRowIds, screenshot, scrollToEndOfLog, signIn, startConsole, textOf } from './browser-helper.js';
import { GROUP_SCHEMA, USER_SCHEMA } from '../helper.js';

const BULK = 500;
const XSS_OLD = '<img src=x onerror=alert(1)>';
const XSS_NEW = '<img src=x onerror=alert(2)>';
const XSS_GROUP = '<script>alert(3)</script>';

const c = await startConsole(t);
const { app } = c;

/** POST /scim/v2/Users over real HTTP with the SCIM token */
async function createScimUser(userName: string): Promise<Response> {
  return fetch(`${c.base}/scim/v2/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [USER_SCHEMA], userName }),
  });
}

// an old hostile entry, far down the log: it reaches the page through an htmx swap
const old = await createScimUser(XSS_OLD);
// no root-level assertion here: tap would end the root test while the setup still runs
if (old.status !== 201) throw new Error(`creating the hostile SCIM user answered ${old.status}: ${await old.text()}`);

// 500 entries, in one transaction
const t0 = Date.now();
app.database.sqlite.transaction(() => {
  for (let i = 1; i <= BULK; i++) {
    app.repos.audit.append({
      ts: t0 - (BULK - i) * 1000,
      type: 'User',
      protocol: 'SCIM',
      event: i % 3 === 0 ? 'Update User' : 'Get User',
      http: i % 7 === 0 ? 404 : 200,
      log: `bulk entry ${i}\nGET /scim/v2/Users/${i} · client 10.0.0.${i % 250}`,
      action: 'SCIM_READ',
      outcome: 'SUCCESS',
    });
  }
})();

const { page } = await c.newPage({ width: 1400, height: 900 });
const dialogs: string[] = [];
page.on('dialog', (d) => {
  dialogs.push(d.message());
  void d.dismiss();
});
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
await signIn(page, ADMIN);

t.test('3. infinite scroll down to "End of log"', async (t) => {
  const fragmentRequests: string[] = [];
  const onRequest = (r: Request) => {
    if (r.url().includes(`${LOGS_PATH}?before=`)) fragmentRequests.push(new URL(r.url()).search);
  };
  page.on('request', onRequest);
  t.teardown(() => page.off('request', onRequest));

  // the first fragment request is held back, to see the loading indicator
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  await page.route((url) => url.pathname === LOGS_PATH && url.searchParams.has('before'), async (route) => {
    if (first) {
      first = false;
      await held;
    }
    await route.continue();
  });
  t.teardown(() => page.unrouteAll({ behavior: 'ignoreErrors' }));

  await page.goto(LOGS_PATH);
  const expected = auditIdsDesc(app);
  t.ok(expected.length >= BULK + 5, `${expected.length} entries in the database`);
  const initial = await logRowIds(page);
  t.equal(initial.length, 50, 'the first page has 50 rows');
  t.same(initial, expected.slice(0, 50), 'the 50 newest entries, newest first');

  const more = page.locator('tr.log-more');
  t.equal(await more.count(), 1, 'one "older entries" row');
  t.equal(await more.getAttribute('hx-trigger'), 'revealed', 'it loads when revealed');
  const indicator = more.locator('.loading');
  t.equal(await indicator.count(), 1, 'the loading indicator element exists');
  t.equal(await indicator.getAttribute('role'), 'status', 'and is announced');
  t.notOk(await indicator.isVisible(), 'hidden while nothing loads');
  t.ok(await more.locator('a.older').isVisible(), 'an "Older entries" link for use without JavaScript');

  await page.mouse.move(700, 450);
  await page.mouse.wheel(0, 10_000);
  await indicator.waitFor({ state: 'visible' });
  t.ok(await indicator.isVisible(), 'the loading indicator shows while the next rows load');
  t.notOk(await more.locator('a.older').isVisible(), 'the link hides meanwhile');
  release();

  const steps = await scrollToEndOfLog(page);
  t.ok(steps > 0, `"End of log" after ${steps} more wheel steps`);
  const end = page.locator('tr.log-end');
  t.equal(await end.count(), 1, 'one "End of log" row');
  t.equal((await end.textContent())?.trim(), 'End of log');
  t.ok(await end.isVisible(), '"End of log" is visible');
  t.equal(await page.locator('tr.log-more').count(), 0, 'no "older entries" row left');

  const ids = await logRowIds(page);
  t.equal(ids.length, expected.length, `${ids.length} rows for ${expected.length} entries`);
  t.equal(new Set(ids).size, ids.length, 'no entry twice');
  t.same(ids, expected, 'every entry exactly once, in descending id order');
  t.equal(new Set(fragmentRequests).size, fragmentRequests.length, `each of the ${fragmentRequests.length} next-rows requests is made once`);
  t.equal(fragmentRequests.length, Math.ceil(expected.length / 50) - 1, 'one request per page of 50');
  t.equal(await page.locator('tbody#log-rows > tr').count(), ids.length + 1, 'all rows are in the one table body (rows + end)');
  t.equal(await page.locator('thead').count(), 1, 'one table header');
  const headerTop = await page.locator('thead th').first().evaluate((th) => th.getBoundingClientRect().top);
  t.ok(Math.abs(headerTop) <= 1, 'the column header sticks to the top while scrolled');
  t.same(pageErrors, [], 'no script errors');
  await page.screenshot({ path: `${RESULTS_DIR}logs-scrolled-viewport.png`, timeout: 30_000 });
  // a full-page capture of a scrolled page draws the sticky header mid-page: capture from the top
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'logs-scrolled');
});

t.test('4. hostile values are shown as text, never run', async (t) => {
  const fresh = await createScimUser(XSS_NEW);
  t.equal(fresh.status, 201, 'a second hostile SCIM user is created');
  const grp = await fetch(`${c.base}/scim/v2/Groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: [GROUP_SCHEMA], displayName: XSS_GROUP }),
  });
  t.equal(grp.status, 201, 'a SCIM group with a <script> name is created');

  await page.goto(LOGS_PATH);
  await page.waitForTimeout(300);
  t.same(dialogs, [], 'no dialog fired on the first page');
  t.equal(await page.locator('table img, table script').count(), 0, 'no <img> or <script> element inside the table');
  const fresh1 = page.locator('tr[id^=log-]', { hasText: XSS_NEW }).first();
  t.ok(await fresh1.isVisible(), 'the new hostile entry is on the first page');
  t.match(await fresh1.locator('td.col-log').innerText(), XSS_NEW, 'its Log cell shows the userName literally');
  t.equal(eventName(await fresh1.locator('td.col-event').innerText()), 'Create User');
  const groupRow = page.locator('tr[id^=log-]', { hasText: XSS_GROUP }).first();
  t.ok(await groupRow.isVisible(), 'the group entry shows the <script> name literally');

  // the old one arrives through htmx swaps
  await scrollToEndOfLog(page);
  await page.waitForTimeout(300);
  const oldRow = page.locator('tr[id^=log-]', { hasText: XSS_OLD }).first();
  t.equal(await page.locator('tr[id^=log-]', { hasText: XSS_OLD }).count(), 1, 'the old hostile entry is loaded by scrolling');
  await oldRow.scrollIntoViewIfNeeded();
  t.ok(await oldRow.isVisible(), 'and visible');
  t.match(await oldRow.locator('td.col-log').innerText(), XSS_OLD, 'its Log cell shows the userName literally');
  t.equal(await page.locator('table img, table script').count(), 0, 'still no <img> or <script> element in the table');
  t.same(dialogs, [], 'no dialog fired after the htmx swaps');

  // the entry's detail, inline (htmx) and as a page, when the Logs offer one
  const link = oldRow.locator('a.entry-link');
  if ((await link.count()) === 0) t.comment('no entry detail links on the Logs: detail not checked');
  else {
    await link.click();
    const detail = page.locator('tr.entry-detail');
    await detail.first().waitFor();
    t.equal(await detail.count(), 1, 'the detail opens inline');
    t.match(await detail.locator('.entry-log').innerText(), XSS_OLD, 'the inline detail shows the userName literally');
    t.equal(await page.locator('table :is(img, script)').count(), 0, 'no injected element in the inline detail');
    const href = (await link.getAttribute('href'))!;
    await page.goto(href);
    await page.waitForTimeout(200);
    t.match(await textOf(page, `${CONTENT} .entry-log`), XSS_OLD, 'the detail page shows it literally');
    t.equal(await page.locator(`${CONTENT} :is(img, script)`).count(), 0, 'no injected element on the detail page');
    t.same(dialogs, [], 'no dialog on the detail views');
  }

  // the group's name on Roles Mapping, and the SCIM Overview
  for (const path of ['/it-settings/iam/roles-mapping', '/it-settings/iam/scim']) {
    await page.goto(path);
    await page.waitForTimeout(200);
    t.equal(await page.locator(`${CONTENT} :is(img, script)`).count(), 0, `${path}: no injected element`);
  }
  await page.goto('/it-settings/iam/roles-mapping');
  t.match(await textOf(page, `${CONTENT} table`), XSS_GROUP, 'Roles Mapping shows the group name literally');
  t.same(dialogs, [], 'no dialog anywhere');
  t.same(pageErrors, [], 'no script errors');
});
