// Red flags — the rule engine itself: configurable thresholds, disabled rules, rules that lack
// their context, one open flag per rule and subject, closing and re-opening, entries without a
// timestamp, and the settings cache. The rules one by one are in red-flags-*.test.ts.
//
// Every entry is appended through app.repos.audit.append with an explicit, fixed timestamp, so the
// rules see the same sequence on every run; the app starts without entries (scim: false).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { NOT_FAILURE, createRuleQueries } from '../../src/audit/rule-queries.js';
import { RULES } from '../../src/audit/rules.js';
import { BASE, DAY, HOUR, MIN, SATURDAY_NIGHT, add, flagsOf, fresh, linked, setContext, type Entry, type FlagRow } from '../red-flags-helper.js';

function allFlags(app: FastifyInstance): FlagRow[] {
  return app.database.sqlite.prepare('SELECT * FROM red_flags ORDER BY id').all() as FlagRow[];
}

const failure = (target: string, ts: number | null, sourceIp = '198.51.100.9'): Entry => ({ ts, action: 'LOGIN', outcome: 'FAILURE', type: 'Session', protocol: 'WEB', event: 'Sign In', principal: target, target, sourceIp });
const retry = (target: string, ts: number): Entry => ({ ts, action: 'RETRY_PROVISIONING', principal: 'connector', target, targetSystem: 'SAP' });
const status = (app: FastifyInstance, id: string) => app.repos.rules.statuses().find((s) => s.rule.id === id)!;

/** the rules each red-flags-*.test.ts file raises and near-misses; a new rule must be added to one */
const COVERED: Record<string, string[]> = {
  'red-flags-login.test.ts': ['login-brute-force', 'login-success-after-failures', 'login-new-origin', 'login-unusual-hours', 'impersonation-without-ticket'],
  'red-flags-password.test.ts': ['service-account-password-change', 'bulk-reset-outside-maintenance', 'reset-token-without-forgot', 'repeated-password-changes'],
  'red-flags-provisioning.test.ts': [
    'unexpected-provisioning-add',
    'deprovisioning-without-termination',
    'enable-on-leave-or-terminated',
    'repeated-retry-provisioning',
    'sync-failing-days',
    'orphan-volume',
    'reconciliation-drift',
    'link-orphan-by-system-account',
  ],
  'red-flags-scim.test.ts': ['scim-401-wall', 'scim-5xx-spike', 'scim-bulk-removal', 'scim-repeated-failure', 'scim-token-expiring'],
};

t.test('every rule of RULES has its tests', async (t) => {
  t.same(
    Object.values(COVERED).flat().sort(),
    RULES.map((r) => r.id).sort(),
  );
});

t.test('statuses(): every rule, enabled, with its default thresholds', async (t) => {
  const app = await fresh(t);
  const statuses = app.repos.rules.statuses();
  t.same(
    statuses.map((s) => s.rule.id),
    RULES.map((r) => r.id),
    'one status per rule, in the order of RULES',
  );
  for (const s of statuses) {
    t.equal(s.enabled, true, `${s.rule.id} is enabled by default`);
    t.same(s.thresholds, Object.fromEntries(Object.entries(s.rule.thresholds).map(([k, v]) => [k, v.default])), `${s.rule.id}: default thresholds`);
  }
  t.same(status(app, 'login-brute-force').thresholds, { failures: 5, windowMinutes: 10 });
  t.same(status(app, 'orphan-volume').thresholds, { orphans: 50, windowMinutes: 60 });
  t.same(status(app, 'scim-token-expiring').thresholds, { days: 20 });
});

t.test('rules that lack their context are reported as lacking and raise nothing', async (t) => {
  const app = await fresh(t);
  const lacking = Object.fromEntries(
    app.repos.rules
      .statuses()
      .filter((s) => s.lacking)
      .map((s) => [s.rule.id, s.lacking]),
  );
  t.same(
    Object.keys(lacking).sort(),
    ['bulk-reset-outside-maintenance', 'deprovisioning-without-termination', 'enable-on-leave-or-terminated', 'link-orphan-by-system-account', 'service-account-password-change', 'unexpected-provisioning-add'],
    'exactly the rules whose needs are not set by default (business hours are)',
  );
  t.equal(lacking['service-account-password-change'], 'No service accounts are listed on the Rules screen.');
  t.equal(lacking['link-orphan-by-system-account'], 'No service accounts are listed on the Rules screen.');
  t.equal(lacking['unexpected-provisioning-add'], 'No expected systems are listed on the Rules screen.');
  t.equal(lacking['enable-on-leave-or-terminated'], 'No users on leave or terminated are listed on the Rules screen.');
  t.equal(lacking['bulk-reset-outside-maintenance'], 'No maintenance windows are set on the Rules screen.');
  t.equal(lacking['deprovisioning-without-termination'], 'No terminated users are listed on the Rules screen.');
  t.same(status(app, 'enable-on-leave-or-terminated').missingContext, ['onLeave', 'terminated'], 'and which context, by name');
  t.same(status(app, 'login-unusual-hours').missingContext, []);

  // entries each of them would flag if it had its context
  add(app, { ts: SATURDAY_NIGHT, action: 'CHANGE_PASSWORD', principal: 'svc-backup', target: 'ivan' });
  add(app, { ts: BASE, action: 'LINK_ORPHAN', principal: 'svc-backup', target: 'wendy' });
  add(app, { ts: BASE, action: 'PROVISIONING_ADD', principal: 'admin', target: 'nina', targetSystem: 'GitHub' });
  add(app, { ts: BASE, action: 'PROVISIONING_ENABLE', principal: 'admin', target: 'tom' });
  add(app, { ts: SATURDAY_NIGHT, action: 'BULK_ADMIN_USER_RESET_PASSWORD', principal: 'admin' });
  add(app, { ts: BASE, action: 'DE_PROVISIONING', principal: 'admin', target: 'uma' });
  t.same(allFlags(app), [], 'no flag at all');

  // with service accounts only, the two service-account rules can judge; the others still cannot
  setContext(app, { serviceAccounts: ['svc-backup'] });
  t.equal(status(app, 'service-account-password-change').lacking, null);
  t.equal(status(app, 'link-orphan-by-system-account').lacking, null);
  t.ok(status(app, 'unexpected-provisioning-add').lacking);
  t.ok(status(app, 'enable-on-leave-or-terminated').lacking);

  // one list (on leave, or terminated) is enough for enable-on-leave-or-terminated
  setContext(app, { onLeave: ['sara'] });
  t.equal(status(app, 'enable-on-leave-or-terminated').lacking, null, 'on-leave list only');
  setContext(app, { terminated: ['tom'] });
  t.equal(status(app, 'enable-on-leave-or-terminated').lacking, null, 'terminated list only');
  setContext(app, { expectedSystems: { nina: ['Slack'] } });
  t.equal(status(app, 'unexpected-provisioning-add').lacking, null);
  t.equal(status(app, 'service-account-password-change').lacking !== null, true, 'saveContext replaces the whole context: service accounts are gone again');

  // business hours have defaults; with no business day ticked every moment would be "outside" them
  const noDays = { ...app.repos.rules.defaultContext().businessHours, days: [] };
  setContext(app, { businessHours: noDays });
  t.equal(status(app, 'login-unusual-hours').lacking, 'No business days are ticked on the Rules screen.');
  t.equal(status(app, 'service-account-password-change').lacking, 'No service accounts are listed and no business days are ticked on the Rules screen.', 'each missing piece named');
  t.same(status(app, 'service-account-password-change').missingContext, ['serviceAccounts', 'businessHours']);
  add(app, { ts: SATURDAY_NIGHT, action: 'LOGIN', outcome: 'SUCCESS', principal: 'vera', target: 'vera' });
  t.same(flagsOf(app, 'login-unusual-hours'), [], 'no business day: nothing raised');
});

t.test('thresholds are configurable: 3 failures raise login-brute-force once failures = 3', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'login-brute-force': { thresholds: { failures: 3 } } });
  t.same(status(app, 'login-brute-force').thresholds, { failures: 3, windowMinutes: 10 }, 'the other threshold keeps its default');
  const ids = [add(app, failure('alice', BASE)), add(app, failure('alice', BASE + MIN))];
  t.equal(flagsOf(app, 'login-brute-force').length, 0, '2 failures: nothing');
  ids.push(add(app, failure('alice', BASE + 2 * MIN)));
  const [flag, ...more] = flagsOf(app, 'login-brute-force');
  t.equal(more.length, 0);
  t.ok(flag, 'the third failure raises it');
  t.equal(flag!.title, '3 failed sign-ins for "alice" in 10 minutes');
  t.same(linked(app, flag!.id), ids);
});

t.test('thresholds: a wider window and invalid values', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'repeated-retry-provisioning': { thresholds: { retries: 0, windowHours: 48 } }, 'orphan-volume': { thresholds: { orphans: -1, windowMinutes: Number.NaN } } });
  t.same(status(app, 'repeated-retry-provisioning').thresholds, { retries: 3, windowHours: 48 }, '0 is not a threshold: the default stays');
  t.same(status(app, 'orphan-volume').thresholds, { orphans: 50, windowMinutes: 60 }, 'negative and NaN (stored as null) fall back');
  // three retries over 40 hours: outside the default 24 h window, inside 48 h
  add(app, retry('vera', BASE));
  add(app, retry('vera', BASE + 20 * HOUR));
  add(app, retry('vera', BASE + 40 * HOUR));
  const [flag] = flagsOf(app, 'repeated-retry-provisioning');
  t.ok(flag, 'raised with the 48-hour window');
  t.match(flag!.explanation, /3 RETRY_PROVISIONING entries for "vera" within 48 hours/);
});

t.test('a disabled rule raises nothing; enabling it again makes it judge the next entry', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'impersonation-without-ticket': { enabled: false } });
  t.equal(status(app, 'impersonation-without-ticket').enabled, false);
  add(app, { ts: BASE, action: 'IMPERSONATION', principal: 'admin', target: 'henry' });
  t.same(allFlags(app), [], 'disabled: no flag');

  // a disabled counting rule: 5 failures raise nothing
  app.repos.rules.saveConfig({ 'login-brute-force': { enabled: false } });
  t.equal(status(app, 'impersonation-without-ticket').enabled, true, 'saveConfig replaces the whole config');
  for (let i = 0; i < 6; i++) add(app, failure('alice', BASE + i * MIN));
  t.equal(flagsOf(app, 'login-brute-force').length, 0, 'login-brute-force disabled: no flag after 6 failures');

  add(app, { ts: BASE + HOUR, action: 'IMPERSONATION', principal: 'admin', target: 'henry' });
  t.equal(flagsOf(app, 'impersonation-without-ticket').length, 1, 'enabled again: the next impersonation is flagged');

  app.repos.rules.saveConfig({});
  add(app, failure('alice', BASE + 7 * MIN));
  const [bf] = flagsOf(app, 'login-brute-force');
  t.ok(bf, 're-enabled: the next failure counts the earlier ones in the window');
  t.match(bf!.title, /^7 failed sign-ins/, 'the 6 entries appended while it was disabled still count (the window reads the log)');
});

t.test('one open flag per rule and subject: a second burst extends it; after closing, a new one opens', async (t) => {
  const app = await fresh(t);
  const first = [add(app, retry('vera', BASE)), add(app, retry('vera', BASE + MIN)), add(app, retry('vera', BASE + 2 * MIN))];
  let flags = flagsOf(app, 'repeated-retry-provisioning');
  t.equal(flags.length, 1);
  const a = flags[0]!;
  t.equal(a.status, 'open');
  t.equal(a.subject, 'vera');
  t.equal(a.entry_count, 3);
  t.same(linked(app, a.id), first);
  t.equal(a.first_entry_id, first[0], 'first_entry_id: the oldest linked entry');
  t.equal(a.last_entry_id, first[2], 'last_entry_id: the entry that raised it');

  // a second burst while it is open: the same flag grows
  const second = [add(app, retry('vera', BASE + 2 * HOUR)), add(app, retry('vera', BASE + 2 * HOUR + MIN))];
  flags = flagsOf(app, 'repeated-retry-provisioning');
  t.equal(flags.length, 1, 'still one flag');
  t.equal(flags[0]!.id, a.id);
  t.equal(flags[0]!.entry_count, 5, 'entry_count grows');
  t.same(linked(app, a.id), [...first, ...second]);
  t.equal(flags[0]!.last_entry_id, second[1]);
  t.match(flags[0]!.title, /retried 5 times/, 'the title is refreshed with the new count');

  // another subject: its own flag
  for (let i = 0; i < 3; i++) add(app, retry('walt', BASE + i * MIN));
  t.same(
    flagsOf(app, 'repeated-retry-provisioning').map((f) => f.subject),
    ['vera', 'walt'],
  );

  // resolved: the next burst opens a new flag
  const now = BASE + 3 * HOUR;
  app.repos.flags.close(a.id, 'resolved', 'tester', 'connector fixed', now);
  const closed = app.repos.flags.byId(a.id)!;
  t.equal(closed.status, 'resolved');
  t.equal(closed.closedBy, 'tester');
  t.equal(closed.note, 'connector fixed');
  t.equal(closed.closedAt, now);
  const third = add(app, retry('vera', BASE + 4 * HOUR));
  flags = flagsOf(app, 'repeated-retry-provisioning').filter((f) => f.subject === 'vera');
  t.equal(flags.length, 2, 'a new flag for the same subject');
  const b = flags[1]!;
  t.not(b.id, a.id);
  t.equal(b.status, 'open');
  t.ok(linked(app, b.id).includes(third), 'the new flag links the new entry');
  t.equal(app.repos.flags.byId(a.id)!.entryCount, 5, 'the resolved flag is untouched');
  t.same(linked(app, a.id), [...first, ...second]);

  // acknowledged also ends "open": the next entry opens yet another flag
  app.repos.flags.close(b.id, 'acknowledged', 'tester', 'looking', now);
  add(app, retry('vera', BASE + 5 * HOUR));
  flags = flagsOf(app, 'repeated-retry-provisioning').filter((f) => f.subject === 'vera');
  t.same(
    flags.map((f) => f.status),
    ['resolved', 'acknowledged', 'open'],
  );
  t.equal(app.repos.flags.openCount(), 2, 'open: walt and the newest vera flag');
});

t.test('entries without a timestamp (ts NULL) are ignored by the rules', async (t) => {
  const app = await fresh(t);
  for (let i = 0; i < 8; i++) add(app, failure('alice', null));
  add(app, { ts: null, action: 'IMPERSONATION', principal: 'admin', target: 'henry' });
  add(app, { ts: null, action: 'BULK_ADMIN_USER_RESET_PASSWORD', principal: 'admin' });
  add(app, { ts: null, action: 'USE_RESET_PASSWORD_TOKEN', target: 'kim' });
  add(app, { ts: null, action: 'LOGIN', outcome: 'SUCCESS', target: 'erin', sourceIp: '192.0.2.1' });
  add(app, { ts: null, action: 'SCIM_READ', protocol: 'SCIM', http: 500 });
  const n = (app.database.sqlite.prepare('SELECT count(*) AS n FROM audit_log WHERE ts IS NULL').get() as { n: number }).n;
  t.equal(n, 13, 'the entries are in the log');
  t.same(allFlags(app), [], 'but no rule looked at them');

  // nor do they count in the windows of timed entries
  for (let i = 0; i < 4; i++) add(app, failure('alice', BASE + i * MIN));
  t.equal(flagsOf(app, 'login-brute-force').length, 0, '4 timed failures + 8 untimed: below 5');
  add(app, failure('alice', BASE + 4 * MIN));
  t.equal(flagsOf(app, 'login-brute-force').length, 1, 'the fifth timed failure raises it');
  t.equal(flagsOf(app, 'login-brute-force')[0]!.entry_count, 5, 'only the timed failures are linked');
  // no login origin was recorded for the untimed sign-in: erin's first timed sign-in is her first
  add(app, { ts: BASE, action: 'LOGIN', outcome: 'SUCCESS', target: 'erin', sourceIp: '192.0.2.99' });
  t.equal(flagsOf(app, 'login-new-origin').length, 0);
});

t.test('settings written by another process take effect once the 1-second cache expires', async (t) => {
  const app = await fresh(t);
  t.equal(status(app, 'impersonation-without-ticket').enabled, true, 'loads (and caches) the settings');
  // as the CLI would: straight into the settings table, not through saveConfig
  app.repos.settings.set('rules_config', JSON.stringify({ 'impersonation-without-ticket': { enabled: false } }));
  add(app, { ts: BASE, action: 'IMPERSONATION', principal: 'admin', target: 'henry' });
  t.equal(flagsOf(app, 'impersonation-without-ticket').length, 1, 'within the second: the cached (enabled) settings apply');
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(status(app, 'impersonation-without-ticket').enabled, false, 'after a second: reloaded');
  add(app, { ts: BASE + MIN, action: 'IMPERSONATION', principal: 'admin', target: 'henry' });
  t.equal(flagsOf(app, 'impersonation-without-ticket').length, 1, 'disabled now: no new flag');
});

t.test('every window query of the rules seeks its own index (EXPLAIN QUERY PLAN)', async (t) => {
  const app = await fresh(t);
  const sqlite = app.database.sqlite;
  // the SQL each query function prepares, captured by a stand-in for the connection
  const prepared: string[] = [];
  const spy = new Proxy(sqlite, {
    get: (target, key) => (key === 'prepare' ? (sql: string) => (prepared.push(sql), target.prepare(sql)) : Reflect.get(target, key, target)),
  });
  const q = createRuleQueries(spy);
  q.countForSubject('alice', 'LOGIN', BASE, BASE + HOUR, 'FAILURE');
  q.idsForSubject('alice', 'LOGIN', BASE, BASE + HOUR, 'FAILURE', 20);
  q.idsForSubject('bob', 'RETRY_PROVISIONING', BASE, BASE + HOUR, null, 20);
  // every entry but the failures (repeated-password-changes): the outcome is in the index too
  q.countForSubject('carl', 'CHANGE_PASSWORD', BASE, BASE + HOUR, NOT_FAILURE);
  q.idsForSubject('carl', 'CHANGE_PASSWORD', BASE, BASE + HOUR, NOT_FAILURE, 20);
  q.scimRemovalIds('idp-token', BASE, BASE + HOUR, 20);
  const plan = (sql: string) =>
    (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<number>((sql.match(/\?/g) ?? []).length).fill(1)) as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
  const onLog = prepared.filter((sql) => /\bFROM audit_log\b/.test(sql) && sql.trimStart().startsWith('SELECT'));
  t.ok(onLog.length >= 12, `${onLog.length} window queries on audit_log`);
  for (const sql of onLog) {
    const p = plan(sql);
    t.notMatch(p, /SCAN audit_log\b/, `no scan: ${sql.replace(/\s+/g, ' ').slice(0, 90)}`);
    // a query on one subject must seek (day, subject, action, ts), not every entry of the action
    // and read nothing but the index: the outcome is in it (an account under attack has thousands of
    // entries in the window, and a row read for each made one count cost 208 µs)
    if (sql.includes('subject = ? AND action')) t.match(p, /USING COVERING INDEX audit_log_day_subject_action_ts \(<expr>=\? AND subject=\? AND action=\? AND ts>\? AND ts<\?\)/, `by subject: ${p}`);
  }
  t.equal(onLog.filter((sql) => sql.includes('subject = ? AND action')).length, 5, 'the counts and the ids statements were checked');
  t.equal(onLog.filter((sql) => sql.includes("outcome IS NOT 'FAILURE'")).length, 2, 'including the two that leave out failures');
  // the synchronization rules: per system in any case, from their own partial indexes alone (keyed
  // by lower(target_system), which holds the raw value too: without it each entry's row is read)
  const bySystem = onLog.filter((sql) => sql.includes('lower(target_system) IS lower(?)'));
  t.equal(bySystem.length, 5, 'orphan count and ids, reconciliation count and ids, sync failures of a day');
  for (const sql of bySystem) t.match(plan(sql), /USING COVERING INDEX audit_log_(sync_failure|orphan|recon_false)_ts \(<expr>=\? AND ts>\? AND ts<\?\)/, `by system: ${plan(sql)}`);
  // scim-bulk-removal: a token's removals, from their own partial index alone
  const removals = onLog.filter((sql) => sql.includes('audit_log_scim_removal_ts'));
  t.equal(removals.length, 2, 'the removal count and ids');
  for (const sql of removals) t.match(plan(sql), /USING COVERING INDEX audit_log_scim_removal_ts \(principal=\? AND ts>\? AND ts<\?\)/, 'removals: covering');
  // scim-auth-wall: the SCIM 401s of a window and their causes, from their own partial index alone
  const scimAuth = onLog.filter((sql) => sql.includes("action = 'SCIM_AUTH'"));
  t.equal(scimAuth.length, 3, 'the 401 count, ids and causes');
  for (const sql of scimAuth) t.match(plan(sql), /USING COVERING INDEX audit_log_scim_auth_ts \(ts>\? AND ts<\?\)/, `401s: ${plan(sql)}`);

  // and the rule that uses it still finds the right entries, newest first
  const ids = [0, 1, 2].map((i) => add(app, failure('alice', BASE + i * MIN)));
  add(app, failure('bob', BASE + MIN));
  t.same(q.idsForSubject('ALICE', 'LOGIN', BASE, BASE + HOUR, 'FAILURE', 2), [ids[2], ids[1]]);
});

t.test('window queries cross midnight: each UTC day of the window is asked, newest first', async (t) => {
  const app = await fresh(t);
  const q = createRuleQueries(app.database.sqlite);
  const midnight = Date.UTC(2026, 0, 15);
  // the last millisecond of one day, the first of the next, and entries two days apart
  const times = [midnight - 2 * DAY + HOUR, midnight - 1, midnight, midnight + 5 * MIN];
  const ids = times.map((ts) => add(app, failure('carol', ts)));
  add(app, failure('dave', midnight));
  t.equal(q.countForSubject('carol', 'LOGIN', midnight - 10 * MIN, midnight + 10 * MIN, 'FAILURE'), 3, '10 minutes each side of midnight: both days');
  t.same(q.idsForSubject('carol', 'LOGIN', midnight - 10 * MIN, midnight + 10 * MIN, 'FAILURE', 20), [ids[3], ids[2], ids[1]], 'newest first across the days');
  t.same(q.idsForSubject('carol', 'LOGIN', midnight - 3 * DAY, midnight + DAY, 'FAILURE', 2), [ids[3], ids[2]], 'the limit stops at the newest');
  t.equal(q.countForSubject('carol', 'LOGIN', midnight - 3 * DAY, midnight + DAY, 'FAILURE'), 4, 'four days: all four');
  t.equal(q.countForSubject('carol', 'LOGIN', midnight, midnight, 'FAILURE'), 1, 'a window of one millisecond');
  t.equal(q.countForSubject('carol', 'LOGIN', midnight - 1, midnight - 1, 'FAILURE'), 1, 'the last millisecond of the day before');
  t.equal(q.countForSubject('carol', 'LOGIN', midnight + DAY, midnight, 'FAILURE'), 0, 'an empty window');
  // before 1970 SQLite's integer division truncates toward zero; the days asked must be the same
  const early = [-DAY - 1, -DAY + 1, -1, 1].map((ts) => add(app, failure('erin', ts)));
  t.same(q.idsForSubject('erin', 'LOGIN', -2 * DAY, 2 * DAY, 'FAILURE', 20), [...early].reverse(), 'times around 1970');
  t.equal(q.countForSubject('erin', 'LOGIN', -DAY, 0, 'FAILURE'), 2, 'a window ending at 0');

  // the count stops at COUNT_CAP even when the days together hold more
  const many = app.database.sqlite.transaction(() => {
    for (let i = 0; i < 600; i++) {
      add(app, { ...failure('frank', midnight - 1 - i), log: 'f' });
      add(app, { ...failure('frank', midnight + i), log: 'f' });
    }
  });
  many();
  t.equal(q.countForSubject('frank', 'LOGIN', midnight - HOUR, midnight + HOUR, 'FAILURE'), 1000, '1,200 over two days: counted to 1,000');
});

t.test('thresholds have an upper bound: a stored value past it counts as the bound', async (t) => {
  const app = await fresh(t);
  app.repos.rules.saveConfig({ 'login-brute-force': { thresholds: { failures: 5000, windowMinutes: 1e9 } }, 'repeated-password-changes': { thresholds: { windowHours: 100_000 } } });
  t.same(status(app, 'login-brute-force').thresholds, { failures: 1000, windowMinutes: 7 * 24 * 60 }, 'counts stop at 1,000, windows at 7 days in minutes');
  t.same(status(app, 'repeated-password-changes').thresholds, { changes: 3, windowHours: 30 * 24 }, 'and at 30 days in hours');
  for (const rule of RULES) for (const [name, th] of Object.entries(rule.thresholds)) t.ok(th.default >= 1 && th.default <= th.max, `${rule.id}.${name}: the default is within 1..${th.max}`);
});

t.test('migration 0015: open flags raised before lower-case keys are keyed in lower case, unless that key is taken', async (t) => {
  const app = await fresh(t);
  const db = app.database.sqlite;
  const flag = db.prepare(
    `INSERT INTO red_flags (rule, subject, severity, title, explanation, action, status, entry_count, raised_at, updated_at)
     VALUES (?, ?, 'high', 't', 'e', 'a', ?, 0, 0, 0) RETURNING id`,
  );
  const id = (rule: string, subject: string, status = 'open') => (flag.get(rule, subject, status) as { id: number }).id;
  const alice = id('login-brute-force', 'Alice');
  const workday = id('sync-failing-days', 'Workday');
  const closed = id('login-brute-force', 'Bob', 'resolved');
  const taken = id('orphan-volume', 'LDAP');
  const holder = id('orphan-volume', 'ldap');
  const otherRule = id('scim-repeated-failure', 'scim:POST /scim/v2/Users 409');
  db.exec(readFileSync(fileURLToPath(new URL('../../db/migrations/0015_open_flag_subjects.sql', import.meta.url)), 'utf8'));
  const subject = (flagId: number) => (db.prepare('SELECT subject FROM red_flags WHERE id = ?').get(flagId) as { subject: string }).subject;
  t.equal(subject(alice), 'alice');
  t.equal(subject(workday), 'workday');
  t.equal(subject(closed), 'Bob', 'a closed flag keeps its subject');
  t.equal(subject(taken), 'LDAP', 'an open flag of the lower-case key exists: left as it is');
  t.equal(subject(holder), 'ldap');
  t.equal(subject(otherRule), 'scim:POST /scim/v2/Users 409', 'other rules are untouched');

  // the open flag is found again: the next failures refresh it instead of opening a second one
  for (let i = 0; i < 5; i++) add(app, failure('ALICE', BASE + i * MIN));
  t.same(
    flagsOf(app, 'login-brute-force').filter((f) => f.status === 'open').map((f) => f.id),
    [alice],
    'one open flag for the account',
  );
});
