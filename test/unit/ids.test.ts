// Resource ids: UUIDv7, in creation order even within one millisecond or when the clock steps back.
import t from 'tap';
import { uuidv7 } from '../../src/scim/ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

t.test('format: version 7, RFC 9562 variant, the time in the first 48 bits', async (t) => {
  const now = Date.UTC(2026, 11, 5, 3, 0, 0, 123);
  const id = uuidv7(now);
  t.match(id, V7);
  t.equal(msOf(id), now);
});

t.test('10,000 ids in one millisecond, then a clock that steps back: strictly increasing, all distinct', async (t) => {
  const ids: string[] = [];
  const ms = Date.UTC(2027, 0, 1);
  for (let i = 0; i < 10_000; i++) ids.push(uuidv7(ms));
  ids.push(uuidv7(ms - 5000));
  ids.push(uuidv7(ms + 1));
  let sorted = true;
  for (let i = 1; i < ids.length; i++) if (!(ids[i - 1]! < ids[i]!)) sorted = false;
  t.ok(sorted, 'each id sorts after the previous one');
  t.equal(new Set(ids).size, ids.length, 'no duplicates');
  t.ok(ids.every((id) => V7.test(id)), 'all are v7');
  t.equal(msOf(ids[10_000]!), ms, 'a clock stepping back keeps the last millisecond');
  t.equal(msOf(ids[10_001]!), ms + 1);
});

t.test('the counter and the tail are random: ids of two milliseconds share no more than their time', async (t) => {
  const ms = Date.UTC(2028, 0, 1);
  const a = uuidv7(ms).replace(/-/g, '');
  const b = uuidv7(ms + 1).replace(/-/g, '');
  t.not(a.slice(13), b.slice(13), 'counter and random bits differ');
  t.not(a.slice(20), b.slice(20), 'the 48 random bits differ');
});
