// Red flags — the provisioning and synchronization rules: unexpected-provisioning-add,
// deprovisioning-without-termination, enable-on-leave-or-terminated, repeated-retry-provisioning,
// sync-failing-days, orphan-volume, reconciliation-drift and link-orphan-by-system-account. Each
// rule: a sequence that must raise it, and near misses that must not.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { BASE, DAY, HOUR, MIN, add, flagsOf, fresh, idsWhere, linked, setContext, theFlag, utc } from '../red-flags-helper.js';

/** 00:00 UTC of the n-th of January 2026 */
const JAN = (day: number, h = 0, m = 0) => Date.UTC(2026, 0, day, h, m);

/** Runs many appends in one transaction (one fsync instead of one per entry); the rules run the same. */
const batch = (app: FastifyInstance, fn: () => void) => app.database.sqlite.transaction(fn)();

const lackingOf = (app: FastifyInstance, id: string) => app.repos.rules.statuses().find((s) => s.rule.id === id)!.lacking;

// ─── unexpected-provisioning-add ─────────────────────────────────────────────────────────────────

t.test('unexpected-provisioning-add: an account on a system the user is not expected on', async (t) => {
  const app = await fresh(t);
  const provision = (target: string, targetSystem: string | null, outcome: 'SUCCESS' | 'FAILURE' = 'SUCCESS', ts = BASE) =>
    add(app, { ts, action: 'PROVISIONING_ADD', event: 'Create Account', principal: 'connector', target, targetSystem, outcome });

  provision('nina', 'GitHub');
  t.same(flagsOf(app, 'unexpected-provisioning-add'), [], 'no expected systems listed: nothing');
  t.match(lackingOf(app, 'unexpected-provisioning-add'), /No expected systems are listed/);

  setContext(app, { expectedSystems: { Nina: ['Salesforce', 'Slack'] } });
  t.equal(lackingOf(app, 'unexpected-provisioning-add'), null);
  const id = provision('nina', 'GitHub', 'SUCCESS', BASE + MIN);
  const flag = theFlag(t, app, 'unexpected-provisioning-add', 'medium', [id]);
  t.equal(flag.subject, 'nina|github');
  t.equal(flag.title, '"nina" got an account on GitHub, which is not expected');
  t.equal(flag.explanation, `PROVISIONING_ADD at ${utc(BASE + MIN)} on GitHub; the Rules screen lists Salesforce, Slack for "nina".`);

  // the same user and system again: the same open flag
  provision('Nina', 'github', 'SUCCESS', BASE + 2 * MIN);
  t.equal(flagsOf(app, 'unexpected-provisioning-add').length, 1, 'subject is case-insensitive: one flag');
  t.equal(flagsOf(app, 'unexpected-provisioning-add')[0]!.entry_count, 2);
});

t.test('unexpected-provisioning-add: near misses', async (t) => {
  const app = await fresh(t);
  setContext(app, { expectedSystems: { nina: ['Salesforce', 'Slack'] } });
  const provision = (target: string, targetSystem: string | null, outcome: 'SUCCESS' | 'FAILURE' = 'SUCCESS') =>
    add(app, { ts: BASE, action: 'PROVISIONING_ADD', principal: 'connector', target, targetSystem, outcome });
  provision('nina', 'slack'); // expected (any case)
  provision('nina', 'Salesforce');
  provision('oscar', 'GitHub'); // no list for oscar
  provision('nina', 'GitHub', 'FAILURE'); // the account was not created
  provision('nina', null); // no target system
  t.same(flagsOf(app, 'unexpected-provisioning-add'), []);
});

// ─── deprovisioning-without-termination ──────────────────────────────────────────────────────────

t.test('deprovisioning-without-termination: without a terminated list it lacks its context and raises nothing', async (t) => {
  const app = await fresh(t);
  t.equal(lackingOf(app, 'deprovisioning-without-termination'), 'No terminated users are listed on the Rules screen.');
  add(app, { ts: BASE, action: 'DE_PROVISIONING', principal: 'hr-connector', target: 'paul' });
  t.same(flagsOf(app, 'deprovisioning-without-termination'), [], 'no guess: nothing raised');
  // other lists do not stand in for it
  setContext(app, { onLeave: ['paul'], serviceAccounts: ['hr-connector'] });
  add(app, { ts: BASE + MIN, action: 'DE_PROVISIONING', principal: 'hr-connector', target: 'paul' });
  t.same(flagsOf(app, 'deprovisioning-without-termination'), []);
  t.ok(lackingOf(app, 'deprovisioning-without-termination'));
});

t.test('deprovisioning-without-termination: all access removed for someone not terminated', async (t) => {
  const app = await fresh(t);
  setContext(app, { terminated: ['Quinn'] });
  t.equal(lackingOf(app, 'deprovisioning-without-termination'), null, 'a terminated list: it judges');
  const deprov = (target: string, ts = BASE, outcome: 'SUCCESS' | 'FAILURE' | null = 'SUCCESS') => add(app, { ts, action: 'DE_PROVISIONING', event: 'Remove All Access', principal: 'hr-connector', target, outcome });
  const id = deprov('paul');
  const flag = theFlag(t, app, 'deprovisioning-without-termination', 'high', [id]);
  t.equal(flag.subject, 'paul');
  t.equal(flag.title, 'All access of "paul" removed without a termination');
  t.equal(flag.explanation, `DE_PROVISIONING at ${utc(BASE)} for "paul", who is not listed as terminated on the Rules screen.`);

  deprov('quinn', BASE + MIN);
  deprov('rita', BASE + MIN, 'FAILURE');
  t.equal(flagsOf(app, 'deprovisioning-without-termination').length, 1, 'terminated (any case), or failed: no new flag');
  // no outcome: the access was removed unless the entry says otherwise
  const rita = deprov('rita', BASE + 2 * MIN, null);
  const flags = flagsOf(app, 'deprovisioning-without-termination');
  t.equal(flags.length, 2);
  t.equal(flags[1]!.explanation, `DE_PROVISIONING at ${utc(BASE + 2 * MIN)} for "rita", who is not listed as terminated on the Rules screen.`);
  t.same(linked(app, flags[1]!.id), [rita]);
});

// ─── enable-on-leave-or-terminated ───────────────────────────────────────────────────────────────

t.test('enable-on-leave-or-terminated: re-enabled while on leave (high) or terminated (critical)', async (t) => {
  const app = await fresh(t);
  const enable = (target: string, ts = BASE, outcome: 'SUCCESS' | 'FAILURE' = 'SUCCESS') => add(app, { ts, action: 'PROVISIONING_ENABLE', event: 'Enable Account', principal: 'admin', target, outcome });
  enable('tom');
  t.same(flagsOf(app, 'enable-on-leave-or-terminated'), [], 'empty lists: nothing');
  t.match(lackingOf(app, 'enable-on-leave-or-terminated'), /No users on leave or terminated are listed/);

  setContext(app, { onLeave: ['sara'], terminated: ['Tom'] });
  const sara = enable('sara', BASE + MIN);
  const tom = enable('TOM', BASE + 2 * MIN);
  const flags = flagsOf(app, 'enable-on-leave-or-terminated');
  t.equal(flags.length, 2);
  const [leave, gone] = flags;
  t.equal(leave!.severity, 'high', 'on leave: high');
  t.equal(leave!.status, 'open');
  t.equal(leave!.subject, `sara|${sara}`);
  t.equal(leave!.title, '"sara" re-enabled while on leave');
  t.equal(leave!.explanation, `PROVISIONING_ENABLE at ${utc(BASE + MIN)} for "sara", listed as on leave on the Rules screen.`);
  t.same(linked(app, leave!.id), [sara]);
  t.equal(gone!.severity, 'critical', 'terminated: critical');
  t.equal(gone!.title, '"TOM" re-enabled while terminated');
  t.same(linked(app, gone!.id), [tom]);
});

t.test('enable-on-leave-or-terminated: near misses', async (t) => {
  const app = await fresh(t);
  setContext(app, { onLeave: ['sara'], terminated: ['tom'] });
  add(app, { ts: BASE, action: 'PROVISIONING_ENABLE', principal: 'admin', target: 'uma' }); // not on a list
  add(app, { ts: BASE, action: 'PROVISIONING_ENABLE', principal: 'admin', target: 'tom', outcome: 'FAILURE' });
  add(app, { ts: BASE, action: 'PROVISIONING_DISABLE', principal: 'admin', target: 'sara' }); // another action
  t.same(flagsOf(app, 'enable-on-leave-or-terminated'), []);
});

// ─── repeated-retry-provisioning ─────────────────────────────────────────────────────────────────

t.test('repeated-retry-provisioning: 3 retries within 24 hours', async (t) => {
  const app = await fresh(t);
  const retry = (target: string, ts: number, targetSystem = 'SAP') => add(app, { ts, action: 'RETRY_PROVISIONING', event: 'Retry', principal: 'connector', target, targetSystem, outcome: 'FAILURE' });
  const ids = [retry('vera', BASE), retry('vera', BASE + 8 * HOUR)];
  t.equal(flagsOf(app, 'repeated-retry-provisioning').length, 0, '2 retries: not yet');
  ids.push(retry('vera', BASE + 16 * HOUR, 'Workday'));
  const flag = theFlag(t, app, 'repeated-retry-provisioning', 'medium', ids);
  t.equal(flag.subject, 'vera');
  t.equal(flag.title, 'Provisioning of "vera" retried 3 times');
  t.equal(flag.explanation, '3 RETRY_PROVISIONING entries for "vera" within 24 hours (last on Workday).');
});

t.test('repeated-retry-provisioning: near misses', async (t) => {
  const app = await fresh(t);
  const retry = (target: string, ts: number) => add(app, { ts, action: 'RETRY_PROVISIONING', principal: 'connector', target });
  retry('walt', BASE);
  retry('walt', BASE + HOUR);
  retry('xena', BASE);
  retry('xena', BASE + 12 * HOUR);
  retry('xena', BASE + 24 * HOUR + 1); // the first is 24 h + 1 ms before
  retry('y1', BASE);
  retry('y2', BASE);
  t.same(flagsOf(app, 'repeated-retry-provisioning'), []);
});

// ─── sync-failing-days ───────────────────────────────────────────────────────────────────────────

const sync = (app: FastifyInstance, ts: number, outcome: 'SUCCESS' | 'FAILURE' = 'FAILURE', targetSystem: string | null = 'HR feed') =>
  add(app, { ts, action: 'SYNCHRONIZATION', event: 'Synchronize', principal: 'sync-job', outcome, targetSystem, type: 'Sync' });

t.test('sync-failing-days: failures on 3 consecutive UTC days', async (t) => {
  const app = await fresh(t);
  const first = sync(app, JAN(12, 2));
  const second = sync(app, JAN(13, 23, 59));
  t.equal(flagsOf(app, 'sync-failing-days').length, 0, '2 days: not yet');
  const third = sync(app, JAN(14, 0, 1)); // two minutes after the last one, but on the third day
  // the failures of each counted day are linked: each one's detail shows the flag
  const flag = theFlag(t, app, 'sync-failing-days', 'high', [first, second, third]);
  t.equal(flag.subject, 'hr feed');
  t.same(app.repos.flags.flagsOfEntry(first).map((f) => f.id), [flag.id], "the first day's failure shows the flag in its detail");
  t.equal(flag.title, 'Synchronization of HR feed failed 3 days in a row');
  t.equal(flag.explanation, `SYNCHRONIZATION FAILURE on each of the last 3 days (UTC), the latest at ${utc(JAN(14, 0, 1))}.`);

  const fourth = sync(app, JAN(15, 2));
  const after = theFlag(t, app, 'sync-failing-days', 'high', [first, second, third, fourth]);
  t.equal(after.title, 'Synchronization of HR feed failed 4 days in a row', 'the fourth day extends the flag');
});

t.test('sync-failing-days: near misses', async (t) => {
  const app = await fresh(t);
  // failures on non-consecutive days: 12, 14, 15 January (the 13th succeeded)
  sync(app, JAN(12, 2));
  sync(app, JAN(13, 2), 'SUCCESS');
  sync(app, JAN(14, 2));
  sync(app, JAN(15, 2));
  t.same(flagsOf(app, 'sync-failing-days'), [], 'a gap breaks the run');
  // many failures on one day (20 February; the look-back is 4 days, so January is out of reach)
  for (let i = 0; i < 6; i++) sync(app, Date.UTC(2026, 1, 20, 1 + i));
  t.same(flagsOf(app, 'sync-failing-days'), [], '6 failures on one day');
  // successes on 3 days (12–14 March)
  for (const d of [12, 13, 14]) sync(app, Date.UTC(2026, 2, d, 2), 'SUCCESS');
  t.same(flagsOf(app, 'sync-failing-days'), [], 'successes');
});

t.test('sync-failing-days: one failure of each of three systems is not one system failing 3 days', async (t) => {
  const app = await fresh(t);
  sync(app, JAN(12, 2), 'FAILURE', 'HR feed');
  sync(app, JAN(13, 2), 'FAILURE', 'LDAP');
  sync(app, JAN(14, 2), 'FAILURE', 'CSV import');
  const flags = flagsOf(app, 'sync-failing-days');
  t.same(
    flags.map((f) => f.title),
    [],
    'no system failed on consecutive days',
  );
});

t.test('sync-failing-days: the system is compared without its case ("Workday", "workday", "WORKDAY" are one feed)', async (t) => {
  const app = await fresh(t);
  const ids = [sync(app, JAN(12, 2), 'FAILURE', 'Workday'), sync(app, JAN(13, 2), 'FAILURE', 'workday'), sync(app, JAN(14, 2), 'FAILURE', 'WORKDAY')];
  const flag = theFlag(t, app, 'sync-failing-days', 'high', ids);
  t.equal(flag.subject, 'workday');
  t.equal(flag.title, 'Synchronization of WORKDAY failed 3 days in a row', 'named as the latest entry spells it');
  // near miss: a name that differs by more than case is another system
  sync(app, JAN(12, 2), 'FAILURE', 'Okta');
  sync(app, JAN(13, 2), 'FAILURE', 'okta ');
  sync(app, JAN(14, 2), 'FAILURE', 'OKTA');
  t.equal(flagsOf(app, 'sync-failing-days').length, 1, '"okta " (trailing space) breaks the run');
});

t.test('sync-failing-days: links up to 3 failures of each counted day, newest first', async (t) => {
  const app = await fresh(t);
  const day12 = [1, 2, 3, 4, 5].map((h) => sync(app, JAN(12, h)));
  const day13 = [sync(app, JAN(13, 2))];
  const day14 = [1, 2, 3, 4].map((h) => sync(app, JAN(14, h)));
  const flag = flagsOf(app, 'sync-failing-days')[0]!;
  t.ok(flag, 'raised on the 14th');
  // the 14th's first failure raised it (with the 12th's 3 latest and the 13th's); each later one joins
  t.same(linked(app, flag.id), [...day12.slice(2), ...day13, ...day14].sort((a, b) => a - b), "the 12th's 3 latest, the 13th's, and every one of the 14th");
});

// ─── orphan-volume ───────────────────────────────────────────────────────────────────────────────

const orphan = (app: FastifyInstance, ts: number, n: number, targetSystem: string | null = 'Active Directory') =>
  add(app, { ts, action: 'SYNCHRONIZATION_ORPHAN', event: 'Orphan', principal: 'sync-job', target: `ghost${n}`, targetSystem, type: 'Sync' });

t.test('orphan-volume: 50 orphan records within 60 minutes', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 49; i++) orphan(app, BASE + i * MIN, i);
  });
  t.equal(flagsOf(app, 'orphan-volume').length, 0, '49: not yet');
  const last = orphan(app, BASE + 60 * MIN, 49); // exactly 60 minutes after the first: inside
  // the 50 orphans counted are linked
  const flag = theFlag(t, app, 'orphan-volume', 'medium', idsWhere(app, "action = 'SYNCHRONIZATION_ORPHAN'"));
  t.ok(linked(app, flag.id).includes(last));
  t.equal(flag.subject, 'active directory');
  t.equal(flag.title, '50 orphan records in 60 minutes');
  t.equal(flag.explanation, '50 SYNCHRONIZATION_ORPHAN entries within 60 minutes (source Active Directory).');
});

t.test('orphan-volume: near misses', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 49; i++) orphan(app, BASE + i * MIN, i);
  });
  orphan(app, BASE + 60 * MIN + 1, 49); // 50 entries, but the first is 60 minutes and 1 ms before the 50th
  t.same(flagsOf(app, 'orphan-volume'), [], '49 within the window');
  orphan(app, BASE + 60 * MIN + 2, 50);
  t.equal(flagsOf(app, 'orphan-volume').length, 1, 'the next one makes 50 in the window');
});


t.test('orphan-volume: 25 orphans from each of two sources are not 50 from the last one', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 50; i++) orphan(app, BASE + i * 1000, i, i % 2 === 0 ? 'Active Directory' : 'Workday');
  });
  t.notOk(
    flagsOf(app, 'orphan-volume').some((f) => f.explanation.startsWith('50 SYNCHRONIZATION_ORPHAN') && f.explanation.includes('(source Workday)')),
    'no flag says 50 orphans came from Workday (it sent 25)');
});

t.test('orphan-volume: the source is compared without its case', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 50; i++) orphan(app, BASE + i * 1000, i, ['SrcA', 'srca', 'SRCA'][i % 3]!);
  });
  const flag = theFlag(t, app, 'orphan-volume', 'medium', idsWhere(app, "action = 'SYNCHRONIZATION_ORPHAN'"));
  t.equal(flag.subject, 'srca');
  t.equal(flag.explanation, '50 SYNCHRONIZATION_ORPHAN entries within 60 minutes (source srca).');
});

t.test('orphan-volume: a flood links the orphans that crossed the threshold, then each new one', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'orphan-volume': { thresholds: { orphans: 5 } } });
  batch(app, () => {
    for (let i = 0; i < 30; i++) orphan(app, BASE + i * 1000, i);
  });
  const all = idsWhere(app, "action = 'SYNCHRONIZATION_ORPHAN'");
  const flag = flagsOf(app, 'orphan-volume')[0]!;
  // threshold 5: the fifth linked the window's latest max(5, 20) = 5, each one after joined
  t.same(linked(app, flag.id), all, 'every orphan of the window');
  t.equal(flag.entry_count, 30);
});

// ─── reconciliation-drift ────────────────────────────────────────────────────────────────────────

const mismatch = (app: FastifyInstance, ts: number, target: string) =>
  add(app, { ts, action: 'RECONCILIATION_RECORD_FALSE', event: 'Reconcile', principal: 'recon-job', target, targetSystem: 'SAP', outcome: 'FAILURE', type: 'Sync' });

t.test('reconciliation-drift: mismatches for 20 distinct users within 24 hours', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 19; i++) mismatch(app, BASE + i * HOUR, `user${i}`);
  });
  mismatch(app, BASE + 19 * HOUR, 'user0'); // a repeat: still 19 users
  t.equal(flagsOf(app, 'reconciliation-drift').length, 0, '20 entries, 19 users: not yet');
  const last = mismatch(app, BASE + 20 * HOUR, 'user19');
  // the latest mismatch of each of the 20 users counted is linked (user0's repeat, not its first)
  const users = idsWhere(app, "action = 'RECONCILIATION_RECORD_FALSE'").filter((_, i) => i !== 0);
  t.equal(users.length, 20);
  const flag = theFlag(t, app, 'reconciliation-drift', 'medium', users);
  t.ok(users.includes(last));
  t.equal(flag.subject, 'sap');
  t.equal(flag.title, 'Reconciliation mismatches for 20 users');
  t.equal(flag.explanation, 'RECONCILIATION_RECORD_FALSE for 20 distinct users within 24 hours on SAP.');
});

t.test('reconciliation-drift: a reconciliation run (many mismatches a second) is counted once per second, never missed', async (t) => {
  const app = await fresh(t);
  // 30 users in one second: the 20th raises the flag; the count made then (20) is kept for that
  // second, and the flag gains every later mismatch of it
  batch(app, () => {
    for (let i = 0; i < 30; i++) mismatch(app, BASE + i * 10, `user${i}`);
  });
  const ids = idsWhere(app, "action = 'RECONCILIATION_RECORD_FALSE'");
  const [flag] = flagsOf(app, 'reconciliation-drift');
  t.ok(flag, 'raised');
  t.same(linked(app, flag!.id).sort((a, b) => a - b), ids, 'every mismatch from the 20th user on is linked, and the 20 counted');
  t.equal(flag!.title, 'Reconciliation mismatches for 20 users', 'the count of the second in which the threshold was crossed: "at least"');
  // the next second counts again
  mismatch(app, BASE + 1000, 'user30');
  t.equal(flagsOf(app, 'reconciliation-drift')[0]!.title, 'Reconciliation mismatches for 31 users');
  // a count below the threshold is never kept: in one second, 19 users, then the 20th
  const other = await fresh(t);
  batch(other, () => {
    for (let i = 0; i < 19; i++) add(other, { ts: BASE + i, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: `u${i}`, targetSystem: 'SAP' });
  });
  t.same(flagsOf(other, 'reconciliation-drift'), [], '19 users');
  add(other, { ts: BASE + 500, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: 'u19', targetSystem: 'SAP' });
  t.equal(flagsOf(other, 'reconciliation-drift').length, 1, 'the 20th, in the same second, raises it');
});

t.test('reconciliation-drift: a kept count is not used past a rollback, for another system, or under a higher threshold', async (t) => {
  // a rollback: 20 users stored by a job that then fails are undone with it; the next mismatch of
  // that second counts 1 user, not the 20 the rule saw
  const app = await fresh(t);
  await t.rejects(
    app.writeQueue.submit(() => {
      for (let i = 0; i < 20; i++) mismatch(app, BASE + i, `gone${i}`);
      throw new Error('the job fails');
    }),
    { message: 'the job fails' },
  );
  await app.writeQueue.submit(() => mismatch(app, BASE + 500, 'real'));
  t.equal(idsWhere(app, "action = 'RECONCILIATION_RECORD_FALSE'").length, 1, 'the 20 were rolled back');
  t.same(flagsOf(app, 'reconciliation-drift'), [], 'no flag from the undone entries');

  // a system SQLite's lower() tells apart (it folds ASCII only) has its own count
  const other = await fresh(t);
  batch(other, () => {
    for (let i = 0; i < 20; i++) add(other, { ts: BASE + i, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: `u${i}`, targetSystem: 'Système' });
  });
  add(other, { ts: BASE + 500, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: 'v0', targetSystem: 'SYSTÈME' });
  t.same(flagsOf(other, 'reconciliation-drift').map((f) => f.subject), ['système'], 'one flag: the 20 users of "Système"');

  // a count kept under the threshold of 20 is not the answer under 25
  const third = await fresh(t);
  batch(third, () => {
    for (let i = 0; i < 20; i++) mismatch(third, BASE + i, `user${i}`);
  });
  t.equal(flagsOf(third, 'reconciliation-drift')[0]!.title, 'Reconciliation mismatches for 20 users');
  third.repos.rules.saveConfig({ 'reconciliation-drift': { thresholds: { users: 25 } } });
  batch(third, () => {
    for (let i = 20; i < 25; i++) mismatch(third, BASE + 100 + i, `user${i}`);
  });
  t.equal(flagsOf(third, 'reconciliation-drift')[0]!.title, 'Reconciliation mismatches for 25 users', 'counted again: 25 reach the new threshold');
});

t.test('reconciliation-drift: near miss — the 20th user is outside the window', async (t) => {
  const app = await fresh(t);
  mismatch(app, BASE, 'first');
  batch(app, () => {
    for (let i = 1; i < 20; i++) mismatch(app, BASE + 24 * HOUR + i * MIN, `user${i}`);
  });
  t.same(flagsOf(app, 'reconciliation-drift'), [], 'the first mismatch is more than 24 hours before the others');
});

t.test('reconciliation-drift: 10 users on each of two systems are not 20 users on the last one', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 20; i++)
      add(app, { ts: BASE + i * MIN, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: `user${i}`, targetSystem: i % 2 === 0 ? 'SAP' : 'Salesforce', outcome: 'FAILURE' });
  });
  t.notOk(
    flagsOf(app, 'reconciliation-drift').some((f) => f.explanation.includes('for 20 distinct users') && f.explanation.includes('on Salesforce')),
    'no flag says 20 users drifted on Salesforce (10 did)');
});

t.test('reconciliation-drift: the system is compared without its case', async (t) => {
  const app = await fresh(t);
  batch(app, () => {
    for (let i = 0; i < 20; i++) add(app, { ts: BASE + i * MIN, action: 'RECONCILIATION_RECORD_FALSE', principal: 'recon-job', target: `user${i}`, targetSystem: i % 2 ? 'sap' : 'SAP', outcome: 'FAILURE' });
  });
  const flag = theFlag(t, app, 'reconciliation-drift', 'medium', idsWhere(app, "action = 'RECONCILIATION_RECORD_FALSE'"));
  t.equal(flag.subject, 'sap');
});

// ─── link-orphan-by-system-account ───────────────────────────────────────────────────────────────

t.test('link-orphan-by-system-account: a service account links an orphan', async (t) => {
  const app = await fresh(t);
  const link = (principal: string, target: string, ts = BASE) => add(app, { ts, action: 'LINK_ORPHAN', event: 'Link Orphan', principal, target, targetSystem: 'LDAP' });
  link('svc-sync', 'wendy');
  t.same(flagsOf(app, 'link-orphan-by-system-account'), [], 'no service accounts listed: nothing');
  t.match(lackingOf(app, 'link-orphan-by-system-account'), /No service accounts are listed/);

  setContext(app, { serviceAccounts: ['svc-sync'] });
  link('admin', 'xavi', BASE + MIN);
  t.same(flagsOf(app, 'link-orphan-by-system-account'), [], 'linked by a person: nothing');
  const id = link('svc-sync', 'wendy', BASE + 2 * MIN);
  const flag = theFlag(t, app, 'link-orphan-by-system-account', 'medium', [id]);
  t.equal(flag.subject, `svc-sync|${id}`);
  t.equal(flag.title, 'System account "svc-sync" linked an orphan to "wendy"');
  t.equal(flag.explanation, `LINK_ORPHAN at ${utc(BASE + 2 * MIN)} by "svc-sync" for "wendy".`);
});

// ─── the day arithmetic of sync-failing-days with DAY ────────────────────────────────────────────

t.test('sync-failing-days: the days threshold is configurable', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'sync-failing-days': { thresholds: { days: 2 } } });
  const first = sync(app, JAN(12, 12));
  const second = sync(app, JAN(12, 12) + DAY);
  theFlag(t, app, 'sync-failing-days', 'high', [first, second]);
  t.match(flagsOf(app, 'sync-failing-days')[0]!.title, /failed 2 days in a row/);
});
