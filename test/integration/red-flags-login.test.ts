// Red flags — the sign-in rules: login-brute-force (appended entries and the real console sign-in
// form), login-success-after-failures, login-new-origin, login-unusual-hours and
// impersonation-without-ticket. Each rule: a sequence that must raise it, and near misses that must not.
import t from 'tap';
import { build } from '../helper.js';
import { ADMIN, CLIENT_IP, buildConsole, createAccount } from '../console-helper.js';
import { BASE, HOUR, MIN, adder, flagsOf, fresh, idsWhere, linked, setContext, theFlag, utc, type Entry } from '../red-flags-helper.js';

const WED = (h: number, m = 0) => Date.UTC(2026, 0, 14, h, m);
const SATURDAY = (h: number, m = 0) => Date.UTC(2026, 0, 17, h, m);

/** sign-in entries: a Session over the web */
const add = adder({ type: 'Session', protocol: 'WEB' });

const fail = (target: string, ts: number, sourceIp = '198.51.100.9'): Entry => ({ ts, action: 'LOGIN', outcome: 'FAILURE', event: 'Sign In', principal: target, target, sourceIp });
const success = (target: string, ts: number, sourceIp: string | null = '192.0.2.10', country: string | null = null): Entry => ({
  ts,
  action: 'LOGIN',
  outcome: 'SUCCESS',
  event: 'Sign In',
  principal: target,
  target,
  sourceIp,
  country,
});

// ─── login-brute-force ───────────────────────────────────────────────────────────────────────────

t.test('login-brute-force: 5 failures within 10 minutes raise it; the lock then refreshes it', async (t) => {
  const app = await fresh(t);
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) ids.push(add(app, fail('alice', BASE + i * 2 * MIN)));
  t.equal(flagsOf(app, 'login-brute-force').length, 0, '4 failures: not yet');
  ids.push(add(app, fail('alice', BASE + 8 * MIN, '198.51.100.77')));
  let flag = theFlag(t, app, 'login-brute-force', 'high', ids);
  t.equal(flag.subject, 'alice');
  t.equal(flag.title, '5 failed sign-ins for "alice" in 10 minutes');
  t.match(flag.explanation, '5 LOGIN FAILURE entries for "alice" within 10 minutes, the last from 198.51.100.77');
  t.match(flag.explanation, 'No USER_ACCOUNT_LOCKED followed');

  // the lock follows: same flag, its story says so
  const lock = add(app, { ts: BASE + 8 * MIN + 1000, action: 'USER_ACCOUNT_LOCKED', principal: 'alice', target: 'alice' });
  flag = flagsOf(app, 'login-brute-force')[0]!;
  t.equal(flagsOf(app, 'login-brute-force').length, 1, 'still one flag');
  t.equal(flag.title, '5 failed sign-ins for "alice" — account locked');
  t.match(flag.explanation, `USER_ACCOUNT_LOCKED followed at ${utc(BASE + 8 * MIN + 1000)}`);
  t.same(linked(app, flag.id), [...ids, lock]);
  t.equal(flag.entry_count, 6);
  t.equal(flag.severity, 'medium', 'the lock stopped the burst: medium');

  // another failure after the lock: counted, and the lock is named in the explanation
  const sixth = add(app, fail('alice', BASE + 9 * MIN));
  flag = flagsOf(app, 'login-brute-force')[0]!;
  t.equal(flag.title, '6 failed sign-ins for "alice" in 10 minutes');
  t.match(flag.explanation, 'USER_ACCOUNT_LOCKED followed.');
  t.equal(flag.severity, 'medium', 'locked: medium');
  t.same(linked(app, flag.id), [...ids, lock, sixth]);
});

t.test('login-brute-force: the letter case of the username opens no second flag for the same account', async (t) => {
  const app = await fresh(t);
  const ids: number[] = [];
  for (const [i, name] of ['victim', 'Victim', 'VICTIM', 'vIctim', 'victiM', 'Victim', 'VICTIM'].entries()) ids.push(add(app, fail(name, BASE + i * MIN)));
  const flags = flagsOf(app, 'login-brute-force');
  t.equal(flags.length, 1, 'one flag for the account, whatever the case of each attempt');
  t.equal(flags[0]!.subject, 'victim');
  t.same(linked(app, flags[0]!.id), ids, 'every attempt linked to it');
  ids.push(add(app, success('VICTIM', BASE + 8 * MIN)));
  t.equal(flagsOf(app, 'login-success-after-failures').length, 1);
  t.equal(flagsOf(app, 'login-success-after-failures')[0]!.subject, 'victim');
});

t.test('an open flag links a new burst: failures under the threshold again, and failures that only a success raises on', async (t) => {
  const app = await fresh(t);
  const first: number[] = [];
  for (let i = 0; i < 5; i++) first.push(add(app, fail('bob', BASE + i * MIN)));
  const brute = flagsOf(app, 'login-brute-force')[0]!;
  const later = BASE + 24 * HOUR;
  const burst: number[] = [];
  for (let i = 0; i < 5; i++) burst.push(add(app, fail('bob', later + i * MIN)));
  t.equal(flagsOf(app, 'login-brute-force').length, 1, 'the open flag is refreshed, not doubled');
  t.same(linked(app, brute.id), [...first, ...burst], 'the four failures of the next day, under the threshold, are linked with the fifth');

  const f1 = [0, 1, 2].map((i) => add(app, fail('carol', BASE + i * MIN)));
  const s1 = add(app, success('carol', BASE + 3 * MIN));
  const f2 = [0, 1, 2].map((i) => add(app, fail('carol', later + i * MIN)));
  const s2 = add(app, success('carol', later + 3 * MIN));
  const saf = flagsOf(app, 'login-success-after-failures');
  t.equal(saf.length, 1);
  t.same(linked(app, saf[0]!.id), [...f1, s1, ...f2, s2], 'the failures before the second success are linked too');
});

t.test('login-brute-force: a wall of failures on one account is counted up to 1000 and each failure linked once', async (t) => {
  const app = await fresh(t);
  const ids: number[] = [];
  for (let i = 0; i < 1005; i++) ids.push(add(app, fail('target', BASE + i * 500)));
  // theFlag: all 1005 linked, entry_count 1005
  const flag = theFlag(t, app, 'login-brute-force', 'high', ids);
  t.equal(flag.title, '1000+ failed sign-ins for "target" in 10 minutes', 'the count stops at 1000');
  t.match(flag.explanation, '1000+ LOGIN FAILURE entries for "target" within 10 minutes');
});

t.test('login-brute-force: near misses', async (t) => {
  const app = await fresh(t);
  // 4 failures only
  for (let i = 0; i < 4; i++) add(app, fail('bob', BASE + i * MIN));
  // 5 failures, the first 10 minutes and 1 ms before the last: outside the window
  for (const m of [0, 7, 8, 9]) add(app, fail('carl', BASE + m * MIN));
  add(app, fail('carl', BASE + 10 * MIN + 1));
  // 5 failures spread over 5 different users
  for (const u of ['u1', 'u2', 'u3', 'u4', 'u5']) add(app, fail(u, BASE));
  // 5 sign-ins that succeeded
  for (let i = 0; i < 5; i++) add(app, success('dora', BASE + i * MIN));
  // a lock without enough failures before it
  add(app, { ts: BASE + 5 * MIN, action: 'USER_ACCOUNT_LOCKED', principal: 'bob', target: 'bob' });
  t.same(flagsOf(app, 'login-brute-force'), []);

  // exactly 10 minutes apart is still inside (the window includes its start)
  const edge = await fresh(t);
  for (const m of [0, 7, 8, 9, 10]) add(edge, fail('erik', BASE + m * MIN));
  t.equal(flagsOf(edge, 'login-brute-force').length, 1, '5 failures in exactly 10 minutes raise it');
});

t.test('login-brute-force through the console sign-in form: the failed burst and the lock; a name typed in several cases', async (t) => {
  const { app, browser } = await buildConsole(t, {}, { scim: false });
  const b = browser();
  const responses = [];
  for (let i = 0; i < 4; i++) responses.push(await b.signIn(ADMIN.username, `wrong-password-${i}`));
  t.same(
    responses.map((r) => r.statusCode),
    [401, 401, 401, 401],
  );
  t.equal(flagsOf(app, 'login-brute-force').length, 0, '4 failed sign-ins: no flag');

  const fifth = await b.signIn(ADMIN.username, 'wrong-password-5');
  t.equal(fifth.statusCode, 401);
  t.match(fifth.body, /Too many failed attempts: this account is locked for 15 minutes/, 'the fifth locks the account (LOCKOUT_THRESHOLD 5)');
  const failures = idsWhere(app, "action = 'LOGIN' AND outcome = 'FAILURE'");
  const lock = (app.database.sqlite.prepare("SELECT id FROM audit_log WHERE action = 'USER_ACCOUNT_LOCKED'").get() as { id: number }).id;
  t.equal(failures.length, 5);
  let flag = theFlag(t, app, 'login-brute-force', null, [...failures, lock]);
  t.equal(flag.severity, 'medium', 'the burst was stopped by the lock: medium');
  t.equal(flag.subject, ADMIN.username);
  t.equal(flag.title, `5 failed sign-ins for "${ADMIN.username}" — account locked`, 'the title mentions the lock');
  t.match(flag.explanation, `5 failed sign-ins for "${ADMIN.username}" within 10 minutes; USER_ACCOUNT_LOCKED followed`);

  // the right password while locked: refused, another LOGIN FAILURE, and the flag says the lock held
  const right = await b.signIn(ADMIN.username, ADMIN.password);
  t.equal(right.statusCode, 401);
  t.match(right.body, /This account is locked/);
  flag = flagsOf(app, 'login-brute-force')[0]!;
  t.equal(flagsOf(app, 'login-brute-force').length, 1, 'the same flag');
  t.equal(flag.title, `6 failed sign-ins for "${ADMIN.username}" in 10 minutes`);
  t.match(flag.explanation, `the last from ${CLIENT_IP}. USER_ACCOUNT_LOCKED followed.`);
  t.equal(flag.severity, 'medium');
  t.equal(flag.entry_count, 7);
  t.equal(flagsOf(app, 'login-success-after-failures').length, 0, 'no success: no success-after-failures flag');

  // another account, its name typed in five spellings: the lockout counts them as one account
  await createAccount(app, 'operator', 'operator-password-123', 'Administrator');
  const names = ['operator', 'Operator', 'OPERATOR', 'oPerator', 'opErator'];
  const last = [];
  for (const name of names) last.push(await b.signIn(name, 'wrong-password'));
  t.match(last.at(-1)!.body, /Too many failed attempts: this account is locked/, 'the lockout counts the name case-insensitively');
  t.equal(
    flagsOf(app, 'login-brute-force').filter((f) => f.subject.toLowerCase() === 'operator').length,
    1,
    '5 failed sign-ins for one account, which the lock already counted: flagged',
  );
});

t.test('login-brute-force: failures that name the account only as principal (an ingested event without targetUser)', async (t) => {
  const app = await fresh(t);
  for (let i = 0; i < 5; i++) add(app, { ts: BASE + i * MIN, action: 'LOGIN', outcome: 'FAILURE', principal: 'zoe', target: null, sourceIp: '198.51.100.9' });
  t.equal(flagsOf(app, 'login-brute-force').length, 1, '5 failures of "zoe": flagged');
});

// ─── login-success-after-failures ────────────────────────────────────────────────────────────────

t.test('login-success-after-failures: 3 failures then a success within 15 minutes', async (t) => {
  const app = await fresh(t);
  const ids = [add(app, fail('bob', BASE)), add(app, fail('bob', BASE + MIN)), add(app, fail('bob', BASE + 2 * MIN))];
  const ok = add(app, success('bob', BASE + 5 * MIN, '203.0.113.99'));
  const flag = theFlag(t, app, 'login-success-after-failures', 'high', [...ids, ok]);
  t.equal(flag.subject, 'bob');
  t.equal(flag.title, '"bob" signed in after 3 failures');
  t.equal(flag.explanation, `LOGIN SUCCESS for "bob" from 203.0.113.99 at ${utc(BASE + 5 * MIN)}, after 3 failed attempts within 15 minutes.`);
});

t.test('login-success-after-failures: near misses', async (t) => {
  const app = await fresh(t);
  // 2 failures then a success
  add(app, fail('bob', BASE));
  add(app, fail('bob', BASE + MIN));
  add(app, success('bob', BASE + 2 * MIN));
  // 3 failures, the first 15 minutes and 1 ms before the success
  add(app, fail('carl', BASE));
  add(app, fail('carl', BASE + 10 * MIN));
  add(app, fail('carl', BASE + 11 * MIN));
  add(app, success('carl', BASE + 15 * MIN + 1));
  // 3 failures for someone else, then a success for dora
  for (let i = 0; i < 3; i++) add(app, fail('eve', BASE + i * MIN));
  add(app, success('dora', BASE + 4 * MIN));
  // 3 failures and no success
  for (let i = 0; i < 3; i++) add(app, fail('finn', BASE + i * MIN));
  t.same(flagsOf(app, 'login-success-after-failures'), []);
});

// ─── login-new-origin ────────────────────────────────────────────────────────────────────────────

t.test('login-new-origin: the first sign-in never flags, the same IP again neither, a new IP and country do', async (t) => {
  const app = await fresh(t);
  add(app, success('carol', BASE, '198.51.100.1', 'DE'));
  t.equal(flagsOf(app, 'login-new-origin').length, 0, 'first sign-in of carol: no flag');
  add(app, success('carol', BASE + HOUR, '198.51.100.1', 'de'));
  t.equal(flagsOf(app, 'login-new-origin').length, 0, 'same IP and country (any case): no flag');
  add(app, success('Carol', BASE + 2 * HOUR, '198.51.100.1', 'DE'));
  t.equal(flagsOf(app, 'login-new-origin').length, 0, 'the user name is compared case-insensitively');
  add(app, fail('carol', BASE + 3 * HOUR, '203.0.113.50'));
  t.equal(flagsOf(app, 'login-new-origin').length, 0, 'a failed sign-in from elsewhere: no flag');

  const third = add(app, success('carol', BASE + 4 * HOUR, '203.0.113.50', 'FR'));
  const flag = theFlag(t, app, 'login-new-origin', 'high', [third]);
  t.equal(flag.subject, 'carol|country FR,IP address 203.0.113.50');
  t.equal(flag.title, '"carol" signed in from a new country FR and IP address 203.0.113.50');
  t.equal(flag.explanation, `LOGIN SUCCESS for "carol" at ${utc(BASE + 4 * HOUR)} from a country FR and a IP address 203.0.113.50 not seen for this user before.`);

  // a new IP in a known country: a separate, medium flag
  const fourth = add(app, success('carol', BASE + 5 * HOUR, '198.51.100.2', 'DE'));
  const flags = flagsOf(app, 'login-new-origin');
  t.equal(flags.length, 2);
  t.equal(flags[1]!.subject, 'carol|IP address 198.51.100.2');
  t.equal(flags[1]!.severity, 'medium', 'only the IP is new: medium');
  t.equal(flags[1]!.title, '"carol" signed in from a new IP address 198.51.100.2');
  t.same(linked(app, flags[1]!.id), [fourth]);

  // the failed sign-in did not make 203.0.113.50 known before; now it is: no flag when it comes back
  add(app, success('carol', BASE + 6 * HOUR, '203.0.113.50', 'FR'));
  t.equal(flagsOf(app, 'login-new-origin').length, 2, 'a known origin again: nothing new');
  // another user's first sign-in from there
  add(app, success('dave', BASE + 6 * HOUR, '203.0.113.50', 'FR'));
  t.equal(flagsOf(app, 'login-new-origin').length, 2, "another user's first sign-in: no flag");
});

// ─── login-unusual-hours ─────────────────────────────────────────────────────────────────────────

t.test('login-unusual-hours: a sign-in on Saturday and one at night raise it (one flag per user)', async (t) => {
  const app = await fresh(t);
  const sat = add(app, success('erin', SATURDAY(10)));
  let flag = theFlag(t, app, 'login-unusual-hours', 'low', [sat]);
  t.equal(flag.subject, 'erin');
  t.equal(flag.title, '"erin" signed in outside business hours');
  t.equal(flag.explanation, 'LOGIN SUCCESS at Sat 2026-01-17 10:00 UTC (UTC+00:00), outside business hours (Mon–Fri 07:00–19:00, UTC).', 'the weekday says why');
  const night = add(app, success('Erin', WED(22)));
  flag = theFlag(t, app, 'login-unusual-hours', 'low', [sat, night]);
  t.match(flag.explanation, 'Wed 2026-01-14 22:00 UTC (UTC+00:00)', 'refreshed with the latest');

  // the end of business hours is exclusive
  const seven = add(app, success('gina', WED(19, 0)));
  t.ok(
    flagsOf(app, 'login-unusual-hours').some((f) => f.subject === 'gina' && linked(app, f.id).includes(seven)),
    '19:00 is outside',
  );
  add(app, success('hugo', WED(6, 59)));
  t.ok(
    flagsOf(app, 'login-unusual-hours').some((f) => f.subject === 'hugo'),
    '06:59 is outside',
  );
});

t.test('login-unusual-hours: the default business hours are in the TZ of the configuration', async (t) => {
  const { app } = await build(t, { TZ: 'America/New_York' }, { scim: false });
  add(app, success('ines', WED(15)));
  t.same(flagsOf(app, 'login-unusual-hours'), [], '15:00 UTC = 10:00 in New York: no flag');
  const early = add(app, success('ines', BASE));
  const flag = theFlag(t, app, 'login-unusual-hours', 'low', [early]);
  t.equal(flag.explanation, 'LOGIN SUCCESS at Wed 2026-01-14 05:00 America/New_York (UTC-05:00), outside business hours (Mon–Fri 07:00–19:00, America/New_York).', '10:00 UTC = 05:00 in New York, said in New York time');
});

t.test('login-unusual-hours: near misses', async (t) => {
  const app = await fresh(t);
  add(app, success('frank', WED(7, 0)));
  add(app, success('frank', WED(18, 59)));
  add(app, success('frank', BASE));
  add(app, fail('frank', SATURDAY(3)));
  t.same(flagsOf(app, 'login-unusual-hours'), [], 'within business hours, or a failure: no flag');

  // the business hours follow their time zone: 10:00 UTC is 19:00 in Tokyo
  setContext(app, { businessHours: { start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5], timeZone: 'Asia/Tokyo' } });
  add(app, success('kenji', WED(0, 30)));
  t.same(flagsOf(app, 'login-unusual-hours'), [], '09:30 Wednesday in Tokyo: no flag');
  add(app, success('kenji', BASE));
  const [flag] = flagsOf(app, 'login-unusual-hours');
  t.ok(flag, '19:00 in Tokyo: flagged');
  t.equal(flag!.explanation, 'LOGIN SUCCESS at Wed 2026-01-14 19:00 Asia/Tokyo (UTC+09:00), outside business hours (Mon–Fri 08:00–18:00, Asia/Tokyo).');
});

// ─── impersonation-without-ticket ────────────────────────────────────────────────────────────────

t.test('impersonation-without-ticket: each impersonation without a ticket is its own flag', async (t) => {
  const app = await fresh(t);
  const imp = (ticket: string | null, ts = BASE) => add(app, { ts, action: 'IMPERSONATION', event: 'Impersonate', principal: 'root-admin', target: 'henry', ticket });
  const first = imp(null);
  const flag = theFlag(t, app, 'impersonation-without-ticket', 'high', [first]);
  t.equal(flag.subject, `root-admin→henry|${first}`);
  t.equal(flag.title, '"root-admin" impersonated "henry" without a ticket');
  t.equal(flag.explanation, `IMPERSONATION at ${utc(BASE)} by "root-admin" as "henry" with no ticket reference.`);

  const blank = imp('   ', BASE + MIN);
  const flags = flagsOf(app, 'impersonation-without-ticket');
  t.equal(flags.length, 2, 'a blank ticket is no ticket; and a new flag per event');
  t.same(linked(app, flags[1]!.id), [blank]);
});

t.test('impersonation-without-ticket: a failed attempt is raised as an attempt (medium); no outcome is an impersonation', async (t) => {
  const app = await fresh(t);
  const imp = (target: string, outcome: 'SUCCESS' | 'FAILURE' | null) => add(app, { ts: BASE, action: 'IMPERSONATION', event: 'Impersonate', principal: 'adm', target, outcome });
  const failed = imp('imu4', 'FAILURE');
  const flag = theFlag(t, app, 'impersonation-without-ticket', 'medium', [failed]);
  t.equal(flag.title, '"adm" tried to impersonate "imu4" without a ticket', 'not "impersonated": it failed');
  t.equal(flag.explanation, `IMPERSONATION FAILURE at ${utc(BASE)}: "adm" tried to act as "imu4" with no ticket reference. The attempt failed, so no session as "imu4" was opened.`);

  // sent without outcome: the entry says an administrator acted as the user — taken as done
  const unknown = imp('imu5', null);
  const flags = flagsOf(app, 'impersonation-without-ticket');
  t.equal(flags.length, 2);
  t.equal(flags[1]!.title, '"adm" impersonated "imu5" without a ticket');
  t.equal(flags[1]!.severity, 'high');
  t.same(linked(app, flags[1]!.id), [unknown]);
});

t.test('impersonation-without-ticket: near miss — a ticket is present', async (t) => {
  const app = await fresh(t);
  add(app, { ts: BASE, action: 'IMPERSONATION', principal: 'root-admin', target: 'henry', ticket: 'INC-1234' });
  add(app, { ts: SATURDAY(3), action: 'IMPERSONATION', principal: 'root-admin', target: 'henry', ticket: 'CHG0042' });
  t.same(flagsOf(app, 'impersonation-without-ticket'), []);
});

t.test('login-brute-force: an account whose name has a non-ASCII capital is one account ("Élodie", "ÉLODIE")', async (t) => {
  const app = await fresh(t);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push(add(app, fail(i % 2 ? 'ÉLODIE' : 'Élodie', BASE + i * MIN)));
  const flag = theFlag(t, app, 'login-brute-force', 'high', ids);
  t.equal(flag.subject, 'élodie', 'one flag per account: the subject in lower case');
  t.equal(flag.title, '5 failed sign-ins for "Élodie" in 10 minutes', 'counted through the subject index, which holds "élodie"');
});

t.test('sign-in rules: a LOGIN sent without outcome is an attempt of unknown result, never a sign-in', async (t) => {
  // LOGIN's catalog entry reads "A sign-in attempt; the Outcome column says whether it worked": unlike
  // a password change or a de-provisioning, an outcome-less LOGIN does not say the account got in, so
  // the rules about successful sign-ins do not take it as one (nor as a failure: brute force counts FAILUREs)
  const app = await fresh(t);
  add(app, success('olga', BASE - HOUR, '192.0.2.10', 'FR')); // her known origin
  for (let i = 0; i < 3; i++) add(app, fail('olga', BASE + i * MIN));
  add(app, { ...success('olga', BASE + 3 * MIN, '203.0.113.50', 'RU'), outcome: null }); // after 3 failures, new IP and country
  add(app, { ...success('olga', SATURDAY(3), '203.0.113.51'), outcome: null }); // outside business hours
  for (let i = 0; i < 5; i++) add(app, { ...fail('pete', BASE + i * MIN), outcome: null });
  for (const rule of ['login-success-after-failures', 'login-new-origin', 'login-unusual-hours', 'login-brute-force']) t.same(flagsOf(app, rule), [], `${rule}: nothing`);
  // the same sign-ins with SUCCESS raise each of the first three
  add(app, success('olga', BASE + 4 * MIN, '203.0.113.50', 'RU'));
  add(app, success('olga', SATURDAY(3, 1), '192.0.2.10'));
  for (const rule of ['login-success-after-failures', 'login-new-origin', 'login-unusual-hours']) t.equal(flagsOf(app, rule).length, 1, `${rule}: raised with SUCCESS`);
});

t.test('login-unusual-hours: the time is given in the zone of the business hours, with its offset (summer and winter)', async (t) => {
  // the reviewer's case: 18:30 UTC on a Tuesday in March is 19:30 in Paris, after the 19:00 close
  const app = await fresh(t);
  setContext(app, { businessHours: { start: '07:00', end: '19:00', days: [1, 2, 3, 4, 5], timeZone: 'Europe/Paris' } });
  add(app, success('uh2', Date.UTC(2026, 2, 3, 18, 30)));
  add(app, success('uh3', Date.UTC(2026, 2, 30, 4, 30))); // after the switch to summer time: 06:30 in Paris
  add(app, success('uh4', Date.UTC(2026, 2, 30, 5, 30))); // 07:30 in Paris: inside
  const flags = flagsOf(app, 'login-unusual-hours');
  t.same(
    flags.map((f) => f.explanation),
    [
      'LOGIN SUCCESS at Tue 2026-03-03 19:30 Europe/Paris (UTC+01:00), outside business hours (Mon–Fri 07:00–19:00, Europe/Paris).',
      'LOGIN SUCCESS at Mon 2026-03-30 06:30 Europe/Paris (UTC+02:00), outside business hours (Mon–Fri 07:00–19:00, Europe/Paris).',
    ],
  );
});
