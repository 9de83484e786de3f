// A log entry's detail and its red flag in a real browser: the date of a Logs row opens the
// detail inline (htmx) under the row without leaving the page, a second click or Close folds it
// away; from the detail to the red flag, acknowledged with a note, which is then itself at the top
// of the Logs. Screenshots of the detail, the Red Flags and the Rules screens.
import t from 'tap';
import { ADMIN, CONTENT, LOGS_PATH, eventName, screenshot, signIn, startConsole, textOf } from './browser-helper.js';

const IAM = '/it-settings/iam';
const c = await startConsole(t);
const { app } = c;

// five failed sign-ins of one account within four minutes: the brute-force rule flags the fifth
const start = Date.now() - 10 * 60_000;
const failures: number[] = [];
for (let i = 0; i < 5; i++) {
  failures.push(
    app.repos.audit.append({
      ts: start + i * 60_000,
      type: 'Login',
      protocol: 'API',
      event: 'Sign In',
      log: `Sign-in of "jdoe@example.com" failed: wrong password (attempt ${i + 1})`,
      action: 'LOGIN',
      outcome: 'FAILURE',
      principal: 'jdoe@example.com',
      target: 'jdoe@example.com',
      sourceIp: '198.51.100.10',
    }),
  );
}
const flag = app.database.sqlite.prepare("SELECT id, title FROM red_flags WHERE rule = 'login-brute-force'").get() as { id: number; title: string };
const last = failures[4]!;

const { page } = await c.newPage({ width: 1400, height: 900 });
const errors: string[] = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
});
page.on('response', (r) => {
  if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});
await signIn(page, ADMIN, `/login?next=${encodeURIComponent(LOGS_PATH)}`);

t.test('the date of a flagged row opens its detail under the row, inline', async (t) => {
  await page.goto(LOGS_PATH);
  const row = page.locator(`tr#log-${last}`);
  t.match(await row.getAttribute('class'), /flagged/, 'the fifth failure is a flagged row');
  t.equal(await row.locator('.flag-marker').textContent(), '⚑', 'with the marker');

  let navigated = false;
  page.once('framenavigated', () => (navigated = true));
  await row.locator('a.entry-link').click();
  const detail = page.locator(`tr#detail-${last}`);
  await detail.waitFor({ state: 'visible' });
  t.notOk(navigated, 'no navigation: the detail came in by htmx');
  t.equal(new URL(page.url()).pathname, LOGS_PATH, 'still on the Logs');
  t.equal(await page.evaluate((id) => document.getElementById(`log-${id}`)?.nextElementSibling?.id, last), `detail-${last}`, 'right under its row');
  t.match(await detail.locator('h3').allTextContents(), ['What this means', 'What to do', 'Red flags', 'Fields', 'Log', /^Related entries/], 'the sections of the detail');
  t.equal((await detail.locator('.flag-list a').textContent())?.trim(), flag.title, 'the red flag it belongs to');
  t.equal(await detail.locator('table.related tbody tr').count(), 4, 'the other four failures are related entries');
  await screenshot(page, 'log-detail');

  // a second click folds it away instead of adding another
  await row.locator('a.entry-link').click();
  await detail.waitFor({ state: 'detached' });
  t.equal(await page.locator('tr.entry-detail').count(), 0, 'folded away by a second click');
  await row.locator('a.entry-link').click();
  await detail.waitFor({ state: 'visible' });
  await detail.locator('button.close-detail').click();
  await detail.waitFor({ state: 'detached' });
  t.equal(await page.locator('tr.entry-detail').count(), 0, 'and by Close');
});

t.test('from the detail to the red flag, acknowledged with a note', async (t) => {
  await page.goto(`${LOGS_PATH}/${last}`);
  t.equal(await textOf(page, `${CONTENT} h1`), `Log entry #${last} · Sign In`, 'the detail also is a page of its own');
  await Promise.all([page.waitForURL((u) => u.pathname === `${IAM}/red-flags/${flag.id}`), page.locator('.flag-list a').click()]);
  t.equal(await textOf(page, `${CONTENT} h1`), `Red flag #${flag.id}`);
  t.equal(await page.locator('table.log-table tbody tr').count(), 5, 'the flag lists its five entries');
  await screenshot(page, 'red-flag');

  await page.locator('textarea[name=note]').fill('Called jdoe: she had forgotten her new password');
  await Promise.all([page.waitForURL((u) => u.pathname === `${IAM}/red-flags`), page.locator('button[value=acknowledged]').click()]);
  t.equal(await textOf(page, '.flash'), `Red flag #${flag.id} acknowledged.`, 'confirmed');
  t.equal(await page.locator(`#flag-${flag.id}`).count(), 0, 'no longer among the open flags');
  await screenshot(page, 'red-flags');

  await page.goto(`${IAM}/red-flags?status=acknowledged`);
  t.match(await page.locator(`#flag-${flag.id}`).textContent(), /Note: Called jdoe: she had forgotten her new password/, 'listed as acknowledged, with the note');

  await page.goto(LOGS_PATH);
  t.equal(eventName(await textOf(page, 'tr[id^=log-] td.col-event')), 'Acknowledge Red Flag', 'the acknowledgement is the newest entry of the Logs');
});

t.test('the Rules screen', async (t) => {
  await page.goto(`${IAM}/rules`);
  t.equal(await textOf(page, `${CONTENT} h1`), 'Rules');
  t.ok((await page.locator('table.rules-table tbody tr').count()) > 20, 'every rule has a row');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.equal(overflow, 0, 'no horizontal scrolling');
  await screenshot(page, 'rules');
  t.same(errors, [], 'no script errors or failed loads on any of these screens');
});
