// interpret(): the catalog entry of an audit entry, with the variant that fits it.
import t from 'tap';
import { CATALOG, HTTP_GUIDANCE, catalogEntry } from '../../src/audit/catalog.js';
import { interpret, type InterpretableEntry } from '../../src/audit/interpret.js';

const base: InterpretableEntry = { action: null, outcome: null, principal: null, target: null, http: null, protocol: 'WEB', event: '' };
const entry = (e: Partial<InterpretableEntry>): InterpretableEntry => ({ ...base, ...e });

t.test('CHANGE_PASSWORD: principal = target vs principal ≠ target', (t) => {
  const change = catalogEntry('CHANGE_PASSWORD')!;
  const self = interpret(entry({ action: 'CHANGE_PASSWORD', outcome: 'SUCCESS', principal: 'Alice', target: 'alice' }));
  t.equal(self.variant, 'principal = target', 'compared case-insensitively');
  t.equal(self.meaning, change.principal!.self.meaning);
  t.equal(self.action, change.principal!.self.action);
  t.equal(self.known, true);
  t.equal(self.category, 'Password');
  t.equal(self.label, 'Change Password');

  const other = interpret(entry({ action: 'CHANGE_PASSWORD', outcome: 'SUCCESS', principal: 'admin', target: 'alice' }));
  t.equal(other.variant, 'principal ≠ target');
  t.equal(other.meaning, change.principal!.other.meaning);
  t.match(other.action, /authori|right/i, 'asks whether the principal was allowed to');

  const noTarget = interpret(entry({ action: 'CHANGE_PASSWORD', outcome: 'SUCCESS', principal: 'admin' }));
  t.equal(noTarget.variant, null, 'without a target the default applies');
  t.equal(noTarget.meaning, change.default.meaning);

  const failed = interpret(entry({ action: 'CHANGE_PASSWORD', outcome: 'FAILURE', principal: 'alice', target: 'alice' }));
  t.equal(failed.variant, 'FAILURE', 'a failed change changed nothing: the failure guidance wins');
  t.end();
});

t.test('LOGIN: SUCCESS vs FAILURE', (t) => {
  const login = catalogEntry('LOGIN')!;
  const ok = interpret(entry({ action: 'LOGIN', outcome: 'SUCCESS', principal: 'alice', target: 'alice', event: 'Sign In' }));
  t.equal(ok.variant, 'SUCCESS');
  t.equal(ok.meaning, login.outcomes!.SUCCESS!.meaning);
  const failed = interpret(entry({ action: 'login', outcome: 'FAILURE', principal: 'alice', target: 'alice' }));
  t.equal(failed.code, 'LOGIN', 'the code is matched case-insensitively');
  t.equal(failed.variant, 'FAILURE');
  t.equal(failed.meaning, login.outcomes!.FAILURE!.meaning);
  t.not(ok.meaning, failed.meaning);
  t.equal(interpret(entry({ action: 'LOGIN' })).variant, null, 'no outcome: the default');
  t.end();
});

t.test('SCIM_REQUEST: the Http status refines the meaning', (t) => {
  const scim = (http: number) => interpret(entry({ action: 'SCIM_REQUEST', outcome: 'FAILURE', protocol: 'SCIM', http, event: 'Create User', principal: 'entra' }));
  const notFound = scim(404);
  t.equal(notFound.variant, 'HTTP 404');
  t.equal(notFound.meaning, HTTP_GUIDANCE['404']!.meaning);
  t.match(notFound.meaning, /not found/i);
  const conflict = scim(409);
  t.equal(conflict.variant, 'HTTP 409');
  t.match(conflict.meaning, /already exists/);
  t.match(conflict.action, /duplicate|existing/);
  const serverError = scim(500);
  t.equal(serverError.variant, 'HTTP 500');
  t.equal(serverError.meaning, HTTP_GUIDANCE['5xx']!.meaning, '500 uses the 5xx guidance');
  t.match(serverError.meaning, /iamtrail itself/);
  for (const s of [400, 412, 413, 415]) t.equal(scim(s).meaning, HTTP_GUIDANCE[String(s)]!.meaning, `${s} has its own guidance`);
  t.equal(scim(429).meaning, HTTP_GUIDANCE['4xx']!.meaning, 'another 4xx: the class guidance');
  t.equal(scim(503).variant, 'HTTP 503');
  const all = new Set([notFound, conflict, serverError].map((i) => i.meaning));
  t.equal(all.size, 3, 'three different meanings');
  t.equal(interpret(entry({ action: 'SCIM_REQUEST', protocol: 'SCIM' })).meaning, catalogEntry('SCIM_REQUEST')!.default.meaning, 'no status: the default');
  t.end();
});

t.test('SCIM_AUTH 401 names the causes', (t) => {
  const i = interpret(entry({ action: 'SCIM_AUTH', outcome: 'FAILURE', protocol: 'SCIM', http: 401, event: 'Authenticate' }));
  t.equal(i.variant, 'HTTP 401');
  t.equal(i.category, 'SCIM');
  for (const cause of [/unknown/, /expired/, /revoked/, /disabled/]) t.match(i.meaning, cause);
  t.match(i.action, /Tokens/);
  t.match(i.action, /SCIM Overview/);
  t.end();
});

t.test('provisioning over SCIM gets the SCIM reading', (t) => {
  const add = interpret(entry({ action: 'PROVISIONING_ADD', outcome: 'SUCCESS', protocol: 'SCIM', http: 201, event: 'Create User', target: 'bob' }));
  t.equal(add.variant, 'over SCIM');
  t.match(add.meaning, /Http column/);
  t.match(add.meaning, /Log column/);
  const ingested = interpret(entry({ action: 'PROVISIONING_ADD', outcome: 'FAILURE', protocol: 'API', target: 'bob' }));
  t.equal(ingested.variant, 'FAILURE', 'an ingested failure gets the guide’s failure reading');
  t.equal(ingested.meaning, catalogEntry('PROVISIONING_ADD')!.outcomes!.FAILURE!.meaning);
  const ok = interpret(entry({ action: 'CHECK_IF_PASSWORD_WAS_COMPROMISED', outcome: 'FAILURE' }));
  t.match(ok.meaning, /refused|rejected/);
  // a password pushed by the identity provider (Okta's password sync) is stored here, not elsewhere
  const pushed = interpret(entry({ action: 'PROVISIONING_RESET_PASSWORD', outcome: 'SUCCESS', protocol: 'SCIM', http: 200, event: 'Update User', target: 'bob', principal: 'okta' }));
  t.equal(pushed.variant, 'over SCIM');
  t.match(pushed.meaning, /set the user's password in iamtrail over SCIM/);
  t.match(pushed.meaning, /cannot tell a new password from the same one/, 'honest: a salted hash cannot be compared');
  t.match(pushed.meaning, /never logs it/);
  const elsewhere = interpret(entry({ action: 'PROVISIONING_RESET_PASSWORD', outcome: 'SUCCESS', protocol: 'API', target: 'bob' }));
  t.equal(elsewhere.meaning, catalogEntry('PROVISIONING_RESET_PASSWORD')!.default.meaning, 'an ingested reset on another system keeps the guide’s reading');
  t.end();
});

t.test('an unknown or missing code never throws', (t) => {
  const unknown = interpret(entry({ action: 'FROBNICATE_WIDGET', outcome: 'SUCCESS', event: 'Frobnicate' }));
  t.equal(unknown.known, false);
  t.equal(unknown.code, 'FROBNICATE_WIDGET');
  t.equal(unknown.label, 'Frobnicate', 'the entry’s own event name');
  t.match(unknown.meaning, /not in .*catalog/);
  t.ok(unknown.action.length > 0);
  t.equal(unknown.variant, null);

  const none = interpret(entry({ action: null, event: '' }));
  t.equal(none.known, false);
  t.equal(none.code, null);
  t.equal(none.label, 'Unknown event');
  t.match(none.meaning, /no action code/);

  const scimUnknown = interpret(entry({ action: 'SOMETHING_NEW', protocol: 'SCIM', http: 500 }));
  t.equal(scimUnknown.known, false);
  t.equal(scimUnknown.variant, 'HTTP 500', 'an unknown SCIM failure still gets the status guidance');

  // values of the wrong type (an ingested event gone astray) do not throw either
  const odd = { ...base, action: 42, outcome: {}, principal: 7, target: ['x'], http: '404', protocol: null, event: undefined } as unknown as InterpretableEntry;
  t.doesNotThrow(() => interpret(odd));
  t.equal(interpret(odd).known, false);
  t.end();
});

t.test('a FAILURE never reads as done: offboarding, deletion, disable, reset links, impersonation', (t) => {
  const cases: [string, RegExp][] = [
    ['DE_PROVISIONING', /offboarding FAILED.*NOT removed/],
    ['PROVISIONING_DELETE', /FAILED.*still exists/],
    ['PROVISIONING_DISABLE', /FAILED.*still active/],
    ['PROVISIONING_DEPROVISION_ON_DATE', /FAILED.*still there/],
    ['USE_RESET_PASSWORD_TOKEN', /NOT changed/],
    ['USER_RESET_PASSWORD_ON_BEHALF', /failed: the old password still applies/],
    ['IMPERSONATION', /refused or failed: they did not get/],
  ];
  for (const [code, meaning] of cases) {
    const failed = interpret(entry({ action: code, outcome: 'FAILURE', principal: 'admin', target: 'leaver' }));
    t.equal(failed.variant, 'FAILURE', `${code}: the failure guidance, not the principal variant`);
    t.match(failed.meaning, meaning, `${code} FAILURE says it did not happen`);
    t.not(failed.meaning, interpret(entry({ action: code, outcome: 'SUCCESS', principal: 'admin', target: 'leaver' })).meaning);
  }
  t.end();
});

t.test('every catalog code: a FAILURE reads differently from a success, unless the code records a failure itself', (t) => {
  for (const code of CATALOG.map((c) => c.code)) {
    const cat = catalogEntry(code)!;
    const failed = interpret(entry({ action: code, outcome: 'FAILURE', principal: 'a', target: 'b' }));
    const done = interpret(entry({ action: code, outcome: 'SUCCESS', principal: 'a', target: 'b' }));
    if (cat.failureIsTheEvent) {
      t.equal(failed.meaning, cat.default.meaning, `${code}: the code is the failure, its default applies`);
      continue;
    }
    t.not(failed.meaning, done.meaning, `${code}: FAILURE and SUCCESS read differently`);
    t.not(failed.meaning, cat.default.meaning, `${code}: FAILURE is not the default reading`);
  }
  const generic = interpret(entry({ action: 'RETRY_PROVISIONING', outcome: 'FAILURE' }));
  t.match(generic.meaning, /^This entry records a FAILURE: what the event stands for \(a provisioning attempt that failed is being tried again\) did not happen/);
  t.end();
});
