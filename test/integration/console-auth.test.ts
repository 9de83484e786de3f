// Console sign-in end to end: the sign-in form, cookie flags, session rotation, sign-out, the next=
// redirect and its open-redirect guard, the 403 page for users without the IAM permission, wrong
// passwords, unknown users and lockout. (Sessions, SCIM users, timeouts: console-sessions.test.ts.)
import { createHash } from 'node:crypto';
import { Signer } from '@fastify/cookie';
import t from 'tap';
import { auditRows } from '../helper.js';
import {
  ADMIN,
  Browser,
  CLIENT_IP,
  IAM_SCREENS,
  LOGS,
  USER_AGENT,
  auditSince,
  buildConsole,
  createAccount,
  lastAuditId,
  sessionSetCookie,
} from '../console-helper.js';

/** where a refused next= sends the user: the start page (which sends them on) or the Logs */
const SAFE_DEFAULT = ['/', LOGS];
const LOGIN_NEXT_LOGS = '/login?next=%2Fit-settings%2Fiam%2Flogs';

t.test('GET /login: the sign-in form', async (t) => {
  const { browser } = await buildConsole(t);
  const res = await browser().get('/login');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/html/);
  t.match(res.body, /<form[^>]*method="post"[^>]*action="\/login"/, 'posts to /login');
  t.match(res.body, /<input name="username"/, 'username field');
  t.match(res.body, /<input name="password" type="password"/, 'password field');
  t.match(res.body, /<input type="hidden" name="_csrf" value="[^"]+">/, 'CSRF token');
  t.match(res.body, /<input type="hidden" name="next" value="\/(it-settings\/iam\/logs)?">/, 'next defaults to the start page (or the Logs)');
});

t.test('sign-in without next: an administrator lands on the Logs, an employee on the profile', async (t) => {
  const { app, browser } = await buildConsole(t);
  await createAccount(app, 'erin', 'erin-password-123', 'Employee');
  const admin = browser();
  const { res, url } = await admin.follow(await admin.signIn(ADMIN.username, ADMIN.password));
  t.equal(url, LOGS);
  t.equal(res.statusCode, 200);
  const erin = browser();
  const landed = await erin.follow(await erin.signIn('erin', 'erin-password-123'));
  t.equal(landed.url, '/profile', 'no IAM permission: the profile, not a 403');
  t.equal(landed.res.statusCode, 200);
});

t.test('sign-in: 303 to next, session cookie flags, session id rotated', async (t) => {
  const { browser, app } = await buildConsole(t);
  const b = browser();
  const page = await b.get('/login');
  const before = sessionSetCookie(page);
  t.ok(before, 'the sign-in page starts a session (it holds the CSRF secret)');
  const beforeSid = b.sid;
  t.ok(beforeSid);

  const res = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next: '/it-settings/iam/scim' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/it-settings/iam/scim');
  const cookie = sessionSetCookie(res);
  t.ok(cookie, 'a session cookie is set at sign-in');
  t.ok(cookie!.attrs.has('httponly'), 'HttpOnly');
  t.equal(cookie!.attrs.get('samesite')?.toLowerCase(), 'lax', 'SameSite=Lax');
  t.ok(cookie!.attrs.has('secure'), 'Secure: PUBLIC_URL is https');
  t.equal(cookie!.attrs.get('path'), '/');
  t.not(b.sid, beforeSid, 'the session id changed at sign-in (no fixation)');

  // the pre-sign-in session is gone: its cookie grants nothing
  const fixated = new Browser(app);
  fixated.jar.set('iamtrail.sid', beforeSid!);
  const r = await fixated.get(LOGS);
  t.equal(r.statusCode, 302, 'the old session id is not signed in');
  t.equal(r.headers.location, LOGIN_NEXT_LOGS);

  const logs = await b.get('/it-settings/iam/scim');
  t.equal(logs.statusCode, 200, 'the new session is signed in');

  // the file holds the cookie's signing secret, but not the session id: a copy of it forges nothing
  const secret = app.repos.settings.get('session_secret')!;
  const sid = new Signer(secret, 'sha256').unsign(decodeURIComponent(b.sid!)).value!;
  const stored = app.database.sqlite.prepare('SELECT sid FROM sessions').pluck().all() as string[];
  t.notOk(stored.includes(sid), 'the session id is not stored');
  t.ok(stored.includes(createHash('sha256').update(sid).digest('base64url')), 'its SHA-256 is');
  for (const key of stored) {
    const forged = new Browser(app);
    forged.jar.set('iamtrail.sid', encodeURIComponent(new Signer(secret, 'sha256').sign(key)));
    t.equal((await forged.get(LOGS)).statusCode, 302, 'a cookie made from a stored row and the secret is not signed in');
  }

  const login = auditRows(app).filter((r) => r.action === 'LOGIN');
  t.equal(login.length, 1);
  t.match(login[0], { outcome: 'SUCCESS', principal: ADMIN.username, target: ADMIN.username, protocol: 'WEB', source_ip: CLIENT_IP, user_agent: USER_AGENT });
});

t.test('PUBLIC_URL http: the session cookie is not Secure', async (t) => {
  const { browser } = await buildConsole(t, { PUBLIC_URL: 'http://iam.example.test' });
  const b = browser();
  t.notOk(b.https);
  const res = await b.signIn(ADMIN.username, ADMIN.password);
  t.equal(res.statusCode, 303);
  const cookie = sessionSetCookie(res);
  t.ok(cookie);
  t.notOk(cookie!.attrs.has('secure'), 'no Secure flag over http');
  t.ok(cookie!.attrs.has('httponly'));
  t.equal(cookie!.attrs.get('samesite')?.toLowerCase(), 'lax');
  t.equal((await b.get(LOGS)).statusCode, 200);
});

t.test('PUBLIC_URL https reached over plain http (no TRUST_PROXY): the sign-in page says why sign-in cannot work', async (t) => {
  // TRUST_PROXY is false (the default; the README's Docker example sets only PUBLIC_URL): the app
  // sees plain http, and @fastify/session never sends a Secure cookie over it, so there is no
  // session and no CSRF secret: sign-in cannot work, and the page must say so rather than fail silently.
  const { app } = await buildConsole(t, { TRUST_PROXY: 'false' });
  const b = new Browser(app, { https: false });
  const page = await b.get('/login');
  t.equal(page.statusCode, 200);
  t.notOk(sessionSetCookie(page), 'no (Secure) cookie over http');
  t.match(page.body, /configured for https:\/\/iam\.example\.test \(https\) but was reached over http/, 'explains the mismatch');
  t.match(page.body, /TRUST_PROXY=true/, 'and names the setting behind a reverse proxy');
  const res = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next: LOGS });
  t.equal(res.statusCode, 403, 'a post without a session is refused (CSRF)');

  // over https (the proxy forwards the scheme and TRUST_PROXY is on) there is no such message
  const ok = await buildConsole(t);
  const page2 = await ok.browser().get('/login');
  t.notMatch(page2.body, /was reached over http/);
});

t.test('sign-out: 303 to /login, LOGOUT entry, the old cookie no longer grants access', async (t) => {
  const { signedIn, app } = await buildConsole(t);
  const b = await signedIn();
  const page = await b.get(LOGS);
  t.match(page.body, /<form method="post" action="\/logout"><input type="hidden" name="_csrf" value="[^"]+">/, 'the menu has a sign-out form');
  const oldSid = b.sid!;
  const mark = lastAuditId(app);
  const res = await b.post('/logout');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login');
  const rows = auditSince(app, mark);
  t.equal(rows.length, 1);
  t.match(rows[0], { action: 'LOGOUT', outcome: 'SUCCESS', principal: ADMIN.username, target: ADMIN.username, protocol: 'WEB', source_ip: CLIENT_IP, user_agent: USER_AGENT });
  t.match(rows[0]!.log, /"admin" signed out/);

  const replay = new Browser(app);
  replay.jar.set('iamtrail.sid', oldSid);
  const r = await replay.get(LOGS);
  t.equal(r.statusCode, 302, 'the replayed cookie is not signed in');
  t.equal(r.headers.location, LOGIN_NEXT_LOGS);
  const h = await replay.get(LOGS, { 'hx-request': 'true' });
  t.equal(h.statusCode, 401, 'htmx request: 401');
  t.equal(h.headers['hx-redirect'], LOGIN_NEXT_LOGS, 'with HX-Redirect to the sign-in page');
});

t.test('signed out: a screen redirects to /login?next=…, and sign-in lands there', async (t) => {
  const { browser } = await buildConsole(t);
  const b = browser();
  const res = await b.get(LOGS);
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, LOGIN_NEXT_LOGS);
  const page = await b.get(res.headers.location as string);
  t.equal(page.statusCode, 200);
  t.match(page.body, /name="next" value="\/it-settings\/iam\/logs"/);
  const signed = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next: '/it-settings/iam/logs' });
  t.equal(signed.statusCode, 303);
  t.equal(signed.headers.location, LOGS);
  const logs = await b.get(LOGS);
  t.equal(logs.statusCode, 200);
  t.match(logs.body, /<title>Logs · iamtrail<\/title>/);

  // a query string survives the round trip
  const b2 = browser();
  const r2 = await b2.get(`${LOGS}?before=5`);
  t.equal(r2.headers.location, `/login?next=${encodeURIComponent(`${LOGS}?before=5`)}`);
  const s2 = await b2.signIn(ADMIN.username, ADMIN.password, `${LOGS}?before=5`);
  t.equal(s2.headers.location, `${LOGS}?before=5`);

  // an already signed-in user who opens /login goes straight to next
  const again = await b.get('/login?next=%2Fit-settings%2Fiam%2Ftokens');
  t.equal(again.statusCode, 302);
  t.equal(again.headers.location, '/it-settings/iam/tokens');
});

t.test('a trailing or doubled slash in a console URL reaches the same screen; the sign-in redirect stays local', async (t) => {
  const { browser, signedIn } = await buildConsole(t);
  const b = await signedIn();
  for (const url of [`${LOGS}/`, '/it-settings//iam/logs', `${LOGS}/?before=5`]) {
    const res = await b.get(url);
    t.equal(res.statusCode, 200, `GET ${url}`);
    t.match(res.body, /<title>Logs · iamtrail<\/title>/);
  }
  // the static files still serve under these router options (@fastify/static reads the raw URL, so
  // a doubled slash inside /public/ is refused there, as it was before)
  const css = await b.get('/public/css/console.css');
  t.equal(css.statusCode, 200, 'a static file');
  t.match(css.headers['content-type'], /^text\/css/);
  t.equal((await b.get('/login/')).statusCode, 302, 'signed in, /login/ is /login: on to the start');

  // signed out, //it-settings/iam/logs is the Logs screen: its next= is "//…", which the guard refuses
  const out = browser();
  const res = await out.get('//it-settings/iam/logs');
  t.equal(res.statusCode, 302);
  t.equal(res.headers.location, `/login?next=${encodeURIComponent('//it-settings/iam/logs')}`);
  const page = await out.get(res.headers.location as string);
  t.match(page.body, /name="next" value="\/"/, 'the form does not carry a protocol-relative next');
  const signed = await out.signIn(ADMIN.username, ADMIN.password, '//it-settings/iam/logs');
  t.ok(SAFE_DEFAULT.includes(String(signed.headers.location)), `a local default (${signed.headers.location})`);
});

t.test('open-redirect guard: next must be a local path', async (t) => {
  const { browser } = await buildConsole(t);
  // the last two normalise to "//evil.example/x" ("." and ".." segments): protocol-relative once in Location
  for (const next of ['//evil.example', '//evil.example/it-settings/iam/logs', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '', '/.//evil.example/x', '/a/..//evil.example/x']) {
    const b = browser();
    const page = await b.get(`/login?next=${encodeURIComponent(next)}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, /name="next" value="\/(it-settings\/iam\/logs)?"/, `the form does not carry ${JSON.stringify(next)}`);
    // posting the hostile value directly is refused too
    const res = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next });
    t.equal(res.statusCode, 303);
    t.ok(SAFE_DEFAULT.includes(String(res.headers.location)), `next=${JSON.stringify(next)}: a local default (${res.headers.location})`);
    const { url } = await b.follow(res);
    t.equal(url, LOGS, `next=${JSON.stringify(next)} ends on the Logs`);
  }

  // browsers drop ASCII tab and newline from URLs (WHATWG URL parser): "/\t/evil.example" is "//evil.example"
  for (const next of ['/\t/evil.example', '/\t\t/evil.example']) {
    const b = browser();
    await b.get('/login');
    const res = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next });
    t.equal(res.statusCode, 303);
    t.ok(SAFE_DEFAULT.includes(String(res.headers.location)), `next=${JSON.stringify(next)}: a local default, not ${JSON.stringify(res.headers.location)}`);
    const again = await b.get(`/login?next=${encodeURIComponent(next)}`);
    t.ok(SAFE_DEFAULT.includes(String(again.headers.location)), `signed in, GET /login?next=${JSON.stringify(next)}: a local default, not ${JSON.stringify(again.headers.location)}`);
  }
  for (const next of ['/\n/evil.example', '/\r\n/evil.example']) {
    const b = browser();
    await b.get('/login');
    const res = await b.post('/login', { username: ADMIN.username, password: ADMIN.password, next });
    t.equal(res.statusCode, 303, `next=${JSON.stringify(next)}: a redirect, not a server error`);
  }
});

t.test('a user without the IAM permission gets a 403 page on every IAM screen, with no log content', async (t) => {
  const { app, browser } = await buildConsole(t);
  await createAccount(app, 'erin', 'erin-password-123', 'Employee');
  const b = browser();
  const res = await b.signIn('erin', 'erin-password-123');
  t.equal(res.statusCode, 303);
  for (const url of [...IAM_SCREENS, '/it-settings/accounts', `${LOGS}?before=3`]) {
    const r = await b.get(url);
    t.equal(r.statusCode, 403, `${url}: 403`);
    t.match(r.headers['content-type'], /^text\/html/);
    t.match(r.body, /403 Forbidden/);
    t.match(r.body, /IT Settings IAM/, 'names the missing permission');
    t.notMatch(r.body, /log-rows|log-table|class="col-log"/, 'no log table');
    t.notMatch(r.body, /signed in \(local account\)|Create Account|Enable SCIM/, 'no audit entry text');
  }
  const frag = await b.get(LOGS, { 'hx-request': 'true' });
  t.equal(frag.statusCode, 403, 'the htmx fragment is refused too');
  t.notMatch(frag.body, /<tr id="log-/);
  // they can still open their profile
  t.equal((await b.get('/profile')).statusCode, 200);
});

t.test('wrong password: 401 page with a generic message; unknown user: same message, "unknown user" in the log', async (t) => {
  const { browser, app } = await buildConsole(t);
  const b = browser();
  const mark = lastAuditId(app);
  const res = await b.signIn(ADMIN.username, 'not-the-password');
  t.equal(res.statusCode, 401);
  t.match(res.body, /Wrong username or password/);
  t.match(res.body, /name="username"[^>]*value="admin"/, 'the username is kept in the form');
  t.notMatch(res.body, /not-the-password/, 'the password is not echoed');
  t.equal((await b.get(LOGS)).statusCode, 302, 'not signed in');

  const unknown = await b.signIn('nobody', 'whatever-password');
  t.equal(unknown.statusCode, 401);
  t.match(unknown.body, /Wrong username or password/, 'no hint that the user does not exist');

  const rows = auditSince(app, mark).filter((r) => r.action === 'LOGIN');
  t.equal(rows.length, 2);
  t.match(rows[0], { outcome: 'FAILURE', principal: 'admin', target: 'admin', source_ip: CLIENT_IP, user_agent: USER_AGENT });
  t.match(rows[0]!.log, /wrong password/);
  t.match(rows[1], { outcome: 'FAILURE', principal: 'nobody', target: 'nobody', source_ip: CLIENT_IP, user_agent: USER_AGENT });
  t.match(rows[1]!.log, /Sign-in failed for "nobody": unknown user/);
  t.notMatch(JSON.stringify(auditRows(app)), /not-the-password|whatever-password/, 'passwords are never logged');
});

t.test('lockout after LOCKOUT_THRESHOLD failures; refused even with the right password; unlocks', async (t) => {
  const { browser, app } = await buildConsole(t, { LOCKOUT_THRESHOLD: '3' });
  const b = browser();
  const mark = lastAuditId(app);
  const r1 = await b.signIn(ADMIN.username, 'wrong-1');
  const r2 = await b.signIn(ADMIN.username, 'wrong-2');
  t.equal(r1.statusCode, 401);
  t.equal(r2.statusCode, 401);
  t.match(r2.body, /Wrong username or password/);
  const r3 = await b.signIn(ADMIN.username, 'wrong-3');
  t.equal(r3.statusCode, 401);
  t.match(r3.body, /Too many failed attempts: this account is locked for 15 minutes/);

  const right = await b.signIn(ADMIN.username, ADMIN.password);
  t.equal(right.statusCode, 401, 'the right password is refused while locked');
  t.match(right.body, /This account is locked: try again in 15 minutes/);
  // the lock is by name, case-insensitively
  const upper = await b.signIn('ADMIN', ADMIN.password);
  t.equal(upper.statusCode, 401, 'also under another spelling');
  t.equal((await b.get(LOGS)).statusCode, 302, 'not signed in');

  const rows = auditSince(app, mark);
  const count = (action: string, outcome?: string) => rows.filter((r) => r.action === action && (outcome === undefined || r.outcome === outcome)).length;
  t.equal(count('LOGIN', 'FAILURE'), 5, '3 failures + 2 refused attempts');
  t.equal(count('LOGIN', 'SUCCESS'), 0);
  t.equal(count('INCREMENT_FAIL_AUTH_COUNT'), 3);
  t.equal(count('USER_ACCOUNT_LOCKED'), 1);
  for (const r of rows) {
    t.ok(r.principal, `${r.action}: principal set`);
    t.ok(r.target, `${r.action}: target set`);
    t.equal(r.source_ip, CLIENT_IP, `${r.action}: source_ip`);
    t.equal(r.user_agent, USER_AGENT, `${r.action}: user_agent`);
    t.equal(r.protocol, 'WEB');
  }
  const counts = rows.filter((r) => r.action === 'INCREMENT_FAIL_AUTH_COUNT').map((r) => /Failed sign-in (\d) of 3/.exec(String(r.log))?.[1]);
  t.same(counts, ['1', '2', '3']);
  const locked = rows.find((r) => r.action === 'USER_ACCOUNT_LOCKED')!;
  t.match(locked.log, /Locked "admin" for 15 minutes after 3 failed sign-ins/);
  t.match(rows.filter((r) => r.action === 'LOGIN').at(-1)!.log, /account locked/);

  // the lock expires (instead of waiting: move locked_until into the past)
  app.database.sqlite.prepare('UPDATE sign_in_failures SET locked_until = 0').run();
  const after = await b.signIn(ADMIN.username, ADMIN.password);
  t.equal(after.statusCode, 303, 'signs in once the lock has expired');
  t.equal((await b.get(LOGS)).statusCode, 200);
  t.equal((app.database.sqlite.prepare('SELECT count(*) AS n FROM sign_in_failures').get() as { n: number }).n, 0, 'a success clears the counter');
});

t.test('lockout counts failures within LOCKOUT_WINDOW_MINUTES only', async (t) => {
  const { browser, app } = await buildConsole(t, { LOCKOUT_THRESHOLD: '3', LOCKOUT_WINDOW_MINUTES: '15' });
  const b = browser();
  await b.signIn(ADMIN.username, 'wrong-1');
  await b.signIn(ADMIN.username, 'wrong-2');
  // the first two failures fall out of the window
  app.database.sqlite.prepare('UPDATE sign_in_failures SET window_start = ?').run(Date.now() - 16 * 60_000);
  const mark = lastAuditId(app);
  const third = await b.signIn(ADMIN.username, 'wrong-3');
  t.match(third.body, /Wrong username or password/, 'not locked: a new window started');
  t.match(auditSince(app, mark).find((r) => r.action === 'INCREMENT_FAIL_AUTH_COUNT')?.log, /Failed sign-in 1 of 3/);
  t.notOk(auditSince(app, mark).some((r) => r.action === 'USER_ACCOUNT_LOCKED'));
  t.equal((await b.signIn(ADMIN.username, ADMIN.password)).statusCode, 303);
});

t.test('no administrator yet: the sign-in page says how to create one', async (t) => {
  const { browser } = await buildConsole(t, {}, { admin: false });
  const res = await browser().get('/login');
  t.equal(res.statusCode, 200);
  t.match(res.body, /No administrator exists yet/);
  t.match(res.body, /npx iamtrail admin create --username admin --password-stdin/);
});
