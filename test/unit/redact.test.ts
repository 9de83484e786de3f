// redact(), redactText(), redactQuery() and mayHoldSecret(): what never reaches the audit trail.
import t from 'tap';
import { REDACTED, mayHoldSecret, redact, redactQuery, redactText } from '../../src/audit/redact.js';

t.test('redactText: key=value pairs of secret keys, with every separator a log line uses', async (t) => {
  const cases: [string, string][] = [
    ['password=hunter2 user=bob', `password=${REDACTED} user=bob`],
    ['client_secret: abc', `client_secret: ${REDACTED}`],
    ['"pwd":"x"', `"pwd":"${REDACTED}"`],
    ['password => hunter2', `password => ${REDACTED}`],
    ['{:password=>"hunter2"}', `{:password=>"${REDACTED}"}`],
    ['x := 1, secret := abc', `x := 1, secret := ${REDACTED}`],
    ['Authorization: Bearer iamt_abc.def', `Authorization: ${REDACTED}`],
    ['see urn:ietf:params:scim:schemas:core:2.0:User', 'see urn:ietf:params:scim:schemas:core:2.0:User'],
  ];
  for (const [input, expected] of cases) t.equal(redactText(input), expected, input);
});

t.test('redactQuery: a filter that does not decode is redacted whole', async (t) => {
  t.equal(redactQuery('filter=%70assword%20eq%20%22hunter2%22%ZZ'), `filter=${REDACTED}`, '"%70assword" names the password');
  t.equal(redactQuery('filter=userName%20eq%20%22a%22%ZZ&count=5'), `filter=${REDACTED}&count=5`);
  t.equal(redactQuery('filter=userName%20eq%20%22a%22&count=5'), 'filter=userName%20eq%20%22a%22&count=5', 'a filter that decodes and names no password is kept');
});

t.test('mayHoldSecret: the cheap test before redacting a serialised detail misses nothing redact() would replace', async (t) => {
  const details = [{ h: 'Basic\tdXNlcjpwYXNz' }, { h: 'Basic\ndXNlcjpwYXNz' }, { note: 'password => x' }, { Private_Key: 'k' }, { nested: [{ apiKey: 'k' }] }];
  for (const detail of details) {
    const serialised = JSON.stringify(detail);
    t.ok(mayHoldSecret(serialised), serialised);
    t.not(JSON.stringify(redact(detail)), serialised, `${serialised}: redact() does replace something`);
  }
  t.notOk(mayHoldSecret(JSON.stringify({ user: 'alice', system: 'urn:x:y' })), 'an ordinary detail skips the deep copy');
});
