// Red flags — the password rules: service-account-password-change, bulk-reset-outside-maintenance,
// reset-token-without-forgot and repeated-password-changes. Each rule: a sequence that must raise
// it, and near misses that must not.
import t from 'tap';
import { BASE, HOUR, MIN, SATURDAY_NIGHT, add, flagsOf, fresh, setContext, theFlag, utc, type Entry } from '../red-flags-helper.js';

const change = (principal: string, target: string, ts: number, outcome: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): Entry => ({ ts, action: 'CHANGE_PASSWORD', event: 'Change Password', principal, target, outcome });

// ─── service-account-password-change ─────────────────────────────────────────────────────────────

t.test('service-account-password-change: a service account changes a password on Saturday night', async (t) => {
  const app = await fresh(t);
  // without service accounts the rule cannot judge
  add(app, change('svc-backup', 'ivan', SATURDAY_NIGHT));
  t.same(flagsOf(app, 'service-account-password-change'), [], 'no service accounts listed: nothing');
  t.match(app.repos.rules.statuses().find((s) => s.rule.id === 'service-account-password-change')!.lacking, /No service accounts are listed/);

  setContext(app, { serviceAccounts: ['svc-backup', 'svc-sync'] });
  const id = add(app, change('svc-backup', 'ivan', SATURDAY_NIGHT + MIN));
  const flag = theFlag(t, app, 'service-account-password-change', 'high', [id]);
  t.equal(flag.subject, `svc-backup|${id}`);
  t.equal(flag.title, 'Service account "svc-backup" changed the password of "ivan" at an unexpected time');
  t.equal(flag.explanation, 'CHANGE_PASSWORD at Sat 2026-01-17 03:01 UTC (UTC+00:00) by the service account "svc-backup" for "ivan", outside business hours (Mon–Fri 07:00–19:00, UTC) and with no maintenance window set.');

  // the list is matched case-insensitively; every such change is its own flag
  add(app, change('SVC-Sync', 'judy', SATURDAY_NIGHT + 2 * MIN));
  t.equal(flagsOf(app, 'service-account-password-change').length, 2);
});

t.test('service-account-password-change: near misses', async (t) => {
  const app = await fresh(t);
  setContext(app, {
    serviceAccounts: ['svc-backup'],
    maintenanceWindows: [{ start: '2026-01-17T02:00:00Z', end: '2026-01-17T04:00:00Z', note: 'quarterly rotation' }],
  });
  add(app, change('svc-backup', 'ivan', BASE)); // Wednesday 10:00: business hours
  add(app, change('svc-backup', 'judy', SATURDAY_NIGHT)); // Saturday 03:00, inside the maintenance window
  add(app, change('jane', 'kurt', SATURDAY_NIGHT + 2 * HOUR)); // Saturday 05:00 by a person
  add(app, change('svc-backupX', 'lara', SATURDAY_NIGHT + 2 * HOUR)); // not the listed name
  t.same(flagsOf(app, 'service-account-password-change'), []);

  // just after the window ends (end exclusive): raised
  add(app, change('svc-backup', 'mark', Date.UTC(2026, 0, 17, 4, 0)));
  t.equal(flagsOf(app, 'service-account-password-change').length, 1, 'at the end of the window: outside');
});

t.test('service-account-password-change: a failed change is raised as an attempt', async (t) => {
  const app = await fresh(t);
  setContext(app, { serviceAccounts: ['svc-backup'] });
  const id = add(app, change('svc-backup', 'ivan', SATURDAY_NIGHT, 'FAILURE'));
  const flag = theFlag(t, app, 'service-account-password-change', 'high', [id]);
  t.equal(flag.title, 'Service account "svc-backup" tried to change the password of "ivan" at an unexpected time');
  t.match(flag.explanation, /^CHANGE_PASSWORD FAILURE at /);
});

t.test('service-account-password-change: the time is given in the zone of the business hours', async (t) => {
  const app = await fresh(t);
  setContext(app, {
    serviceAccounts: ['svc-backup'],
    businessHours: { start: '07:00', end: '19:00', days: [1, 2, 3, 4, 5], timeZone: 'America/New_York' },
    maintenanceWindows: [{ start: '2026-01-10T00:00:00Z', end: '2026-01-10T02:00:00Z', note: '' }],
  });
  add(app, change('svc-backup', 'ivan', BASE)); // 05:00 in New York
  const [flag] = flagsOf(app, 'service-account-password-change');
  t.equal(flag!.explanation, 'CHANGE_PASSWORD at Wed 2026-01-14 05:00 America/New_York (UTC-05:00) by the service account "svc-backup" for "ivan", outside business hours (Mon–Fri 07:00–19:00, America/New_York) and outside every maintenance window.');
});

// ─── bulk-reset-outside-maintenance ──────────────────────────────────────────────────────────────

t.test('bulk-reset-outside-maintenance: no window configured — it lacks its context and raises nothing', async (t) => {
  const app = await fresh(t);
  const bulk = (ts: number) => add(app, { ts, action: 'BULK_ADMIN_USER_RESET_PASSWORD', event: 'Bulk Reset Password', principal: 'admin', log: 'Reset the passwords of 240 users' });
  t.equal(app.repos.rules.statuses().find((s) => s.rule.id === 'bulk-reset-outside-maintenance')!.lacking, 'No maintenance windows are set on the Rules screen.');
  bulk(BASE);
  bulk(SATURDAY_NIGHT);
  t.same(flagsOf(app, 'bulk-reset-outside-maintenance'), [], 'no window to judge against: nothing raised');

  setContext(app, { maintenanceWindows: [{ start: '2026-01-10T00:00:00Z', end: '2026-01-10T06:00:00Z', note: 'last week' }] });
  t.equal(app.repos.rules.statuses().find((s) => s.rule.id === 'bulk-reset-outside-maintenance')!.lacking, null, 'one window: it judges');
  const id = bulk(BASE + MIN);
  theFlag(t, app, 'bulk-reset-outside-maintenance', 'critical', [id]);
});

t.test('bulk-reset-outside-maintenance: inside a window — nothing; outside every window — raised', async (t) => {
  const app = await fresh(t);
  setContext(app, {
    maintenanceWindows: [
      { start: '2026-01-17T00:00:00Z', end: '2026-01-17T06:00:00Z', note: 'password migration' },
      { start: '2026-01-24T00:00:00Z', end: '2026-01-24T06:00:00Z', note: 'spare' },
    ],
  });
  const bulk = (ts: number, principal = 'admin') => add(app, { ts, action: 'BULK_ADMIN_USER_RESET_PASSWORD', principal });
  bulk(Date.UTC(2026, 0, 17, 0, 0)); // the start is inside
  bulk(Date.UTC(2026, 0, 17, 2, 30));
  bulk(Date.UTC(2026, 0, 24, 5, 59));
  t.same(flagsOf(app, 'bulk-reset-outside-maintenance'), [], 'inside a window: nothing');

  const outside = bulk(Date.UTC(2026, 0, 17, 6, 0), 'mallory'); // the end is outside
  const flag = theFlag(t, app, 'bulk-reset-outside-maintenance', 'critical', [outside]);
  t.equal(flag.title, 'Bulk password reset by "mallory" outside a maintenance window');
  // a failed one reset nothing: raised as an attempt, high rather than critical
  const failed = add(app, { ts: Date.UTC(2026, 0, 17, 7, 0), action: 'BULK_ADMIN_USER_RESET_PASSWORD', principal: 'mallory', outcome: 'FAILURE' });
  const attempt = flagsOf(app, 'bulk-reset-outside-maintenance').find((f) => f.subject === `mallory|${failed}`)!;
  t.equal(attempt.title, 'Bulk password reset attempted by "mallory" outside a maintenance window');
  t.equal(attempt.severity, 'high');
  t.match(attempt.explanation, /: it failed, so no password was reset\.$/);
  t.equal(flag.explanation, 'BULK_ADMIN_USER_RESET_PASSWORD at Sat 2026-01-17 06:00 UTC (UTC+00:00), outside every configured maintenance window.');

  // the time is given in the rules' time zone, the one of the business hours
  setContext(app, { businessHours: { start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5], timeZone: 'Europe/Paris' }, maintenanceWindows: [{ start: '2026-01-17T00:00:00+01:00', end: '2026-01-17T06:00:00+01:00', note: '' }] });
  const paris = bulk(Date.UTC(2026, 0, 17, 5, 30), 'trudy'); // 06:30 in Paris, just after the window
  t.equal(flagsOf(app, 'bulk-reset-outside-maintenance').find((f) => f.subject === `trudy|${paris}`)!.explanation, 'BULK_ADMIN_USER_RESET_PASSWORD at Sat 2026-01-17 06:30 Europe/Paris (UTC+01:00), outside every configured maintenance window.');
});

// ─── reset-token-without-forgot ──────────────────────────────────────────────────────────────────

t.test('reset-token-without-forgot: a reset link used without a forgot-password request', async (t) => {
  const app = await fresh(t);
  const id = add(app, { ts: BASE, action: 'USE_RESET_PASSWORD_TOKEN', event: 'Use Reset Link', principal: 'kim', target: 'kim' });
  const flag = theFlag(t, app, 'reset-token-without-forgot', 'high', [id]);
  t.equal(flag.subject, `kim|${id}`);
  t.equal(flag.title, 'Reset link used for "kim" without a forgot-password request');
  t.equal(flag.explanation, `USE_RESET_PASSWORD_TOKEN at ${utc(BASE)} for "kim" with no FORGOT_PASSWORD in the 24 hours before.`);
});

t.test('reset-token-without-forgot: near misses and edges', async (t) => {
  const app = await fresh(t);
  const forgot = (target: string, ts: number) => add(app, { ts, action: 'FORGOT_PASSWORD', principal: target, target });
  const use = (target: string, ts: number) => add(app, { ts, action: 'USE_RESET_PASSWORD_TOKEN', principal: target, target });
  forgot('leo', BASE - 2 * HOUR);
  use('leo', BASE);
  forgot('mona', BASE - 24 * HOUR); // exactly 24 hours before: inside
  use('mona', BASE);
  forgot('nils', BASE);
  use('nils', BASE); // same millisecond
  t.same(flagsOf(app, 'reset-token-without-forgot'), [], 'FORGOT_PASSWORD before the use: nothing');

  forgot('otto', BASE - 24 * HOUR - 1);
  const late = use('otto', BASE);
  forgot('pia', BASE);
  const other = use('quin', BASE); // someone else asked
  const flags = flagsOf(app, 'reset-token-without-forgot');
  t.same(
    flags.map((f) => f.subject),
    [`otto|${late}`, `quin|${other}`],
    'a request 24 h + 1 ms before, or a request by someone else: raised',
  );
});

t.test('reset-token-without-forgot: request and use that name the user only as principal', async (t) => {
  const app = await fresh(t);
  add(app, { ts: BASE - HOUR, action: 'FORGOT_PASSWORD', principal: 'lena', target: null });
  add(app, { ts: BASE, action: 'USE_RESET_PASSWORD_TOKEN', principal: 'lena', target: null });
  t.same(flagsOf(app, 'reset-token-without-forgot'), [], 'lena asked an hour before: no flag');
});

// ─── repeated-password-changes ───────────────────────────────────────────────────────────────────

t.test('repeated-password-changes: 3 successful changes within 24 hours', async (t) => {
  const app = await fresh(t);
  const ids = [add(app, change('mia', 'mia', BASE)), add(app, change('mia', 'mia', BASE + 6 * HOUR))];
  t.equal(flagsOf(app, 'repeated-password-changes').length, 0, '2 changes: not yet');
  ids.push(add(app, change('helpdesk', 'mia', BASE + 12 * HOUR)));
  let flag = theFlag(t, app, 'repeated-password-changes', 'medium', ids);
  t.equal(flag.subject, 'mia');
  t.equal(flag.title, '3 password changes for "mia" in 24 hours');
  t.equal(flag.explanation, '3 CHANGE_PASSWORD entries for "mia" within 24 hours (failed attempts not counted).');

  ids.push(add(app, change('mia', 'mia', BASE + 13 * HOUR)));
  flag = theFlag(t, app, 'repeated-password-changes', 'medium', ids);
  t.equal(flag.title, '4 password changes for "mia" in 24 hours', 'the fourth extends the same flag');
});

t.test('repeated-password-changes: changes sent without outcome count (only a FAILURE is no change)', async (t) => {
  const app = await fresh(t);
  const ids = [0, 1, 2].map((i) => add(app, { ...change('pc3', 'pc3', BASE + i * HOUR), outcome: null }));
  const flag = theFlag(t, app, 'repeated-password-changes', 'medium', ids);
  t.equal(flag.title, '3 password changes for "pc3" in 24 hours');
  t.equal(flag.explanation, '3 CHANGE_PASSWORD entries for "pc3" within 24 hours (failed attempts not counted).');
  // mixed: a success, an outcome-less change and a failure are two changes
  add(app, change('quentin', 'quentin', BASE));
  add(app, { ...change('quentin', 'quentin', BASE + HOUR), outcome: null });
  add(app, change('quentin', 'quentin', BASE + 2 * HOUR, 'FAILURE'));
  t.equal(flagsOf(app, 'repeated-password-changes').length, 1, 'near miss: 2 changes and a failure');
});

t.test('repeated-password-changes: near misses', async (t) => {
  const app = await fresh(t);
  // 2 successes and a failure
  add(app, change('nora', 'nora', BASE));
  add(app, change('nora', 'nora', BASE + HOUR));
  add(app, change('nora', 'nora', BASE + 2 * HOUR, 'FAILURE'));
  // 3 successes, the first 24 h + 1 ms before the third
  add(app, change('olaf', 'olaf', BASE));
  add(app, change('olaf', 'olaf', BASE + 20 * HOUR));
  add(app, change('olaf', 'olaf', BASE + 24 * HOUR + 1));
  // 3 changes for 3 different users
  for (const u of ['p1', 'p2', 'p3']) add(app, change('helpdesk', u, BASE));
  t.same(flagsOf(app, 'repeated-password-changes'), []);
});
