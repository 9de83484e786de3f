// The event catalog against its source: every code of the interpretation guide (seed 004, read at
// test time) and every code iamtrail writes has an entry with guidance; rule ids exist.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { CATALOG, HTTP_GUIDANCE, SEED_004_CODES, catalogEntry, httpGuidance, type Category } from '../../src/audit/catalog.js';
import { RULES } from '../../src/audit/rules.js';

const SEED_004 = new URL('../../../shared/seeds/004_27aefe50c97b58e6.txt', import.meta.url);
const SRC = new URL('../../src/', import.meta.url);

/** Codes that are one word, so the underscore test alone would not find them. */
const ONE_WORD_CODES = new Set(['LOGIN', 'LOGOUT', 'IMPERSONATION', 'SYNCHRONIZATION', 'RECONCILIATION']);

/**
 * The codes the guide mentions, in the order of first mention. The guide's tables lost their cell
 * separators, so codes are glued to what follows: "LOGINSUCCESSThe user…", "PROVISIONING_ADDFAILURE
 * Account…", "SYNCHRONIZATION_RECORDA single…". A code is a run of capitals and underscores not
 * followed by a lower-case letter (that capital starts the next word); a trailing capital A followed
 * by a space and a lower-case word is the article opening the next cell; an outcome glued to the
 * code is split off.
 */
function seedCodes(text: string): string[] {
  const codes: string[] = [];
  for (const m of text.matchAll(/(?<![A-Za-z0-9_])[A-Z][A-Z_]*[A-Z](?![a-z])/g)) {
    let token = m[0];
    const next = text.slice(m.index + token.length, m.index + token.length + 2);
    if (/[A-Z]A$/.test(token) && /^ [a-z]/.test(next)) token = token.slice(0, -1);
    token = token.replace(/(?<=[A-Z])(?:SUCCESS|FAILURE)$/, '');
    if ((/^[A-Z]+(?:_[A-Z]+)+$/.test(token) || ONE_WORD_CODES.has(token)) && !codes.includes(token)) codes.push(token);
  }
  return codes;
}

/** What the brief lists from the guide (in the guide's order), as a check on the parser itself. */
const EXPECTED_SEED_CODES = [
  'LOGIN', 'INCREMENT_FAIL_AUTH_COUNT', 'USER_ACCOUNT_LOCKED', 'IMPERSONATION', 'LOGIN_VIA_SOCIAL', 'SAML_IDP_INITIATED_SSO', 'LOGOUT',
  'CHANGE_PASSWORD', 'FORGOT_PASSWORD', 'ANSWER_CHALLENGE_RESPONSE_QUESTIONS', 'USER_RESET_PASSWORD_ON_BEHALF', 'BULK_ADMIN_USER_RESET_PASSWORD',
  'CHECK_IF_PASSWORD_WAS_COMPROMISED', 'PROVISIONING_RESET_PASSWORD', 'USE_RESET_PASSWORD_TOKEN',
  'PROVISIONING_ADD', 'PROVISIONING_MODIFY', 'PROVISIONING_DISABLE', 'PROVISIONING_ENABLE', 'PROVISIONING_DELETE', 'DE_PROVISIONING',
  'PROVISIONING_SUSPEND', 'PROVISIONING_RESUME', 'PROVISIONING_DEPROVISION_ON_DATE', 'RETRY_PROVISIONING', 'SIMULATE_PROVISIONING',
  'SYNCHRONIZATION', 'SYNCHRONIZATION_RECORD', 'SYNCHRONIZATION_ORPHAN', 'LINK_ORPHAN', 'CREATE_NEW_USER_FROM_ORPHAN', 'REMOVE_ORPHAN',
  'RECONCILIATION', 'RECONCILIATION_RECORD_FALSE', 'RECONCILE_TARGET_WITH_IDM',
];

/** The action codes iamtrail itself writes (services, SCIM audit, console and API routes). */
const IAMTRAIL_CODES = [
  'SCIM_READ', 'SCIM_AUTH', 'SCIM_REQUEST',
  'PROVISIONING_ADD', 'PROVISIONING_MODIFY', 'PROVISIONING_DISABLE', 'PROVISIONING_ENABLE', 'PROVISIONING_DELETE',
  'TOKEN_CREATED', 'TOKEN_REVOKED', 'SCIM_ENABLED', 'SCIM_DISABLED', 'PROVISIONING_MODE_CHANGED', 'ROLE_MAPPING_CHANGED',
  'ACCOUNT_CREATED', 'LOGIN', 'INCREMENT_FAIL_AUTH_COUNT', 'USER_ACCOUNT_LOCKED', 'LOGOUT', 'CHANGE_PASSWORD', 'USER_RESET_PASSWORD_ON_BEHALF',
  'FLAG_ACKNOWLEDGED', 'FLAG_RESOLVED', 'RULES_CHANGED', 'LOG_EXPORTED', 'EVENTS_INGESTED',
];

const CATEGORIES: Category[] = ['Login', 'Password', 'Provisioning', 'Synchronization', 'SCIM', 'Console', 'Tokens', 'Settings', 'Red flags', 'Export'];

function filled(t: { ok: (value: unknown, message: string) => unknown }, value: unknown, what: string): void {
  t.ok(typeof value === 'string' && value.trim().length > 0, `${what} is filled`);
}

t.test('every code of the interpretation guide (seed 004) is in the catalog', (t) => {
  const codes = seedCodes(readFileSync(SEED_004, 'utf8'));
  t.strictSame(codes, EXPECTED_SEED_CODES, 'the parser finds exactly the codes of the guide');
  t.strictSame([...SEED_004_CODES], codes, 'SEED_004_CODES lists them in the order of the guide');
  for (const code of codes) {
    const entry = catalogEntry(code);
    if (!t.ok(entry, `${code} has an entry`) || !entry) continue;
    t.equal(entry.source, 'seed-004', `${code} comes from seed 004`);
    t.ok(CATEGORIES.includes(entry.category), `${code} has a category`);
    filled(t, entry.default.meaning, `${code} meaning`);
    filled(t, entry.default.action, `${code} action`);
  }
  t.end();
});

t.test("the guide's variants are there", (t) => {
  for (const code of ['LOGIN', 'PROVISIONING_ADD', 'SYNCHRONIZATION']) {
    t.ok(catalogEntry(code)?.outcomes?.SUCCESS, `${code} SUCCESS`);
    t.ok(catalogEntry(code)?.outcomes?.FAILURE, `${code} FAILURE`);
  }
  t.match(catalogEntry('CHECK_IF_PASSWORD_WAS_COMPROMISED')?.outcomes?.FAILURE?.meaning, /breach/i, 'a compromised-password FAILURE is a rejection');
  const change = catalogEntry('CHANGE_PASSWORD')!;
  t.ok(change.principal?.self && change.principal.other, 'CHANGE_PASSWORD has principal = / ≠ target guidance');
  for (const code of ['FORGOT_PASSWORD', 'ANSWER_CHALLENGE_RESPONSE_QUESTIONS']) t.ok(change.related?.includes(code), `CHANGE_PASSWORD relates to ${code}`);
  t.ok(catalogEntry('FORGOT_PASSWORD')!.related?.includes('ANSWER_CHALLENGE_RESPONSE_QUESTIONS'), 'the forgot-password flow is linked in order');
  t.ok(catalogEntry('ANSWER_CHALLENGE_RESPONSE_QUESTIONS')!.related?.includes('CHANGE_PASSWORD'), 'the flow ends with CHANGE_PASSWORD');
  t.match(catalogEntry('FORGOT_PASSWORD')!.default.meaning, /ANSWER_CHALLENGE_RESPONSE_QUESTIONS.*CHANGE_PASSWORD/, 'the guidance names the sequence');
  t.ok(catalogEntry('LOGIN')!.related?.includes('INCREMENT_FAIL_AUTH_COUNT') && catalogEntry('LOGIN')!.related?.includes('USER_ACCOUNT_LOCKED'), 'LOGIN relates to the lockout codes');
  t.end();
});

t.test('every action code iamtrail writes has an entry', (t) => {
  for (const code of IAMTRAIL_CODES) {
    const entry = catalogEntry(code);
    if (!t.ok(entry, `${code} has an entry`) || !entry) continue;
    filled(t, entry.default.meaning, `${code} meaning`);
    filled(t, entry.default.action, `${code} action`);
  }
  // and the list above is complete: scan src/ for codes on lines that set or compare an action
  const scanned = new Set<string>();
  for (const file of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('catalog.ts')) continue;
    for (const line of readFileSync(new URL(file, SRC), 'utf8').split('\n')) {
      if (!/\baction\b/.test(line)) continue;
      for (const m of line.matchAll(/'([A-Z]+(?:_[A-Z]+)+|LOGIN|LOGOUT)'/g)) scanned.add(m[1]!);
    }
  }
  t.ok(scanned.size >= 20, `found the action codes in src/ (${scanned.size})`);
  for (const code of scanned) t.ok(catalogEntry(code), `${code} (used in src/) has an entry`);
  t.end();
});

t.test('the catalog is well formed', (t) => {
  const codes = CATALOG.map((e) => e.code);
  t.equal(new Set(codes.map((c) => c.toUpperCase())).size, codes.length, 'no duplicate codes');
  const ruleIds = new Set(RULES.map((r) => r.id));
  for (const entry of CATALOG) {
    t.match(entry.code, /^[A-Z]+(?:_[A-Z]+)*$/, `${entry.code} is an upper-case code`);
    t.ok(CATEGORIES.includes(entry.category), `${entry.code} category ${entry.category}`);
    for (const field of ['label', 'summary'] as const) filled(t, entry[field], `${entry.code} ${field}`);
    const variants = [
      entry.default,
      ...Object.values(entry.outcomes ?? {}),
      ...(entry.principal ? [entry.principal.self, entry.principal.other] : []),
      ...(entry.scim ? [entry.scim] : []),
    ];
    for (const g of variants) {
      filled(t, g.meaning, `${entry.code} variant meaning`);
      filled(t, g.action, `${entry.code} variant action`);
    }
    for (const id of entry.rules ?? []) t.ok(ruleIds.has(id), `${entry.code}: rule ${id} exists in RULES`);
    for (const code of entry.related ?? []) t.ok(catalogEntry(code), `${entry.code}: related ${code} is catalogued`);
  }
  t.end();
});

t.test('every rule is listed on the codes it looks at', (t) => {
  for (const rule of RULES) {
    const codes = rule.on.filter((c) => c !== '*');
    for (const code of codes) t.ok(catalogEntry(code)?.rules?.includes(rule.id), `${code} lists ${rule.id}`);
    if (rule.on.includes('*')) t.ok(CATALOG.some((e) => e.rules?.includes(rule.id)), `some entry lists ${rule.id} (looks at every SCIM entry)`);
  }
  t.end();
});

t.test('catalogEntry is case-insensitive and total', (t) => {
  t.equal(catalogEntry('login')?.code, 'LOGIN');
  t.equal(catalogEntry(' Change_Password ')?.code, 'CHANGE_PASSWORD');
  t.equal(catalogEntry('NOT_A_CODE'), undefined);
  t.equal(catalogEntry(''), undefined);
  t.equal(catalogEntry(null), undefined);
  t.equal(catalogEntry(undefined), undefined);
  t.end();
});

t.test('HTTP guidance covers the statuses iamtrail sends', (t) => {
  for (const s of [400, 401, 403, 404, 409, 412, 413, 415]) t.equal(httpGuidance(s), HTTP_GUIDANCE[String(s)], `${s}`);
  t.equal(httpGuidance(500), HTTP_GUIDANCE['5xx']);
  t.equal(httpGuidance(503), HTTP_GUIDANCE['5xx']);
  t.equal(httpGuidance(429), HTTP_GUIDANCE['4xx']);
  t.equal(httpGuidance(201), undefined);
  t.equal(httpGuidance(null), undefined);
  t.end();
});
