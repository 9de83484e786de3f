import { readFileSync } from 'node:fs';
import t from 'tap';
import { ScimError } from '../../src/scim/errors.js';
import type { AttrPath, Filter, PatchPath } from '../../src/scim/filter-ast.js';
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  evaluateFilter,
  formatFilter,
  formatPatchPath,
  parseFilter,
  parsePatchPath,
  redactFilterPasswords,
} from '../../src/scim/filter.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

interface Fixtures<K extends string, A> {
  valid: Array<Record<K, string> & { ast: A }>;
  invalid: Array<Record<K, string> & { error: string }>;
}

const filters = JSON.parse(
  readFileSync(new URL('../fixtures/filters.json', import.meta.url), 'utf8'),
) as Fixtures<'filter', Filter>;
const patchPaths = JSON.parse(
  readFileSync(new URL('../fixtures/patch-paths.json', import.meta.url), 'utf8'),
) as Fixtures<'path', PatchPath>;

/** Runs `fn` and returns the ScimError it throws, failing the test if it returns or throws something else. */
function scimErrorOf(t: { fail: (message: string) => unknown }, fn: () => unknown): ScimError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ScimError) return error;
    t.fail(`threw a non-ScimError: ${String(error)}`);
    return undefined;
  }
  t.fail('did not throw');
  return undefined;
}

t.test('parseFilter: valid fixtures', async (t) => {
  for (const { filter, ast } of filters.valid) {
    t.strictSame(parseFilter(filter), ast, filter);
  }
});

t.test('parseFilter: invalid fixtures throw invalidFilter with a helpful detail', async (t) => {
  t.ok(filters.invalid.length >= 20);
  for (const { filter, error } of filters.invalid) {
    const thrown = scimErrorOf(t, () => parseFilter(filter));
    t.equal(thrown?.status, 400, `${JSON.stringify(filter)} status`);
    t.equal(thrown?.scimType, 'invalidFilter', `${JSON.stringify(filter)} scimType`);
    t.match(thrown?.message, error, `${JSON.stringify(filter)} detail`);
  }
});

t.test('parseFilter: size and nesting limits', async (t) => {
  const long = `userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`;
  t.match(scimErrorOf(t, () => parseFilter(long))?.message, 'longer than 10000 characters');
  const fits = `userName eq "${'x'.repeat(MAX_FILTER_LENGTH - 15)}"`;
  t.equal(parseFilter(fits).op, 'eq');

  const parens = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
  t.strictSame(parseFilter(parens(MAX_FILTER_DEPTH)), { op: 'pr', path: { attr: 'a' } });
  t.match(scimErrorOf(t, () => parseFilter(parens(MAX_FILTER_DEPTH + 1)))?.message, 'deeper than 50 levels at position 50');

  const nots = (n: number) => `${'not ('.repeat(n)}a pr${')'.repeat(n)}`;
  t.equal(parseFilter(nots(MAX_FILTER_DEPTH)).op, 'not');
  t.match(scimErrorOf(t, () => parseFilter(nots(MAX_FILTER_DEPTH + 1)))?.message, 'deeper than 50 levels');

  const inValuePath = `emails[${parens(MAX_FILTER_DEPTH - 1)}]`;
  t.equal(parseFilter(inValuePath).op, 'valuePath');
  t.match(scimErrorOf(t, () => parseFilter(`emails[${parens(MAX_FILTER_DEPTH)}]`))?.message, 'deeper than 50 levels');
});

t.test('parseFilter: a non-string input is an invalidFilter too', async (t) => {
  t.equal(scimErrorOf(t, () => parseFilter(undefined as unknown as string))?.scimType, 'invalidFilter');
});

t.test('parsePatchPath: valid fixtures', async (t) => {
  for (const { path, ast } of patchPaths.valid) {
    t.strictSame(parsePatchPath(path), ast, path);
  }
});

t.test('parsePatchPath: invalid fixtures throw invalidPath', async (t) => {
  t.ok(patchPaths.invalid.length >= 20);
  for (const { path, error } of patchPaths.invalid) {
    const thrown = scimErrorOf(t, () => parsePatchPath(path));
    t.equal(thrown?.status, 400, `${JSON.stringify(path)} status`);
    t.equal(thrown?.scimType, 'invalidPath', `${JSON.stringify(path)} scimType`);
    t.match(thrown?.message, error, `${JSON.stringify(path)} detail`);
  }
});

t.test('formatFilter', async (t) => {
  for (const { filter, ast } of filters.valid) {
    t.strictSame(parseFilter(formatFilter(ast)), ast, `round trip of ${filter}`);
  }
  for (const { path, ast } of patchPaths.valid) {
    t.strictSame(parsePatchPath(formatPatchPath(ast)), ast, `round trip of ${path}`);
  }

  const canonical: Array<[string, string]> = [
    ['userName EQ "x" AND (title pr OR nickName pr)', 'userName eq "x" and (title pr or nickName pr)'],
    ['((a pr))', 'a pr'],
    ['(a pr and b pr) and c pr', 'a pr and b pr and c pr'],
    ['a pr and (b pr and c pr)', 'a pr and (b pr and c pr)'],
    ['a pr or (b pr or c pr)', 'a pr or (b pr or c pr)'],
    ['a pr or b pr and c pr', 'a pr or b pr and c pr'],
    ['(a pr or b pr) and c pr', '(a pr or b pr) and c pr'],
    ['NOT(a pr)', 'not (a pr)'],
    ['a eq 1E3 and b eq -0.5 and c eq NULL and d eq True', 'a eq 1000 and b eq -0.5 and c eq null and d eq true'],
    ['a eq "x\\"y\\u0041\\n"', 'a eq "x\\"yA\\n"'],
    ['emails [ Type EQ "work" ]', 'emails[Type eq "work"]'],
    // a sub-attribute after a value filter is the same element's sub-attribute
    ['emails[type eq "work"].value eq "x"', 'emails[type eq "work" and value eq "x"]'],
    ['emails[type eq "work" or primary eq true].value pr', 'emails[(type eq "work" or primary eq true) and value pr]'],
    [
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
    ],
  ];
  for (const [input, expected] of canonical) t.equal(formatFilter(parseFilter(input)), expected, input);

  const handBuilt: Filter = {
    op: 'and',
    left: { op: 'or', left: { op: 'pr', path: { attr: 'a' } }, right: { op: 'pr', path: { attr: 'b' } } },
    right: { op: 'and', left: { op: 'pr', path: { attr: 'c' } }, right: { op: 'eq', path: { attr: 'd' }, value: 'e"f' } },
  };
  t.equal(formatFilter(handBuilt), '(a pr or b pr) and (c pr and d eq "e\\"f")');
  t.strictSame(parseFilter(formatFilter(handBuilt)), handBuilt);

  t.equal(formatPatchPath(parsePatchPath('emails[type eq "work"].value')), 'emails[type eq "work"].value');
});

t.test('random ASTs round-trip, and mangled filters only ever throw invalidFilter', async (t) => {
  // mulberry32: a tiny seeded PRNG so failures reproduce.
  let seed = 20240601;
  const random = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
  };
  const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

  const paths: AttrPath[] = [
    { attr: 'userName' },
    { attr: 'name', sub: 'givenName' },
    { attr: 'members', sub: '$ref' },
    { uri: ENTERPRISE, attr: 'manager', sub: 'value' },
    { uri: ENTERPRISE, attr: 'employeeNumber' },
  ];
  const values = ['', 'x', 'a"b\\c', '\u0000\n\t', '日本', 'and or not ( ) [ ]', 0, -1.5, 1e21, 3, true, false, null];
  const ops = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
  const randomFilter = (depth: number, inValuePath: boolean): Filter => {
    const choice = random(depth > 4 ? 2 : 6);
    if (choice === 0) return { op: 'pr', path: pick(paths) };
    if (choice === 1) return { op: pick(ops), path: pick(paths), value: pick(values) };
    if (choice === 2) return { op: 'not', filter: randomFilter(depth + 1, inValuePath) };
    if (choice === 5 && !inValuePath) return { op: 'valuePath', path: { attr: 'emails' }, filter: randomFilter(depth + 1, true) };
    return {
      op: choice === 3 ? 'and' : 'or',
      left: randomFilter(depth + 1, inValuePath),
      right: randomFilter(depth + 1, inValuePath),
    };
  };
  const noise = ['(', ')', '[', ']', '"', '\\', ' ', 'not', ' and ', ' or ', 'pr', ':', '.', '1e', '-', 'x'];

  const problems: string[] = [];
  let mangledAccepted = 0;
  for (let i = 0; i < 2000; i++) {
    const ast = randomFilter(0, false);
    const text = formatFilter(ast);
    if (JSON.stringify(parseFilter(text)) !== JSON.stringify(ast)) problems.push(`round trip of ${text}`);

    const at = random(text.length + 1);
    const mangled = random(2) === 0 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + pick(noise) + text.slice(at);
    try {
      const reparsed = parseFilter(mangled);
      mangledAccepted++;
      if (JSON.stringify(parseFilter(formatFilter(reparsed))) !== JSON.stringify(reparsed)) {
        problems.push(`round trip of ${mangled}`);
      }
    } catch (error) {
      if (!(error instanceof ScimError) || error.scimType !== 'invalidFilter') problems.push(`${mangled}: ${String(error)}`);
    }
  }
  t.strictSame(problems, []);
  t.ok(mangledAccepted > 0 && mangledAccepted < 2000, `${mangledAccepted} of 2000 mangled filters still parsed`);
});

// RFC 7643 §8.2, trimmed to the attributes the tests touch.
const user = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: '701984',
  userName: 'bjensen@example.com',
  name: {
    formatted: 'Ms. Barbara J Jensen, III',
    familyName: 'Jensen',
    givenName: 'Barbara',
    middleName: 'Jane',
    honorificPrefix: 'Ms.',
    honorificSuffix: 'III',
  },
  displayName: 'Babs Jensen',
  nickName: 'Babs',
  profileUrl: 'https://login.example.com/bjensen',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  addresses: [
    {
      type: 'work',
      streetAddress: '100 Universal City Plaza',
      locality: 'Hollywood',
      region: 'CA',
      postalCode: '91608',
      country: 'USA',
      primary: true,
    },
    { type: 'home', streetAddress: '456 Hollywood Blvd', locality: 'Hollywood', region: 'CA', postalCode: '91608' },
  ],
  phoneNumbers: [
    { value: '555-555-5555', type: 'work' },
    { value: '555-555-4444', type: 'mobile' },
  ],
  ims: [{ value: 'someaimhandle', type: 'aim' }],
  userType: 'Employee',
  title: 'Tour Guide',
  preferredLanguage: 'en-US',
  locale: 'en-US',
  timezone: 'America/Los_Angeles',
  active: true,
  groups: [
    {
      value: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
      $ref: 'https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a',
      display: 'Tour Guides',
    },
  ],
  [ENTERPRISE]: {
    employeeNumber: '701984',
    costCenter: '4130',
    organization: 'Universal Studios',
    division: 'Theme Park',
    department: 'Tour Operations',
    manager: {
      value: '26118915-6090-4610-87e4-49d8ca9f808d',
      $ref: '../Users/26118915-6090-4610-87e4-49d8ca9f808d',
      displayName: 'John Smith',
    },
  },
  meta: {
    resourceType: 'User',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2011-05-13T04:42:34Z',
    version: 'W/"a330bc54f0671c9"',
    location: 'https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646',
  },
};

t.test('evaluateFilter against an RFC 7643 §8.2 user', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['userName eq "bjensen@example.com"', true],
    ['USERNAME eq "BJensen@Example.com"', true],
    ['userName eq "bjensen"', false],
    ['userName ne "bjensen"', true],
    ['userName ne "BJENSEN@EXAMPLE.COM"', false],
    ['userName co "jensen@"', true],
    ['userName sw "BJEN"', true],
    ['userName ew ".COM"', true],
    ['userName ew "example"', false],
    ['name.familyName eq "jensen"', true],
    ['NAME.GIVENNAME sw "barb"', true],
    ['name.givenName gt "b"', true],
    ['name.givenName lt "ALICE"', false],
    ['name[givenName eq "Barbara" and familyName eq "Jensen"]', true],
    ['emails eq "babs@jensen.org"', true],
    ['emails.value ew "example.com"', true],
    ['emails.type eq "mobile"', false],
    ['emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "home" and value co "@example.com"]', false],
    ['emails.type eq "home" and emails.value co "@example.com"', true],
    ['emails[primary eq true]', true],
    ['emails[not (type eq "work")]', true],
    ['emails[type eq "work"] and not (phoneNumbers[type eq "fax"])', true],
    ['phoneNumbers[type eq "fax"]', false],
    // attrPath[valFilter].subAttr: one element must satisfy both the value filter and the comparison
    ['emails[type eq "work"].value eq "bjensen@example.com"', true],
    ['emails[type eq "home"].value eq "bjensen@example.com"', false],
    ['emails[type eq "work"].value co "@jensen.org"', false],
    ['emails[type eq "home"].value co "@JENSEN.org"', true],
    ['emails[type eq "work"].primary eq true', true],
    ['emails[type eq "home"].primary eq true', false],
    ['emails[type eq "work"].display pr', false],
    ['not (emails[type eq "home"].value eq "bjensen@example.com") and userName pr', true],
    [`${ENTERPRISE}:manager[value pr].displayName eq "john smith"`, true],
    ['x509Certificates[value pr]', false],
    ['groups[display eq "tour guides"]', true],
    ['groups.$ref co "/Groups/"', true],
    ['meta.lastModified gt "2011-05-13T04:42:32Z"', true],
    ['meta.lastModified lt "2011-01-01T00:00:00Z"', false],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', true],
    ['meta.lastModified le "2011-05-13T04:42:34Z"', true],
    ['meta.resourceType eq "User"', true],
    ['title pr', true],
    ['emails pr', true],
    ['name pr', true],
    ['emails.display pr', false],
    ['x509Certificates pr', false],
    ['active eq true', true],
    ['active eq "true"', false],
    ['active ne false', true],
    ['active gt false', false],
    [`${ENTERPRISE}:employeeNumber eq "701984"`, true],
    [`${ENTERPRISE}:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true],
    [`${ENTERPRISE}:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true],
    [`${ENTERPRISE}:manager.displayName sw "john"`, true],
    [`${ENTERPRISE.toLowerCase()}:EMPLOYEENUMBER eq "701984"`, true],
    [`${ENTERPRISE}:manager[displayName eq "John Smith"]`, true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:Group:displayName pr', false],
    ['employeeNumber eq "701984"', false],
    ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', true],
    ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false],
    ['not (userName eq "x")', true],
    ['title pr and userType eq "Intern" or active eq true', true],
    ['title pr and (userType eq "Intern" or active eq false)', false],
  ];
  for (const [filter, expected] of cases) t.equal(evaluateFilter(parseFilter(filter), user), expected, filter);
});

t.test('evaluateFilter: numbers, null, presence and primitive arrays', async (t) => {
  const resource = {
    count: 42,
    ratio: 0.5,
    nothing: null,
    empty: '',
    list: [],
    object: {},
    flag: false,
    tags: ['Red', 'green'],
  };
  const cases: Array<[string, boolean]> = [
    ['count gt 41.5', true],
    ['count ge 42', true],
    ['count lt 42', false],
    ['count le 42', true],
    ['count eq 42.0', true],
    ['count ne 42', false],
    ['ratio lt 1e0', true],
    ['count co 4', false],
    ['count eq "42"', false],
    ['count ne "42"', true],
    ['count gt "4"', false],
    ['nothing eq null', true],
    ['missing eq null', true],
    ['list eq null', true],
    ['missing ne null', false],
    ['missing ne "x"', true],
    ['missing eq "x"', false],
    ['missing gt 1', false],
    ['count eq null', false],
    ['count ne null', true],
    ['nothing pr', false],
    ['missing pr', false],
    ['empty pr', false],
    ['list pr', false],
    ['object pr', false],
    ['flag pr', true],
    ['count pr', true],
    ['flag eq false', true],
    ['flag le true', false],
    ['tags eq "red"', true],
    ['tags sw "GR"', true],
    ['tags eq "blue"', false],
    ['tags[value pr]', false],
  ];
  for (const [filter, expected] of cases) t.equal(evaluateFilter(parseFilter(filter), resource), expected, filter);
  t.equal(evaluateFilter(parseFilter('a pr'), null), false, 'a non-object resource has no attributes');
  t.equal(evaluateFilter(parseFilter('a eq null'), 'text'), true);
});

t.test('evaluateFilter: caseExact', async (t) => {
  const seen: AttrPath[] = [];
  const caseExact = (path: AttrPath) => {
    seen.push(path);
    return path.attr === 'userName' || (path.attr === 'emails' && path.sub === 'value') || path.attr === 'name';
  };
  const check = (filter: string) => evaluateFilter(parseFilter(filter), user, { caseExact });

  t.equal(check('userName eq "BJENSEN@EXAMPLE.COM"'), false);
  t.equal(check('userName eq "bjensen@example.com"'), true);
  t.equal(check('title eq "TOUR GUIDE"'), true);
  t.equal(check('emails[value eq "BABS@JENSEN.ORG"]'), false);
  t.equal(check('emails[type eq "HOME"]'), true);
  t.equal(check('name.familyName gt "a"'), false, 'code-unit order: "J" sorts before "a"');
  t.equal(evaluateFilter(parseFilter('name.familyName gt "a"'), user), true);

  seen.length = 0;
  check(`${ENTERPRISE}:manager[displayName eq "x"]`);
  t.strictSame(seen, [{ uri: ENTERPRISE, attr: 'manager', sub: 'displayName' }], 'valuePath asks with the absolute path');
});

t.test('evaluateFilter on one element, as PATCH does for a value filter', async (t) => {
  const { filter } = parsePatchPath('emails[type eq "work" and primary eq true].value');
  t.ok(filter);
  if (!filter) return;
  t.strictSame(
    user.emails.filter((email) => evaluateFilter(filter, email)),
    [user.emails[0]],
  );
});

t.test('redactFilterPasswords: every value compared with the password, in any form', async (t) => {
  const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
  const cases: [string, string][] = [
    ['password eq "Secret-1"', 'password eq "[REDACTED]"'],
    ['PassWord EQ "Secret-1"', 'PassWord EQ "[REDACTED]"'],
    [`${USER}:password sw "Secret-1"`, `${USER}:password sw "[REDACTED]"`],
    ['userName eq "ann" and (password eq "Secret-1" or password co "Secret-2")', 'userName eq "ann" and (password eq "[REDACTED]" or password co "[REDACTED]")'],
    ['not (password ne "Se\\"cret")', 'not (password ne "[REDACTED]")'],
    ['emails[type eq "work"] or password eq Secret-1', 'emails[type eq "work"] or password eq [REDACTED]'],
    ['password[value eq "Secret-1" or value sw "Secret-2"]', 'password[value eq "[REDACTED]" or value sw "[REDACTED]"]'],
    ['x[password eq "Secret-1"] and userName eq "bob"', 'x[password eq "[REDACTED]"] and userName eq "bob"'],
    ['password "Secret-1"', 'password "[REDACTED]"'],
    ['password pr "Secret-1"', 'password pr "[REDACTED]"'],
    ['password eq "Unterminated-Secret', 'password eq "[REDACTED]"'],
    ['userName eq "password eq x"', 'userName eq "password eq x"'],
    ['userName eq "a" and title eq "b"', 'userName eq "a" and title eq "b"'],
  ];
  for (const [text, expected] of cases) t.equal(redactFilterPasswords(text), expected, text);
});

t.test('filter errors do not quote a value compared with the password', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['password eq Secret-1', 'Secret-1', /Invalid value \[REDACTED\] at position 12/],
    ['password "Secret-String-1"', 'Secret-String-1', /found string \[REDACTED\]/],
    ['password pr "Secret-1"', 'Secret-1', /takes no value, found string \[REDACTED\]/],
    ['password Secret-Op and x pr', 'Secret-Op', /Unknown operator \[REDACTED\]/],
    ['password eq "Secret-1" "Secret-2"', 'Secret-2', /Unexpected string \[REDACTED\]/],
    // what follows a password comparison up to "and"/"or" counts as part of it
    [`password eq "${'Long-Secret-'.repeat(6)}" junk`, 'Long-Secret-', /Unexpected \[REDACTED\] at position 87/],
    [`password eq ${'Long-Secret-'.repeat(6)}`, 'Long-Secret-', /Invalid value \[REDACTED\]/],
    ['password eq "Sec\\u12G4ret"', 'u12G4', /Invalid unicode escape \[REDACTED\] at position 16/],
  ];
  for (const [text, secret, detail] of cases) {
    const error = scimErrorOf(t, () => parseFilter(text));
    t.equal(error?.scimType, 'invalidFilter', `${text}: invalidFilter`);
    t.match(error?.message, detail, `${text}: ${error?.message}`);
    t.notOk(error?.message.includes(secret), `${text}: the detail does not contain ${secret}`);
  }
  const path = scimErrorOf(t, () => parsePatchPath('password[value eq Secret-1]'));
  t.equal(path?.scimType, 'invalidPath');
  t.notOk(path?.message.includes('Secret-1'), `a PATCH path too: ${path?.message}`);
  // other filters keep their quotes, which help
  t.match(scimErrorOf(t, () => parseFilter('userName eq bob'))?.message, /Invalid value "bob"/);
});
