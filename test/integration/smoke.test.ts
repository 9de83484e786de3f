import t from 'tap';
import { auditRows, build, USER_SCHEMA } from '../helper.js';

t.test('create and read a user, every request logged', async (t) => {
  const { scim, app } = await build(t);
  const created = await scim({ method: 'POST', url: '/Users', payload: { schemas: [USER_SCHEMA], userName: 'bjensen@example.com' } });
  t.equal(created.statusCode, 201);
  const id = created.json().id;
  const got = await scim({ method: 'GET', url: `/Users/${id}` });
  t.equal(got.statusCode, 200);
  t.equal(got.json().userName, 'bjensen@example.com');
  const rows = auditRows(app).filter((r) => r.protocol === 'SCIM');
  t.same(rows.map((r) => [r.event, r.http]), [['Create User', 201], ['Get User', 200]]);
});
