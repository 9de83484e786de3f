// The Tokens screen in a real browser: create a token through the form (name, expiry, scope), see
// it once with a Copy button, revoke it through the confirm dialog, and find both changes at the
// top of the Logs.
import t from 'tap';
import { ADMIN, CONTENT, LOGS_PATH, eventName, screenshot, signIn, startConsole, textOf } from './browser-helper.js';

const TOKENS = '/it-settings/iam/tokens';
const NAME = 'entra-prod 2025';

const c = await startConsole(t);
const { app } = c;
const { context, page } = await c.newPage({ width: 1400, height: 900 });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: c.base });
const dialogs: { type: string; message: string }[] = [];
page.on('dialog', (d) => {
  dialogs.push({ type: d.type(), message: d.message() });
  void d.accept();
});
await signIn(page, ADMIN);

let secret = '';

t.test('6a. create a token: shown once, with a Copy button', async (t) => {
  const res = await page.goto(TOKENS);
  t.equal(res?.status(), 200);
  t.equal(await textOf(page, `${CONTENT} h1`), 'Tokens');
  t.equal(await page.locator('#new-token').count(), 0, 'no token shown before one is created');

  const form = page.locator(`form[action="${TOKENS}"]`);
  await form.locator('input[name=name]').fill(NAME);
  await form.locator('select[name=expiresInDays]').selectOption('90');
  await form.locator('select[name=scope]').selectOption('scim');
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(TOKENS) && r.request().method() === 'POST'), form.locator('button[type=submit]').click()]);
  await page.waitForLoadState('load');
  t.equal(response.status(), 201, 'the form answers 201 Created');
  t.equal(response.headers()['cache-control'], 'no-store', 'the page with the secret is not cached');

  const shown = page.locator('#new-token');
  t.equal(await shown.count(), 1, 'the new token is displayed');
  secret = ((await shown.textContent()) ?? '').trim();
  t.match(secret, /^iamt_[A-Za-z0-9_-]{43}$/, 'the token itself');
  t.match(await textOf(page, '.new-token h2'), `Token "${NAME}" created`, 'named in the heading');
  t.match(await textOf(page, '.new-token'), /shown only this once/, 'says it is shown once');
  const copy = page.locator('.new-token button.copy');
  t.equal(await copy.count(), 1, 'one Copy button next to it');
  t.equal((await copy.textContent())?.trim(), 'Copy');
  await copy.click();
  await page.waitForFunction(() => document.querySelector('.new-token button.copy')?.textContent === 'Copied');
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'Copy puts the token on the clipboard');

  const row = page.locator('tr.token-row', { hasText: NAME });
  t.equal(await row.count(), 1, 'the token is listed');
  t.same((await row.locator('td').allTextContents()).slice(0, 2).map((s) => s.trim()), [NAME, 'scim'], 'with its name and scope');
  t.equal((await row.locator('.badge').textContent())?.trim(), 'active');
  const html = await page.content();
  t.equal(html.split(secret).length - 1, 1, 'the secret appears exactly once in the page');
  const stored = app.repos.tokens.byName(NAME);
  t.ok(stored, 'stored');
  t.ok(stored && stored.expiresAt !== null && Math.abs(stored.expiresAt - Date.now() - 90 * 86_400_000) < 120_000, 'expires in 90 days');
  await screenshot(page, 'tokens');

  // shown once: opening the screen again does not show it
  await page.goto(TOKENS);
  t.equal(await page.locator('#new-token').count(), 0, 'not shown again on the next visit');
  t.notMatch(await page.content(), secret, 'the secret is nowhere in the page');
  t.equal(await page.locator('tr.token-row', { hasText: NAME }).count(), 1, 'still listed');
});

t.test('6b. revoke it through the confirm dialog', async (t) => {
  const row = page.locator('tr.token-row', { hasText: NAME });
  const revoke = row.getByRole('button', { name: 'Revoke' });
  t.equal(await revoke.count(), 1, 'a Revoke button on its row');
  await Promise.all([page.waitForURL((u) => u.pathname === TOKENS), page.waitForResponse((r) => r.url().includes('/revoke')), revoke.click()]);
  await page.waitForLoadState('load');
  t.equal(dialogs.length, 1, 'one dialog');
  t.equal(dialogs[0]?.type, 'confirm', 'a confirm dialog');
  t.match(dialogs[0]?.message, `Revoke the token ${NAME}?`, 'naming the token');
  t.equal((await row.locator('.badge').textContent())?.trim(), 'revoked', 'the token is shown revoked');
  t.equal(await row.getByRole('button', { name: 'Revoke' }).count(), 0, 'no Revoke button any more');
  t.match(await textOf(page, '.flash'), `Token "${NAME}" revoked`, 'a confirmation message');
  t.notOk(app.repos.tokens.byName(NAME)?.revokedAt === null, 'revoked in the database');
});

t.test('6c. both changes are at the top of the Logs', async (t) => {
  await page.goto(LOGS_PATH);
  const tokenEntries = app.database.sqlite.prepare("SELECT id, event FROM audit_log WHERE type = 'Token' AND target = ? ORDER BY id DESC").all(NAME) as { id: number; event: string }[];
  const top = await page.locator('tr[id^=log-]').evaluateAll((trs) =>
    trs.slice(0, 2).map((tr) => ({
      id: tr.id,
      event: tr.querySelector('td.col-event')?.textContent?.trim(),
      protocol: tr.querySelector('td.col-protocol')?.textContent?.trim(),
      log: tr.querySelector('td.col-log')?.textContent ?? '',
    })),
  );
  t.same(top.map((r) => eventName(r.event)), ['Revoke Token', 'Create Token'], 'the revoke, then the creation, are the two newest rows');
  t.same(top.map((r) => r.id), tokenEntries.map((r) => `log-${r.id}`), 'they are the entries of this token');
  const [revoke, create] = top as [(typeof top)[number], (typeof top)[number]];
  t.equal(revoke.protocol, 'WEB');
  t.match(revoke.log, `Revoked scim token "${NAME}"`, 'the revoke names the token');
  t.match(revoke.log, `By ${ADMIN.username} from 127.0.0.1`, 'and who did it');
  t.equal(create.protocol, 'WEB');
  t.match(create.log, `Created scim token "${NAME}"`, 'the creation names the token');
  t.notMatch(create.log + revoke.log, secret, 'the secret is not logged');
  t.notMatch(await page.content(), secret, 'the secret is nowhere on the Logs');

  const scim = await fetch(`${c.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${secret}` } });
  t.equal(scim.status, 401, 'the revoked token gets 401');
});

t.test('6d. dismissing the confirm dialog keeps the token', async (t) => {
  const created = app.settingsService.createToken({ name: 'keep-me' }, { name: 'test', protocol: 'CLI' });
  await page.goto(TOKENS);
  page.removeAllListeners('dialog');
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.dismiss();
  });
  const row = page.locator('tr.token-row', { hasText: 'keep-me' });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.waitForTimeout(300);
  t.match(asked, 'Revoke the token keep-me?', 'asked');
  t.equal(new URL(page.url()).pathname, TOKENS, 'still on the Tokens screen');
  t.equal((await row.locator('.badge').textContent())?.trim(), 'active', 'still active');
  t.equal(app.repos.tokens.byName('keep-me')?.revokedAt, null, 'not revoked');
  t.ok(created.token);
});

