// Test support for the admin console: a tiny browser (cookie jar, CSRF token from the last page,
// form posts) driving app.inject, and an app built with a signed-in-able administrator.
//
// Note on https: the session cookie is Secure when PUBLIC_URL is https, and @fastify/session only
// sends a Secure cookie when request.protocol is "https". app.inject always speaks plain http, so the
// console apps are built with TRUST_PROXY=true and the browser sends X-Forwarded-Proto: https, as a
// TLS-terminating reverse proxy would.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Signer } from '@fastify/cookie';
import { randomBytes } from 'node:crypto';
import { build, type Built, type TestContext } from './helper.js';
import { SESSION_COOKIE, type SessionPrincipal } from '../src/plugins/session.js';
import { sessionKey } from '../src/db/session-store.js';

export type Res = LightMyRequestResponse;

export const ADMIN = { username: 'admin', password: 'admin-password-123' } as const;
export const USER_AGENT = 'console-test/1.0';
export const CLIENT_IP = '203.0.113.7';
export const IAM = '/it-settings/iam';
export const LOGS = `${IAM}/logs`;
export const IAM_SCREENS = [IAM, `${IAM}/scim`, `${IAM}/tokens`, `${IAM}/active-directory`, `${IAM}/roles-mapping`, LOGS];

export interface ConsoleBuilt extends Built {
  /** a browser that is not signed in yet */
  browser(): Browser;
  /** a new browser signed in as the given user (default: the administrator) */
  signedIn(username?: string, password?: string): Promise<Browser>;
}

/** build() with a local administrator ADMIN (created through the admin service, as the CLI does). */
export async function buildConsole(
  t: TestContext,
  env: Record<string, string> = {},
  opts: { scim?: boolean; admin?: boolean } = {},
): Promise<ConsoleBuilt> {
  const built = await build(t, { TRUST_PROXY: 'true', ...env }, { scim: opts.scim });
  if (opts.admin !== false) await createAccount(built.app, ADMIN.username, ADMIN.password, 'Administrator');
  const browser = () => new Browser(built.app);
  const signedIn = async (username: string = ADMIN.username, password: string = ADMIN.password) => {
    const b = browser();
    const res = await b.signIn(username, password);
    if (res.statusCode !== 303) throw new Error(`sign-in of ${username} failed: ${res.statusCode} ${res.body.slice(0, 500)}`);
    return b;
  };
  return { ...built, browser, signedIn };
}

export function createAccount(app: FastifyInstance, username: string, password: string, role: string): Promise<string> {
  return app.admins.createAccount(username, password, role, { name: 'test', protocol: 'CLI' });
}

/** The value of the first hidden _csrf field of a page, else the token htmx sends (hx-headers). */
export function csrfOf(html: string): string | undefined {
  return /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? hxCsrfOf(html);
}

/** The CSRF token of the page's hx-headers attribute (what htmx sends as x-csrf-token). */
export function hxCsrfOf(html: string): string | undefined {
  return /hx-headers='\{"x-csrf-token": "([^"]*)"\}'/.exec(html)?.[1];
}

/** Form fields: a record, or name/value pairs when a name repeats (checkboxes of one name). */
export type FormFields = Record<string, string> | [string, string][];

export function formBody(fields: FormFields): string {
  return new URLSearchParams(fields).toString();
}

/** Parses one Set-Cookie header line: name, value and the attribute names (lower case) with values. */
export function parseSetCookie(line: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const [k = '', ...v] = a.trim().split('=');
    attrs.set(k.toLowerCase(), v.join('='));
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

export function setCookies(res: Res): string[] {
  const h = res.headers['set-cookie'];
  return h === undefined ? [] : Array.isArray(h) ? h : [String(h)];
}

export function sessionSetCookie(res: Res): ReturnType<typeof parseSetCookie> | undefined {
  return setCookies(res)
    .map(parseSetCookie)
    .find((c) => c.name === SESSION_COOKIE);
}

/** A minimal browser: keeps cookies, remembers the CSRF token of the last HTML page, follows nothing. */
export class Browser {
  readonly jar = new Map<string, string>();
  csrf: string | undefined;
  last: Res | undefined;

  constructor(
    readonly app: FastifyInstance,
    readonly opts: { https?: boolean; userAgent?: string; ip?: string } = {},
  ) {}

  get https(): boolean {
    return this.opts.https ?? (this.app.config.publicUrl?.startsWith('https://') ?? false);
  }

  /** the raw session cookie value (signed session id), if any */
  get sid(): string | undefined {
    return this.jar.get(SESSION_COOKIE);
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(o: InjectOptions): Promise<Res> {
    const headers: Record<string, string> = {
      'user-agent': this.opts.userAgent ?? USER_AGENT,
      'x-forwarded-for': this.opts.ip ?? CLIENT_IP,
      ...(this.https ? { 'x-forwarded-proto': 'https' } : {}),
      ...(this.jar.size > 0 ? { cookie: this.cookieHeader() } : {}),
      ...((o.headers as Record<string, string> | undefined) ?? {}),
    };
    const res = await this.app.inject({ ...o, headers } as InjectOptions);
    for (const line of setCookies(res)) {
      const c = parseSetCookie(line);
      const expires = c.attrs.get('expires');
      const gone = c.attrs.get('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now()) || c.value === '';
      if (gone) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    const token = csrfOf(res.body);
    if (token) this.csrf = token;
    this.last = res;
    return res;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<Res> {
    return this.request({ method: 'GET', url, headers });
  }

  /** A form post; the CSRF token of the last page is added unless `_csrf` is given (null: none). */
  post(url: string, fields: FormFields = {}, opts: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<Res> {
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf;
    const pairs = Array.isArray(fields) ? fields : Object.entries(fields);
    // a `_csrf` among the fields is sent as given, as when the fields were a record spread over it
    const body: [string, string][] = csrf === null || csrf === undefined || pairs.some(([k]) => k === '_csrf') ? pairs : [['_csrf', csrf], ...pairs];
    return this.request({
      method: 'POST',
      url,
      payload: formBody(body),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers ?? {}) },
    });
  }

  /** GET the page (for a fresh CSRF token), then post the form. */
  async submit(pageUrl: string, action: string, fields: Record<string, string>): Promise<Res> {
    const page = await this.get(pageUrl);
    if (page.statusCode !== 200) throw new Error(`GET ${pageUrl}: ${page.statusCode}`);
    return this.post(action, fields);
  }

  /** Follows local redirects (at most 5); returns the final response and the URL it came from. */
  async follow(res: Res): Promise<{ res: Res; url: string | undefined }> {
    let url: string | undefined;
    for (let i = 0; i < 5 && res.statusCode >= 300 && res.statusCode < 400; i++) {
      const location = String(res.headers.location ?? '');
      if (!location.startsWith('/') || location.startsWith('//')) return { res, url: location };
      url = location;
      res = await this.get(location);
    }
    return { res, url };
  }

  async signIn(username: string, password: string, next?: string): Promise<Res> {
    const page = await this.get(next === undefined ? '/login' : `/login?next=${encodeURIComponent(next)}`);
    if (page.statusCode !== 200) throw new Error(`GET /login: ${page.statusCode}`);
    const hiddenNext = /name="next" value="([^"]*)"/.exec(page.body)?.[1] ?? '';
    return this.post('/login', { username, password, next: decodeHtml(hiddenNext) });
  }
}

export function decodeHtml(s: string): string {
  return s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * A session written straight into the session store, for the one test that needs a signed-in
 * viewer while the audit log is still empty (signing in through /login writes a LOGIN entry).
 * Returns the cookie value a browser would hold.
 */
export function forgeSession(app: FastifyInstance, principal: SessionPrincipal): string {
  const secret = app.repos.settings.get('session_secret');
  if (!secret) throw new Error('no session secret yet');
  const sid = randomBytes(24).toString('base64url');
  const now = Date.now();
  const maxAge = app.config.SESSION_IDLE_MINUTES * 60_000;
  const data = {
    cookie: { originalMaxAge: maxAge, expires: new Date(now + maxAge).toISOString(), path: '/', httpOnly: true, sameSite: 'lax', secure: app.config.publicUrl?.startsWith('https://') ?? false },
    principal,
    signedInAt: now,
    lastSeenAt: now,
  };
  app.database.sqlite.prepare('INSERT INTO sessions (sid, data, expires_at) VALUES (?, ?, ?)').run(sessionKey(sid), JSON.stringify(data), now + maxAge);
  return encodeURIComponent(new Signer(secret, 'sha256').sign(sid));
}

/** The session row of a browser's cookie (unsigned id), for tests that age a session. */
export function sessionRow(app: FastifyInstance, browser: Browser): { sid: string; data: Record<string, unknown> } {
  const secret = app.repos.settings.get('session_secret')!;
  const raw = decodeURIComponent(browser.sid ?? '');
  const unsigned = new Signer(secret, 'sha256').unsign(raw);
  if (!unsigned.valid || unsigned.value === null) throw new Error('no valid session cookie');
  const row = app.database.sqlite.prepare('SELECT data FROM sessions WHERE sid = ?').get(sessionKey(unsigned.value)) as { data: string } | undefined;
  if (!row) throw new Error('no session row');
  return { sid: unsigned.value, data: JSON.parse(row.data) as Record<string, unknown> };
}

export function updateSession(app: FastifyInstance, browser: Browser, change: (data: Record<string, unknown>) => void): void {
  const { sid, data } = sessionRow(app, browser);
  change(data);
  app.database.sqlite.prepare('UPDATE sessions SET data = ? WHERE sid = ?').run(JSON.stringify(data), sessionKey(sid));
}

/** Audit rows after a given id (exclusive), oldest first. */
export function auditSince(app: FastifyInstance, afterId: number): Record<string, unknown>[] {
  return app.database.sqlite.prepare('SELECT * FROM audit_log WHERE id > ? ORDER BY id').all(afterId) as Record<string, unknown>[];
}

export function lastAuditId(app: FastifyInstance): number {
  return (app.database.sqlite.prepare('SELECT coalesce(max(id), 0) AS n FROM audit_log').get() as { n: number }).n;
}
