// SCIM reads on the reader thread: the same answers and audit entries as on the event loop, every
// acknowledged change visible to the next read, and reads that keep working when the thread fails.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createThreadScimReader } from '../../src/services/scim-reader.js';
import type { ReadOutcome } from '../../src/services/scim-reads.js';
import { auditRows, build, PATCH_SCHEMA, qs, tempDir, USER_SCHEMA } from '../helper.js';

async function threadedApp(t: Parameters<typeof build>[0]) {
  const b = await build(t);
  b.app.scimReader.start();
  for (let i = 0; i < 400 && !b.app.scimReader.threaded(); i++) await new Promise((r) => setTimeout(r, 25));
  return b;
}

t.test('list, get by id, 404 and invalid filters through the thread, each logged once', async (t) => {
  const b = await threadedApp(t);
  t.ok(b.app.scimReader.threaded(), 'the reader thread answers reads');
  const created = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'Ada@Example.com', externalId: 'ada-1' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id as string;

  const list = await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq "ada@example.com"' })}` });
  t.equal(list.statusCode, 200);
  t.match(list.headers['content-type'], /^application\/scim\+json/);
  t.match(list.json(), { totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [{ id, userName: 'Ada@Example.com', externalId: 'ada-1' }] });

  const one = await b.scim({ method: 'GET', url: `/Users/${id}?attributes=userName` });
  t.equal(one.statusCode, 200);
  t.equal(one.headers.etag, created.headers.etag, 'the ETag of the stored version');
  t.same(Object.keys(one.json()).sort(), ['id', 'schemas', 'userName'], 'the projection applied by the thread');
  const notModified = await b.scim({ method: 'GET', url: `/Users/${id}`, headers: { 'if-none-match': String(created.headers.etag) } });
  t.equal(notModified.statusCode, 304);

  const missing = await b.scim({ method: 'GET', url: '/Users/no-such-id' });
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: /no-such-id/ });
  const bad = await b.scim({ method: 'GET', url: `/Users?${qs({ filter: 'userName eq' })}` });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { status: '400', scimType: 'invalidFilter' });
  const search = await b.scim({ method: 'POST', url: '/Groups/.search', payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'displayName sw "x"' } });
  t.equal(search.statusCode, 200);
  t.match(search.json(), { totalResults: 0, Resources: [] });

  const rows = auditRows(b.app).filter((r) => r.protocol === 'SCIM');
  t.same(
    rows.map((r) => [r.event, r.http]),
    [
      ['Create User', 201],
      ['List Users', 200],
      ['Get User', 200],
      ['Get User', 304],
      ['Get User', 404],
      ['List Users', 400],
      ['Search Groups', 200],
    ],
    'one entry per request, in order',
  );
  t.match(String(rows[1]!.log), /^Listed Users: filter userName eq "ada@example.com", 1 users matched, 1 returned\n/, 'the summary comes back from the thread');
  t.equal(rows[2]!.resource_id, id, 'a get names the user it returned');
  t.match(String(rows[4]!.log), /^Get User failed \(404\)/);
});

t.test('a read answered after a change always shows it (64 users patched and read back concurrently)', async (t) => {
  const b = await threadedApp(t);
  const ids = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      const r = await b.scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: `u${i}@example.com` } });
      return r.json().id as string;
    }),
  );
  for (let round = 1; round <= 3; round++) {
    const seen = await Promise.all(
      ids.map(async (id, i) => {
        const patched = await b.scim({
          method: 'PATCH',
          url: `/Users/${id}`,
          payload: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'displayName', value: `round ${round}` }] },
        });
        if (patched.statusCode !== 200) return `PATCH ${patched.statusCode}`;
        const [byId, byFilter] = await Promise.all([
          b.scim({ method: 'GET', url: `/Users/${id}` }),
          b.scim({ method: 'GET', url: `/Users?${qs({ filter: `userName eq "u${i}@example.com"` })}` }),
        ]);
        return `${byId.json().displayName}|${byFilter.json().Resources[0].displayName}`;
      }),
    );
    t.same(new Set(seen), new Set([`round ${round}|round ${round}`]), `round ${round}: every read shows its user's PATCH`);
  }
  t.ok(b.app.scimReader.threaded(), 'still on the thread');
});

t.test('a thread that cannot open the database: reads run on the event loop, and the error is reported', async (t) => {
  const errors: string[] = [];
  const answer: ReadOutcome = { ok: true, kind: 'list', body: '{"totalResults":0}', summary: 'none' };
  // the database's directory cannot be made: its parent is a file
  const file = join(tempDir(t), 'a-file');
  writeFileSync(file, '');
  const reader = createThreadScimReader({
    databasePath: join(file, 'db', 'x.sqlite'),
    inline: () => answer,
    onThreadError: (message) => errors.push(message),
  });
  t.teardown(() => reader.close());
  reader.start();
  for (let i = 0; i < 400 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  t.equal(errors.length, 1, 'the failure is reported once');
  t.notOk(reader.threaded());
  t.same(await reader.read({ kind: 'list', resourceType: 'User', params: {}, baseUrl: 'http://x/scim/v2' }), answer, 'the read is answered inline');
  t.equal(errors.length, 1, 'no new thread within 5 s of the failure');
});
