// The console in a real browser: sign-in, the Logs screen reached through the menu (menu,
// breadcrumb, chevrons, heading, tab, columns, no editing controls), the date format, the column
// layout, the 403 page of a user without the permission, and a screenshot of every screen.
import t from 'tap';
import { ADMIN, CONTENT, EMPLOYEE, LOGS_PATH, css, eventName, isBlueish, screenshot, signIn, startConsole, textOf } from './browser-helper.js';
import { GROUP_SCHEMA, USER_SCHEMA } from '../helper.js';

const DATE_TEXT = /^\d{2}\/\d{2}\/\d{4}, \d{2}:\d{2}:\d{2}\.\d{3}$/;
const IAM = '/it-settings/iam';

const c = await startConsole(t);
const { app } = c;

// some provisioned data, so the SCIM Overview and Roles Mapping screens have something to show
// (no root-level assertions: a failure throws)
async function provision(url: string, payload: Record<string, unknown>): Promise<{ id: string }> {
  const res = await c.scim({ method: 'POST', url, payload });
  if (res.statusCode !== 201) throw new Error(`setup: POST ${url} answered ${res.statusCode}: ${res.body}`);
  return res.json() as { id: string };
}
const user = await provision('/Users', { schemas: [USER_SCHEMA], userName: 'bjensen@example.com', name: { givenName: 'Barbara', familyName: 'Jensen' } });
await provision('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'IAM Admins', members: [{ value: user.id }] });
await provision('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Everyone' });

// a long entry: several lines, one of them a single 1,500-character word
const longId = app.repos.audit.append({
  ts: Date.now(),
  type: 'Test',
  protocol: 'API',
  event: 'Long Entry',
  http: 200,
  log: `A long multi-line entry\nsecond line: ${'lorem ipsum dolor sit amet '.repeat(30)}\nthird line: ${'x'.repeat(1500)}\nfourth line`,
});

const { page } = await c.newPage({ width: 1400, height: 900 });
const h1 = () => textOf(page, `${CONTENT} h1`);

t.test('1. sign in through the form and land on the Logs', async (t) => {
  const res = await page.goto('/login');
  t.equal(res?.status(), 200, '/login answers 200');
  t.equal(await textOf(page, 'form h1'), 'iamtrail', 'the sign-in card');
  t.equal(await page.locator('form input[name=username]').count(), 1, 'a username field');
  t.equal(await page.locator('form input[name=password][type=password]').count(), 1, 'a password field');
  await screenshot(page, 'login');

  await signIn(page, ADMIN);
  t.equal(new URL(page.url()).pathname, LOGS_PATH, 'redirected to the Logs');
  t.equal(await h1(), 'Logs', 'the Logs heading');
  const sid = (await page.context().cookies()).find((k) => k.name === 'iamtrail.sid');
  t.ok(sid, 'a session cookie');
  t.equal(sid?.httpOnly, true, 'the session cookie is HttpOnly');
  t.equal(sid?.secure, false, 'not Secure with an http PUBLIC_URL');

  const signIns = app.database.sqlite.prepare("SELECT id FROM audit_log WHERE action = 'LOGIN' AND outcome = 'SUCCESS' AND principal = ?").all(ADMIN.username) as { id: number }[];
  t.equal(signIns.length, 1, 'one successful sign-in entry');
  const firstRow = page.locator('tr[id^=log-]').first();
  t.equal(await firstRow.getAttribute('id'), `log-${signIns[0]!.id}`, 'the sign-in is the newest row');
  t.equal(eventName(await textOf(page, 'tr[id^=log-] td.col-event')), 'Sign In', 'its event is Sign In');
});

t.test('2. open the Logs through the menu', async (t) => {
  await page.goto(`${IAM}/scim`);
  t.equal(await h1(), 'SCIM Overview', 'on the SCIM Overview');
  const menu = page.locator('nav.menu');
  const menuLink = menu.getByRole('link', { name: 'Logs', exact: true });
  t.equal(await menuLink.count(), 1, 'the left menu has a "Logs" link');
  if ((await menuLink.count()) === 1) {
    await Promise.all([page.waitForURL((u) => u.pathname === LOGS_PATH), menuLink.click()]);
  } else {
    await page.goto(LOGS_PATH);
  }
  t.equal(new URL(page.url()).pathname, LOGS_PATH, 'on the Logs');
  await screenshot(page, 'logs');

  t.test('left menu: IT Settings › IAM Settings expanded with its sub-sections', async (t) => {
    t.equal(await menu.count(), 1, 'the left menu is shown');
    if ((await menu.count()) === 0) return;
    t.ok(await menu.locator('.menu-heading', { hasText: 'IT Settings' }).isVisible(), 'IT Settings is shown');
    const iam = menu.getByRole('link', { name: 'IAM Settings', exact: true });
    t.ok(await iam.isVisible(), 'IAM Settings is shown');
    t.ok(await menu.locator('.submenu').isVisible(), 'IAM Settings is expanded: its sub-sections are listed under it');
    const sub = menu.locator('.submenu a');
    const labels = (await sub.allTextContents()).map((s) => s.trim());
    t.same(labels.slice(0, 5), ['SCIM Overview', 'Tokens', 'Active Directory', 'Roles Mapping', 'Logs'], `the sub-sections, in order (all: ${labels.join(', ')})`);
    for (const link of await sub.all()) t.ok(await link.isVisible(), `${(await link.textContent())?.trim()} is visible`);
    const logs = menu.locator('.submenu a', { hasText: 'Logs' });
    t.equal(await logs.getAttribute('aria-current'), 'page', 'Logs is the current page in the menu');
    t.match(await logs.getAttribute('class'), /\bactive\b/, 'Logs is highlighted');
    t.equal(await menu.locator('a.active').count(), 1, 'only one menu entry is highlighted');
  });

  t.test('breadcrumb IT Settings › IAM Settings › Logs', async (t) => {
    const crumb = page.locator(`${CONTENT} nav.breadcrumb`);
    t.equal(await crumb.count(), 1, 'one breadcrumb');
    if ((await crumb.count()) !== 1) return;
    const text = await crumb.evaluate((nav) =>
      Array.from(nav.children)
        .filter((e) => !e.classList.contains('chevron'))
        .map((e) => e.textContent?.trim())
        .join(' '),
    );
    t.equal(text, 'IT Settings › IAM Settings › Logs', 'the breadcrumb text');
    const iam = crumb.getByRole('link', { name: 'IAM Settings', exact: true });
    t.equal(await iam.getAttribute('href'), IAM, '"IAM Settings" is a link to the section');
    const iamColor = await css(iam, 'color');
    t.ok(isBlueish(iamColor), `"IAM Settings" is blue (${iamColor})`);
    const current = crumb.locator('.crumb-current');
    t.equal((await current.textContent())?.trim(), 'Logs');
    t.equal(await current.evaluate((e) => e.closest('a') === null), true, '"Logs" is not a link');
    const weight = await css(current, 'font-weight');
    t.ok(Number(weight) >= 600, `"Logs" is bold (${weight})`);
    const color = await css(current, 'color');
    t.ok(isBlueish(color), `"Logs" is blue (${color})`);
  });

  t.test('chevrons: left to Roles Mapping, right to the next section', async (t) => {
    const prev = page.locator(`${CONTENT} nav.breadcrumb a.chevron-prev`);
    const next = page.locator(`${CONTENT} nav.breadcrumb a.chevron-next`);
    t.equal((await prev.count()) + (await next.count()), 2, 'two chevrons');
    if ((await prev.count()) + (await next.count()) !== 2) return;
    // the walk follows the menu and wraps around: with Logs last, right goes to SCIM Overview
    const menu = (await page.locator('nav.menu .submenu a').evaluateAll((as) => as.map((a) => ({ label: a.textContent?.trim() ?? '', href: a.getAttribute('href') ?? '' }))));
    const i = menu.findIndex((m) => m.label === 'Logs');
    const after = menu[(i + 1) % menu.length]!;
    if (i === menu.length - 1) t.equal(after.label, 'SCIM Overview', 'Logs is the last section: the right chevron wraps to SCIM Overview');
    else t.comment(`the menu has ${menu.slice(i + 1).map((m) => m.label).join(', ')} after Logs: the right chevron goes to ${after.label}`);
    t.equal(await prev.getAttribute('aria-label'), 'Previous: Roles Mapping');
    t.equal(await next.getAttribute('aria-label'), `Next: ${after.label}`);

    await Promise.all([page.waitForURL((u) => u.pathname !== LOGS_PATH), prev.click()]);
    t.equal(new URL(page.url()).pathname, `${IAM}/roles-mapping`, 'the left chevron opens Roles Mapping');
    t.equal(await h1(), 'Roles Mapping');
    await page.goBack();
    t.equal(new URL(page.url()).pathname, LOGS_PATH, 'back on the Logs');

    const [res] = await Promise.all([page.waitForResponse((r) => r.request().isNavigationRequest() && r.url().endsWith(after.href)), next.click()]);
    await page.waitForLoadState('load');
    t.equal(res?.status(), 200, `${after.label} answers 200`);
    t.equal(new URL(page.url()).pathname, after.href, `the right chevron opens ${after.label}`);
    t.match(await h1(), after.label, `the ${after.label} heading`);
    await page.goBack();
    t.equal(new URL(page.url()).pathname, LOGS_PATH, 'back on the Logs');
    t.equal(await h1(), 'Logs');
  });

  t.test('heading and divider', async (t) => {
    t.equal(await page.locator(`${CONTENT} h1`).count(), 1, 'one h1');
    t.equal(await h1(), 'Logs');
    const hr = page.locator(`${CONTENT} hr.divider`);
    t.equal(await hr.count(), 1, 'one hr divider');
    t.ok(await hr.isVisible(), 'the divider is visible');
    const hrBox = (await hr.boundingBox())!;
    const h1Box = (await page.locator(`${CONTENT} h1`).boundingBox())!;
    t.ok(hrBox.y >= h1Box.y + h1Box.height - 1, 'the divider is below the heading');
    const main = page.locator('main.content');
    t.equal(await main.count(), 1, 'a main content area');
    if ((await main.count()) !== 1) return;
    const box = await main.evaluate((m) => {
      const s = getComputedStyle(m);
      return { left: m.getBoundingClientRect().left + parseFloat(s.paddingLeft), width: m.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) };
    });
    t.ok(Math.abs(hrBox.width - box.width) <= 1, `the divider spans the content width (${hrBox.width} vs ${box.width})`);
    t.ok(Math.abs(hrBox.x - box.left) <= 1, 'and starts at its left edge');
  });

  t.test('exactly one tab "All", selected, staying selected when clicked', async (t) => {
    const tabs = page.locator(`${CONTENT} [role=tab]`);
    t.equal(await tabs.count(), 1, 'one tab');
    t.equal((await tabs.first().textContent())?.trim(), 'All');
    t.equal(await tabs.first().getAttribute('aria-selected'), 'true', 'selected');
    const url = page.url();
    // a real mouse click on the tab (Playwright's click() waits forever on aria-disabled elements)
    const box = (await tabs.first().boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(200);
    t.equal(page.url(), url, 'clicking it does not navigate');
    t.equal(await tabs.count(), 1, 'still one tab');
    t.equal(await tabs.first().getAttribute('aria-selected'), 'true', 'still selected');
  });

  t.test('the columns, and nothing to edit', async (t) => {
    t.same((await page.locator(`${CONTENT} table thead th`).allTextContents()).map((s) => s.trim()), ['Date', 'Type', 'Protocol', 'Event', 'Http', 'Log'], 'exactly these columns');
    t.equal(await page.locator(`${CONTENT} input[type=checkbox]`).count(), 0, 'no checkboxes');
    t.equal(await page.locator(`${CONTENT} :is(input:not([type=hidden]), [role=searchbox], [role=search], textarea, select)`).count(), 0, 'no search input (no input at all)');
    t.equal(await page.locator(`${CONTENT} form`).count(), 0, 'no form in the content');
    t.same((await page.locator(`${CONTENT} button`).allTextContents()).map((s) => s.trim()), ['All'], 'no button but the tab: no create button');
    t.equal(await page.locator(`${CONTENT} a`, { hasText: /create|new|add/i }).count(), 0, 'no create link');
  });
});

t.test('7. the Date cells: 01/15/2025, 14:32:07.842 inside <time datetime>', async (t) => {
  await page.goto(LOGS_PATH);
  const cells = await page.locator('tbody tr[id^=log-] td.col-date').evaluateAll((tds) =>
    tds.map((td) => ({
      text: td.textContent?.trim() ?? '',
      times: td.querySelectorAll('time[datetime]').length,
      datetime: td.querySelector('time')?.getAttribute('datetime') ?? null,
      timeText: td.querySelector('time')?.textContent ?? null,
    })),
  );
  t.ok(cells.length >= 5, `${cells.length} date cells`);
  const bad = cells.filter((c) => !DATE_TEXT.test(c.text) || c.times !== 1 || c.timeText !== c.text);
  t.same(bad, [], 'each date matches MM/DD/YYYY, HH:MM:SS.mmm and is the text of one <time datetime>');
  // the configured zone is UTC: the datetime attribute is the same instant as the text
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23' });
  const mismatched = cells.filter((c) => c.datetime === null || Number.isNaN(Date.parse(c.datetime)) || fmt.format(new Date(c.datetime)) !== c.text);
  t.same(mismatched, [], 'datetime is a valid ISO instant equal to the displayed time');
  const first = await page.locator('tr[id^=log-]').first().locator('time').getAttribute('datetime');
  const newest = app.database.sqlite.prepare('SELECT ts FROM audit_log ORDER BY id DESC LIMIT 1').get() as { ts: number };
  t.equal(first, new Date(newest.ts).toISOString(), "the newest row shows the newest entry's instant");
});

t.test('8. the Log column fills the remaining width and long entries wrap', async (t) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(LOGS_PATH);
  const table = page.locator(`${CONTENT} table.log-table`);
  const tableBox = (await table.boundingBox())!;
  const logTh = (await page.locator(`${CONTENT} table thead th.col-log`).boundingBox())!;
  t.ok(logTh.width > tableBox.width * 0.5, `the Log column is ${Math.round(logTh.width)}px of ${Math.round(tableBox.width)}px`);
  const contentWidth = await table.evaluate((el) => {
    const parent = el.parentElement!;
    const s = getComputedStyle(parent);
    return parent.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  });
  t.ok(Math.abs(tableBox.width - contentWidth) <= 1, `the table spans its container (${tableBox.width} vs ${contentWidth})`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.equal(overflow, 0, 'no horizontal scrolling, even with a 1,500-character word');

  const long = page.locator(`#log-${longId}`);
  t.equal(await long.count(), 1, 'the long entry is shown');
  const longBox = (await long.boundingBox())!;
  const heights = await page.locator('tr[id^=log-]').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
  const minHeight = Math.min(...heights);
  t.ok(longBox.height > minHeight * 4, `the long row is ${Math.round(longBox.height)}px high, the shortest ${Math.round(minHeight)}px`);
  const cell = long.locator('td.col-log');
  const cellBox = (await cell.boundingBox())!;
  t.ok(cellBox.x + cellBox.width <= tableBox.x + tableBox.width + 1, 'the Log cell stays inside the table');
  t.equal(await cell.evaluate((td) => td.scrollWidth <= td.clientWidth), true, 'the cell content does not overflow it');
  t.equal(await css(cell, 'white-space'), 'pre-wrap', 'line breaks in the log are kept');
  t.match(await cell.innerText(), /^A long multi-line entry\nsecond line: /, 'the first lines, as written');
  // the narrow columns do not wrap
  for (const col of ['date', 'type', 'protocol', 'event', 'http']) {
    const td = long.locator(`td.col-${col}`);
    t.equal(await css(td, 'white-space'), 'nowrap', `the ${col} cell does not wrap`);
    t.ok(((await td.boundingBox())?.width ?? 0) < tableBox.width * 0.2, `the ${col} column is narrow`);
  }
});

t.test('5. a user without the permission gets the 403 page', async (t) => {
  const { context, page: emp } = await c.newPage();
  t.teardown(() => context.close());
  await signIn(emp, EMPLOYEE);
  const res = await emp.goto(LOGS_PATH);
  t.equal(res?.status(), 403, 'status 403');
  t.equal(await textOf(emp, `${CONTENT} h1`), '403 Forbidden', 'the heading');
  t.match(await textOf(emp, CONTENT), /You need the permission "IT Settings IAM"/, 'says which permission is missing');
  t.equal(await emp.locator('table.log-table').count(), 0, 'no log table');
  t.equal(await emp.locator('tr[id^=log-]').count(), 0, 'no log rows');
  await screenshot(emp, '403');

  // the htmx fragment is refused too
  const frag = await emp.request.get(`${LOGS_PATH}?before=999999`, { headers: { 'HX-Request': 'true' } });
  t.equal(frag.status(), 403, 'the next-rows fragment is refused too');
  t.notMatch(await frag.text(), /id="log-\d+"/, 'without rows');

  for (const path of [`${IAM}/scim`, `${IAM}/tokens`, `${IAM}/active-directory`, `${IAM}/roles-mapping`, IAM, '/it-settings/accounts']) {
    const r = await emp.goto(path);
    t.equal(r?.status(), 403, `${path}: 403`);
  }
  const profile = await emp.goto('/profile');
  t.equal(profile?.status(), 200, 'the profile stays open to them');
});

t.test('screenshots of the other screens', async (t) => {
  const screens: [string, string, string][] = [
    [`${IAM}/scim`, 'scim-overview', 'SCIM Overview'],
    [`${IAM}/active-directory`, 'active-directory', 'Active Directory'],
    [`${IAM}/roles-mapping`, 'roles-mapping', 'Roles Mapping'],
    [IAM, 'iam-settings', 'IAM Settings'],
    ['/it-settings/accounts', 'accounts', 'Accounts'],
    ['/profile', 'profile', 'Your profile'],
  ];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  for (const [path, name, heading] of screens) {
    const res = await page.goto(path);
    t.equal(res?.status(), 200, `${path}: 200`);
    t.equal(await page.locator(`${CONTENT} h1`).count(), 1, `${path}: one h1`);
    t.equal(await h1(), heading, `${path}: heading ${heading}`);
    t.equal(await page.locator('nav.menu a.active').count(), 1, `${path}: one highlighted menu entry`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.equal(overflow, 0, `${path}: no horizontal scrolling`);
    await screenshot(page, name);
  }
  t.same(errors, [], 'no script errors or failed loads');
});

t.test('on a phone (390 px wide) every screen fits: the menu above, no sideways scrolling', async (t) => {
  const phone = (await c.newPage({ width: 390, height: 844 })).page;
  await signIn(phone, ADMIN);
  const screens = [IAM, `${IAM}/scim`, `${IAM}/tokens`, `${IAM}/active-directory`, `${IAM}/roles-mapping`, LOGS_PATH, `${IAM}/red-flags`, `${IAM}/rules`, '/it-settings/accounts', '/profile'];
  for (const path of screens) {
    t.equal((await phone.goto(path))?.status(), 200, `${path}: 200`);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.equal(overflow, 0, `${path}: no horizontal scrolling of the page`);
    const menu = (await phone.locator('nav.menu').boundingBox())!;
    const content = (await phone.locator('main.content').boundingBox())!;
    t.ok(menu.y + menu.height <= content.y + 1, `${path}: the menu is above the content`);
    t.ok(content.width >= 380, `${path}: the content takes the width (${Math.round(content.width)} px)`);
    // everything fits the screen, except inside tables, which scroll sideways within themselves
    const outside = await phone.evaluate(() =>
      Array.from(document.querySelectorAll('main *'))
        .filter((el) => !el.closest('table') && el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((el) => `${el.tagName.toLowerCase()}: ${(el.textContent ?? '').trim().slice(0, 40)}`),
    );
    t.same(outside, [], `${path}: no text runs off the screen`);
  }
  await phone.goto(`${IAM}/scim`);
  await screenshot(phone, 'phone-scim-overview');
  await phone.goto(LOGS_PATH);
  await screenshot(phone, 'phone-logs');
});
