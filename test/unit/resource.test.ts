import { readFileSync } from 'node:fs';
import t from 'tap';
import { applyPatch, normalizeResource, parseAttributeList, projectionReturns, projectResource } from '../../src/scim/resource.js';
import { groupResourceType, userResourceType, type ResourceTypeDef } from '../../src/scim/schemas.js';

const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, unknown>;

interface PatchCase {
  name: string;
  resourceType: 'User' | 'Group';
  before: Json;
  body: unknown;
  after?: Json;
  changed?: boolean;
  error?: { status: number; scimType: string };
}

const cases = JSON.parse(
  readFileSync(new URL('../fixtures/patch-cases.json', import.meta.url), 'utf8'),
) as PatchCase[];

const types: Record<PatchCase['resourceType'], ResourceTypeDef> = { User: userResourceType, Group: groupResourceType };

/** What `fn` throws, to be matched against `scimError(...)`. */
function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return 'nothing was thrown';
}

function scimError(status: number, scimType: string, message?: RegExp) {
  return { name: 'ScimError', status, scimType, ...(message && { message }) };
}

const user = (body: Json) => normalizeResource(userResourceType, body);
const group = (body: Json) => normalizeResource(groupResourceType, body);

t.test('normalizeResource', async (t) => {
  t.test('canonical names, dotted and URN-prefixed keys', async (t) => {
    const out = user({
      schemas: [CORE.toUpperCase(), ENT.toLowerCase()],
      USERNAME: 'alice',
      'Name.GivenName': 'Alice',
      name: { FamilyName: 'Smith' },
      [`${ENT}:Department`]: 'Sales',
      [ENT.toLowerCase()]: { costcenter: '42' },
      'urn:ietf:params:scim:schemas:core:2.0:User:displayName': 'Alice Smith',
      emails: [{ VALUE: 'a@x', Type: 'work' }],
    });
    t.same(out, {
      schemas: [CORE, ENT],
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Smith' },
      displayName: 'Alice Smith',
      emails: [{ value: 'a@x', type: 'work' }],
      [ENT]: { department: 'Sales', costCenter: '42' },
    });
    t.same(Object.keys(out)[0], 'schemas', 'schemas comes first');
  });

  t.test('schemas is computed from the attributes present', async (t) => {
    t.same(user({ schemas: [CORE, ENT], userName: 'a' }).schemas, [CORE]);
    t.same(user({ userName: 'a', [ENT]: { division: 'd' } }).schemas, [CORE, ENT]);
    t.same(user({ userName: 'a', [ENT]: {} }), { schemas: [CORE], userName: 'a' });
  });

  t.test('read-only attributes are dropped, externalId and password kept', async (t) => {
    const out = user({
      id: 'x',
      meta: { resourceType: 'User' },
      groups: [{ value: 'g' }],
      userName: 'a',
      externalId: 'ext',
      password: 'secret',
      [ENT]: { manager: { value: 'm', displayName: 'Boss' } },
    });
    t.same(out, { schemas: [CORE, ENT], userName: 'a', externalId: 'ext', password: 'secret', [ENT]: { manager: { value: 'm' } } });
  });

  t.test('coercions', async (t) => {
    t.equal(user({ userName: 'a', active: 'False' }).active, false);
    t.equal(user({ userName: 'a', active: 'TRUE' }).active, true);
    t.equal(user({ userName: 'a', active: true }).active, true);
    t.same(user({ userName: 'a', emails: { value: 'a@x', primary: 'true' } }).emails, [{ value: 'a@x', primary: true }], 'single value wrapped');
    t.same(user({ userName: 'a', emails: [null, { value: 'a@x' }, { value: 'a@x' }] }).emails, [{ value: 'a@x' }], 'nulls and duplicates dropped');
    t.notOk('title' in user({ userName: 'a', title: null }), 'null unassigns');
    t.notOk('emails' in user({ userName: 'a', emails: [] }), 'empty array unassigns');
  });

  t.test('enterprise manager', async (t) => {
    t.same(user({ userName: 'a', [ENT]: { manager: 'm-1' } })[ENT], { manager: { value: 'm-1' } });
    t.same(user({ userName: 'a', [`${ENT}:manager`]: { value: 'm-2' } })[ENT], { manager: { value: 'm-2' } });
    t.same(user({ userName: 'a', [ENT]: { manager: '' } }), { schemas: [CORE], userName: 'a' });
    t.same(user({ userName: 'a', [ENT]: { manager: null, department: 'd' } })[ENT], { department: 'd' });
    t.same(user({ userName: 'a', [ENT]: { manager: { value: '' } } }), { schemas: [CORE], userName: 'a' });
  });

  t.test('group members', async (t) => {
    const out = group({
      schemas: [GROUP],
      displayName: 'G',
      members: [
        { value: 'u-1', type: 'user', display: 'Alice', $ref: 'https://x/Users/u-1' },
        { value: 'g-1', type: 'GROUP' },
        { value: 'u-1' },
      ],
    });
    t.same(out.members, [{ value: 'u-1', type: 'User' }, { value: 'g-1', type: 'Group' }]);
  });

  t.test('errors', async (t) => {
    const cases: Array<[string, unknown, RegExp, string?]> = [
      ['not an object', ['x'], /JSON object/, 'invalidSyntax'],
      ['unknown schema', { schemas: ['urn:example:Thing'], userName: 'a' }, /Unknown schema "urn:example:Thing"/],
      ['schemas not an array', { schemas: CORE, userName: 'a' }, /"schemas" must be an array/],
      ['unknown attribute', { userName: 'a', foo: 1 }, /Unknown attribute "foo" for User/],
      ['unknown sub-attribute', { userName: 'a', name: { nick: 'x' } }, /Unknown attribute "name.nick" for User/],
      ['unknown dotted key', { userName: 'a', 'name.nick': 'x' }, /Unknown attribute "name.nick"/],
      ['unknown extension attribute', { userName: 'a', [ENT]: { shoeSize: 4 } }, /shoeSize/],
      ['unknown URN key', { userName: 'a', 'urn:example:ext:foo': 1 }, /Unknown attribute/],
      ['number as string', { userName: 42 }, /Attribute "userName" must be a string/],
      ['bad boolean', { userName: 'a', active: 'yes' }, /Attribute "active" must be a boolean/],
      ['bad nested type', { userName: 'a', emails: [{ value: 1 }] }, /Attribute "emails.value" must be a string/],
      ['complex not an object', { userName: 'a', name: 'Alice' }, /Attribute "name" must be an object/],
      ['missing userName', { name: { givenName: 'A' } }, /Attribute "userName" is required/],
      ['empty userName', { userName: '' }, /Attribute "userName" is required/],
      ['two primaries', { userName: 'a', emails: [{ value: 'a', primary: true }, { value: 'b', primary: 'True' }] }, /primary/],
      ['dotted multi-valued', { userName: 'a', 'emails.value': 'x' }, /multi-valued/],
      ['extension not an object', { userName: 'a', [ENT]: 'x' }, /must be an object/],
    ];
    for (const [name, body, detail, scimType = 'invalidValue'] of cases) {
      t.match(errorOf(() => normalizeResource(userResourceType, body)), scimError(400, scimType, detail), name);
    }
    t.match(errorOf(() => group({ members: [] })), scimError(400, 'invalidValue', /"displayName" is required for Group/));
    t.match(errorOf(() => group({ displayName: 'G', members: [{ type: 'User' }] })), scimError(400, 'invalidValue', /members.value/));
    t.match(errorOf(() => group({ displayName: 'G', members: [{ value: 'd', type: 'Device' }] })), scimError(400, 'invalidValue', /"User" or "Group"/));
    t.match(errorOf(() => group({ displayName: 'G', userName: 'x' })), scimError(400, 'invalidValue', /Unknown attribute "userName" for Group/));
    t.match(errorOf(() => group({ displayName: 'G', [ENT]: { department: 'x' } })), scimError(400, 'invalidValue'));
  });

  t.test('partial skips required checks', async (t) => {
    t.same(normalizeResource(userResourceType, { active: 'false' }, { partial: true }), { schemas: [CORE], active: false });
  });

  t.test('input is not mutated', async (t) => {
    const input = { userName: 'a', 'name.givenName': 'A', [ENT]: { manager: 'm' }, emails: { value: 'a@x', primary: 'True' } };
    const copy = structuredClone(input);
    user(input);
    t.same(input, copy);
  });
});

t.test('applyPatch fixtures', async (t) => {
  t.ok(cases.length >= 35, `${cases.length} fixture cases`);
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const rt = types[c.resourceType];
      const before = structuredClone(c.before);
      if (c.error) {
        t.match(errorOf(() => applyPatch(rt, before, c.body)), scimError(c.error.status, c.error.scimType));
      } else {
        const { resource, changed } = applyPatch(rt, before, c.body);
        t.same(resource, c.after);
        t.equal(changed, c.changed ?? true, 'changed');
      }
      t.same(before, c.before, 'input not mutated');
    });
  }
});

t.test('applyPatch: the result is canonical', async (t) => {
  const before = user({ userName: 'a' });
  const { resource } = applyPatch(userResourceType, before, {
    schemas: [PATCH],
    Operations: [{ op: 'add', path: `${ENT}:manager`, value: 'm-1' }],
  });
  t.same(resource.schemas, [CORE, ENT]);
  t.same(resource, user(resource), 'normalizing again changes nothing');
});

t.test('projectResource', async (t) => {
  const full: Json = {
    schemas: [CORE, ENT],
    id: 'u-1',
    externalId: 'ext',
    meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2024-02-01T00:00:00Z', location: 'https://x/Users/u-1' },
    userName: 'alice',
    password: 'should-never-appear',
    name: { givenName: 'Alice', familyName: 'Smith' },
    emails: [
      { value: 'a@work', type: 'work', primary: true },
      { value: 'a@home', type: 'home' },
    ],
    groups: [{ value: 'g-1', display: 'Eng' }],
    [ENT]: { department: 'Sales', manager: { value: 'm-1' } },
  };
  const project = (options: { attributes?: string[]; excludedAttributes?: string[] }) =>
    projectResource(userResourceType, full, options);
  const { password: _password, ...withoutPassword } = full;

  t.same(project({}), withoutPassword, 'no options: everything but password');
  t.same(project({ attributes: ['password'] }), { schemas: full.schemas, id: 'u-1' }, 'password never returned');
  t.same(project({ attributes: ['userName'] }), { schemas: full.schemas, id: 'u-1', userName: 'alice' }, 'id and schemas always');
  t.same(project({ attributes: ['NAME.givenname', 'emails.value', 'meta.lastModified'] }), {
    schemas: full.schemas,
    id: 'u-1',
    name: { givenName: 'Alice' },
    emails: [{ value: 'a@work' }, { value: 'a@home' }],
    meta: { lastModified: '2024-02-01T00:00:00Z' },
  });
  t.same(project({ attributes: ['emails.value', 'emails.type', 'emails'] }).emails, full.emails, 'whole attribute wins');
  t.same(project({ attributes: [`${ENT}:manager`] }), { schemas: full.schemas, id: 'u-1', [ENT]: { manager: { value: 'm-1' } } });
  t.same(project({ attributes: [`${ENT}:manager.value`, 'department'] }), {
    schemas: full.schemas,
    id: 'u-1',
    [ENT]: { department: 'Sales', manager: { value: 'm-1' } },
  }, 'URN-prefixed sub-attribute and bare extension name');
  t.same(project({ attributes: [ENT.toLowerCase()] }), { schemas: full.schemas, id: 'u-1', [ENT]: full[ENT] }, 'whole extension');
  t.same(project({ attributes: ['nonsense', 'urn:example:x:y', 'name.nonsense'] }), { schemas: full.schemas, id: 'u-1' }, 'unknown names ignored');
  t.same(project({ attributes: ['title'] }), { schemas: full.schemas, id: 'u-1' }, 'absent attribute omitted');

  const { groups: _groups, meta: _meta, ...noGroupsNoMeta } = withoutPassword;
  t.same(project({ excludedAttributes: ['GROUPS', 'meta', 'id', 'schemas', 'unknown'] }), noGroupsNoMeta, 'always attributes survive exclusion');
  t.same(project({ excludedAttributes: ['emails.type', 'name.givenName'] }), {
    ...withoutPassword,
    emails: [{ value: 'a@work', primary: true }, { value: 'a@home' }],
    name: { familyName: 'Smith' },
  });
  const { [ENT]: _ext, ...noExtension } = withoutPassword;
  t.same(project({ excludedAttributes: [`${ENT}:department`, `${ENT}:manager`] }), noExtension, 'emptied extension removed');
  t.same(project({ excludedAttributes: [ENT] }), noExtension);

  const groupFull = { schemas: [GROUP], id: 'g-1', displayName: 'Eng', members: [{ value: 'u-1' }], meta: { resourceType: 'Group' } };
  const { members: _members, ...groupWithoutMembers } = groupFull;
  t.same(projectResource(groupResourceType, groupFull, { excludedAttributes: ['members'] }), groupWithoutMembers, "Entra's excludedAttributes=members");
  t.same(projectResource(groupResourceType, groupFull, { attributes: ['displayName'] }), { schemas: [GROUP], id: 'g-1', displayName: 'Eng' });
  t.same(full.password, 'should-never-appear', 'input not mutated');
});

t.test('projectionReturns: names resolve as projectResource resolves them', async (t) => {
  const cases: Array<[ResourceTypeDef, { attributes?: string[]; excludedAttributes?: string[] }, string, boolean]> = [
    [userResourceType, {}, 'groups', true],
    [userResourceType, { attributes: ['groups'] }, 'groups', true],
    [userResourceType, { attributes: [`${CORE}:groups`] }, 'groups', true],
    [userResourceType, { attributes: [`${CORE.toUpperCase()}:Groups.display`] }, 'groups', true],
    [userResourceType, { attributes: ['userName', `${ENT}:manager.value`] }, 'groups', false],
    [userResourceType, { attributes: [`${ENT}:groups`] }, 'groups', false],
    [userResourceType, { attributes: [ENT] }, 'groups', false],
    [userResourceType, { excludedAttributes: [`${CORE}:groups`] }, 'groups', false],
    [userResourceType, { excludedAttributes: [`${CORE}:groups.display`] }, 'groups', true],
    [userResourceType, { excludedAttributes: [`${ENT}:manager`, 'emails'] }, 'groups', true],
    [userResourceType, { attributes: ['groups'], excludedAttributes: ['groups'] }, 'groups', false],
    [groupResourceType, { attributes: [`${GROUP}:members`] }, 'members', true],
    [groupResourceType, { attributes: [`${GROUP}:members.value`] }, 'members', true],
    [groupResourceType, { attributes: [`${GROUP}:displayName`] }, 'members', false],
    [groupResourceType, { attributes: [`${CORE}:members`] }, 'members', false],
    [groupResourceType, { excludedAttributes: [`${GROUP}:members`] }, 'members', false],
  ];
  for (const [rt, options, name, expected] of cases) {
    t.equal(projectionReturns(rt, options, name), expected, `${rt.name} ${JSON.stringify(options)} ${name}`);
  }
});

t.test('parseAttributeList', async (t) => {
  t.equal(parseAttributeList(undefined), undefined);
  t.equal(parseAttributeList(''), undefined);
  t.equal(parseAttributeList(' , '), undefined);
  t.same(parseAttributeList('userName, name.givenName ,emails'), ['userName', 'name.givenName', 'emails']);
  t.same(parseAttributeList(['userName', 'meta.created,id']), ['userName', 'meta.created', 'id']);
});
