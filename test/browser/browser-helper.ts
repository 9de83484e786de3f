// Browser test support: the real app listening on a real port, driven by Debian's Chromium through
// playwright-core (never `playwright install`). Each test file gets its own app, database and
// browser, closed in teardown.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { build, type Built, type TestContext } from '../helper.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

export const ADMIN = { username: 'admin', password: 'correct-horse-battery' } as const;
export const EMPLOYEE = { username: 'employee', password: 'staple-battery-horse' } as const;
export const LOGS_PATH = '/it-settings/iam/logs';

/** The page's own content: main.content in the console layout, the body on the sign-in page. */
export const CONTENT = ':is(main.content, body:not(:has(main.content)))';

export const BUG_LAYOUT =
  'bug: views/layouts/console.eta calls layout("../layouts/base", it) with its own `it`, which carries the page body; ' +
  'Eta 4 spreads layoutData after `body`, so base.eta prints the page body and the console layout (menu, breadcrumb, ' +
  'flash messages, sign-out) is lost on every console page';

/** test-results/ at the repository root (git-ignored) */
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

export interface Console extends Built {
  /** http://127.0.0.1:<port> */
  base: string;
  browser: Browser;
  /** a fresh browser context (own cookies) with one page, 1400×900 unless told */
  newPage(opts?: { width?: number; height?: number }): Promise<{ context: BrowserContext; page: Page }>;
}

/**
 * Builds the app (SCIM enabled, one SCIM token), creates the admin and an Employee, listens on an
 * ephemeral port and launches Chromium. PUBLIC_URL is http so the session cookie is not Secure.
 */
export async function startConsole(t: TestContext): Promise<Console> {
  const built = await build(t, { PUBLIC_URL: 'http://127.0.0.1' });
  const { app } = built;
  const cli = { name: 'test', protocol: 'CLI' as const };
  await app.admins.createAccount(ADMIN.username, ADMIN.password, 'Administrator', cli);
  await app.admins.createAccount(EMPLOYEE.username, EMPLOYEE.password, 'Employee', cli);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
  const base = `http://127.0.0.1:${address.port}`;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.teardown(() => browser.close());
  mkdirSync(RESULTS_DIR, { recursive: true });

  const newPage = async (opts: { width?: number; height?: number } = {}) => {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 900 }, baseURL: base });
    context.setDefaultTimeout(5_000);
    context.setDefaultNavigationTimeout(15_000);
    const page = await context.newPage();
    return { context, page };
  };
  return { ...built, base, browser, newPage };
}

/** Signs in through the form at /login and waits for the redirect away from /login. */
export async function signIn(page: Page, who: { username: string; password: string }, path = '/login'): Promise<void> {
  await page.goto(path);
  await page.locator('form input[name=username]').fill(who.username);
  await page.locator('form input[name=password]').fill(who.password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.locator('form button[type=submit]').click()]);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = `${RESULTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true, timeout: 30_000 });
  return path;
}

/** trimmed text of the first match, or null at once when nothing matches (no waiting) */
export async function textOf(page: Page, selector: string): Promise<string | null> {
  return page.evaluate((sel) => document.querySelector(sel)?.textContent?.trim() ?? null, selector);
}

/** an Event cell's text without the red-flag marker (⚑) that may precede it */
export function eventName(text: string | null | undefined): string {
  return (text ?? '').replace(/^\s*⚑\s*/, '').trim();
}

export async function css(locator: Locator, property: string): Promise<string> {
  return locator.evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), property);
}

/** rgb(29, 78, 216) → [29, 78, 216] */
export function rgb(color: string): [number, number, number] {
  const m = /rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/.exec(color);
  if (!m) throw new Error(`not an rgb() color: ${color}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** blue clearly dominates red and green */
export function isBlueish(color: string): boolean {
  const [r, g, b] = rgb(color);
  return b >= 120 && b - r >= 60 && b - g >= 40;
}

/** ids of the rendered log rows, in document order */
export async function logRowIds(page: Page): Promise<number[]> {
  return page.locator('tr[id^=log-]').evaluateAll((rows) => rows.map((r) => Number(r.id.slice('log-'.length))));
}

/** ids of all audit entries, newest first */
export function auditIdsDesc(app: FastifyInstance): number[] {
  return (app.database.sqlite.prepare('SELECT id FROM audit_log ORDER BY id DESC').all() as { id: number }[]).map((r) => r.id);
}

/**
 * Scrolls the Logs table down with the mouse wheel until "End of log" shows, waiting after each
 * step for htmx to append the next rows. Returns the number of wheel steps.
 */
export async function scrollToEndOfLog(page: Page, maxSteps = 60): Promise<number> {
  const viewport = page.viewportSize() ?? { width: 1400, height: 900 };
  await page.mouse.move(viewport.width / 2, viewport.height / 2);
  for (let step = 1; step <= maxSteps; step++) {
    if ((await page.locator('tr.log-end').count()) > 0) return step - 1;
    const before = await page.locator('tr[id^=log-]').count();
    await page.mouse.wheel(0, 4000);
    // rows arrived (or the end), and no htmx request is still in flight; a step that revealed
    // nothing new yet is followed by another wheel step
    await page
      .waitForFunction(
        (n) => (document.querySelectorAll('tr[id^=log-]').length > n || document.querySelector('tr.log-end') !== null) && document.querySelector('.htmx-request') === null,
        before,
        { timeout: 3_000, polling: 50 },
      )
      .catch(() => undefined);
  }
  throw new Error(`no "End of log" after ${maxSteps} wheel steps`);
}
