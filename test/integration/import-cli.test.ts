// `iamtrail import FILE`: the real CLI in a child process on a temp database, for JSON arrays, NDJSON
// and CSV (RFC 4180 quoting), with the same validation as the API, no duplicates on re-import,
// one summary entry per batch of 1,000 and exit code 1 when anything was rejected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { runCli as cli, tempDir } from '../helper.js';

type Json = Record<string, any>;

function rows(dbPath: string, sql: string, ...params: unknown[]): Json[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Json[];
  } finally {
    db.close();
  }
}

const events = (dbPath: string) => rows(dbPath, "SELECT * FROM audit_log WHERE protocol = 'API' ORDER BY id");
const summaries = (dbPath: string) => rows(dbPath, "SELECT * FROM audit_log WHERE action = 'EVENTS_INGESTED' ORDER BY id");

t.test('a JSON array file: stored, summarised, re-import gives duplicates', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'iamtrail.sqlite');
  const file = join(dir, 'events.json');
  writeFileSync(
    file,
    JSON.stringify(
      [
        { id: 'j1', timestamp: '2024-05-01T10:00:00Z', action: 'LOGIN', outcome: 'FAILURE', principal: 'jdoe', targetUser: 'jdoe', sourceIp: '203.0.113.7', country: 'fr' },
        { id: 'j2', timestamp: 1714557600000, action: 'CHANGE_PASSWORD', outcome: 'SUCCESS', targetUser: 'jdoe', detail: { by: 'self' } },
        { id: 'j3', action: 'PROVISIONING_ADD', targetUser: 'new', targetSystem: 'Salesforce' },
      ],
      null,
      2,
    ),
  );
  const first = await cli(db, ['import', file]);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /3 events read — 3 stored, 0 duplicates, 0 rejected/);
  t.match(first.stderr, /3 events read in [\d.]+ s/, 'a final line on stderr when it is not a TTY');
  const stored = events(db);
  t.same(
    stored.map((r) => [r.event_id, r.type, r.ts, r.country]),
    [
      ['j1', 'Login', Date.parse('2024-05-01T10:00:00Z'), 'FR'],
      ['j2', 'Password', 1714557600000, null],
      ['j3', 'Provisioning', null, null],
    ],
  );
  t.match(stored[0]!.log, /^LOGIN FAILURE for "jdoe" by "jdoe" from 203\.0\.113\.7 \(FR\)\n/);
  t.match(stored[0]!.log, /Imported by cli:\S+ from events\.json line 2/);
  const [summary] = summaries(db);
  t.match(summary, { protocol: 'CLI', type: 'Ingest', event: 'Import Events', action: 'EVENTS_INGESTED', outcome: 'SUCCESS', principal: /^cli:/ });
  t.match(summary!.log, /^Imported 3 events from events\.json with the iamtrail CLI: 3 stored, 0 duplicates, 0 rejected/);

  const again = await cli(db, ['import', file]);
  t.equal(again.code, 0, 'duplicates are not failures');
  t.match(again.stdout, /0 stored, 3 duplicates, 0 rejected/);
  t.equal(events(db).length, 3, 'nothing stored twice');
  t.equal(summaries(db).length, 2);
});

t.test('NDJSON: line by line, rejected lines reported with their line numbers, exit code 1', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'iamtrail.sqlite');
  const file = join(dir, 'events.ndjson');
  writeFileSync(
    file,
    [
      JSON.stringify({ id: 'n1', timestamp: '2024-05-01T10:00:00Z', action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'ann' }),
      '',
      '{"id":"n2","action":"LOGIN","detail":{"password":Import-Secret-7}}',
      JSON.stringify({ id: 'n3', action: 'login' }),
      JSON.stringify({ id: 'n4', action: 'LOGOUT', targetUser: 'ann' }),
      JSON.stringify({ action: 'LOGOUT' }),
      '',
    ].join('\n'),
  );
  const res = await cli(db, ['import', file]);
  t.equal(res.code, 1, 'exit code 1: something was rejected');
  t.match(res.stdout, /5 events read — 2 stored, 0 duplicates, 3 rejected/);
  t.match(res.stdout, /line 3: line 3 is not valid JSON: at line 3, column 50 \(character 50\): expected a value/);
  t.notOk(res.stdout.includes('Import-Secret-7'), 'the reason does not quote the line');
  t.notOk(JSON.stringify(rows(db, 'SELECT log FROM audit_log')).includes('Import-Secret-7'), 'nor does the trail');
  t.match(res.stdout, /line 4 \(id "n3"\): action "login" is not a catalog code/);
  t.match(res.stdout, /line 6: id is required/);
  t.same(
    events(db).map((r) => r.event_id),
    ['n1', 'n4'],
  );
  const [summary] = summaries(db);
  t.match(summary, { outcome: 'FAILURE' });
  t.match(summary!.log, /batch 1, lines 1–6/);
});

t.test('an event nested thousands of levels deep is reported like any invalid event, not a crash', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'iamtrail.sqlite');
  const file = join(dir, 'deep.json');
  const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
  writeFileSync(file, `[{"id":"ok-1","action":"LOGIN"},\n{"id":"deep","action":"LOGIN","detail":${deep}}]`);
  const res = await cli(db, ['import', file]);
  t.equal(res.code, 1, 'exit code 1: something was rejected');
  t.notMatch(res.stderr, /RangeError|Maximum call stack/, 'no stack trace');
  t.match(res.stdout, /2 events read — 1 stored, 0 duplicates, 1 rejected/);
  t.match(res.stdout, /line 2 \(id "deep"\): detail is nested deeper than 32 levels/);
  t.same(
    events(db).map((r) => r.event_id),
    ['ok-1'],
  );
});

t.test('CSV: header names the fields, quoted fields with commas, quotes and line breaks', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'iamtrail.sqlite');
  const file = join(dir, 'events.csv');
  writeFileSync(
    file,
    [
      'id,timestamp,action,outcome,principal,targetUser,targetSystem,sourceIp,country,userAgent,ticket,detail',
      'c1,2024-05-01T10:00:00Z,LOGIN,FAILURE,jdoe,jdoe,Okta,203.0.113.7,de,"Mozilla/5.0 (X11, Linux)",,"wrong password, twice',
      'then ""locked"""',
      'c2,1714557600000,CHANGE_PASSWORD,SUCCESS,svc-hr,asmith,,,,,INC-7,"{""by"":""svc-hr"",""secret"":""x""}"',
      '',
      'c3,,DE_PROVISIONING,,,leaver,AD,,,,,',
    ].join('\r\n') + '\r\n',
  );
  const res = await cli(db, ['import', file]);
  t.equal(res.code, 0, res.stdout + res.stderr);
  t.match(res.stdout, /\(CSV\): 3 events read — 3 stored/);
  const [c1, c2, c3] = events(db);
  t.match(c1, {
    event_id: 'c1',
    ts: Date.parse('2024-05-01T10:00:00Z'),
    action: 'LOGIN',
    outcome: 'FAILURE',
    target_system: 'Okta',
    country: 'DE',
    user_agent: 'Mozilla/5.0 (X11, Linux)',
    ticket: null,
  });
  t.ok(String(c1!.log).endsWith('Detail: "wrong password, twice\\r\\nthen \\"locked\\""'), 'a quoted field with a comma, a line break and quotes (shown as a JSON string)');
  t.match(c1!.log, /events\.csv line 2/, 'the line where the record starts');
  t.match(c2, { event_id: 'c2', ts: 1714557600000, type: 'Password', ticket: 'INC-7' });
  t.match(c2!.log, /Detail: \{"by":"svc-hr","secret":"\[REDACTED\]"\}/, 'a JSON detail cell is parsed and redacted');
  t.match(c2!.log, /events\.csv line 4/);
  t.match(c3, { event_id: 'c3', ts: null, type: 'Provisioning', target: 'leaver', outcome: null });
  t.match(c3!.log, /events\.csv line 6/);

  const again = await cli(db, ['import', file]);
  t.equal(again.code, 0);
  t.match(again.stdout, /0 stored, 3 duplicates, 0 rejected/);
  t.equal(events(db).length, 3);

  const noId = join(dir, 'bad.csv');
  writeFileSync(noId, 'action,targetUser\nLOGIN,x\n');
  const bad = await cli(db, ['import', noId]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /iamtrail: The CSV header \(line 1\) has no id column/);

  const unterminated = join(dir, 'open.csv');
  writeFileSync(unterminated, 'id,action,detail\nu1,LOGIN,ok\nu2,LOGIN,"never closed\nu3,LOGIN,x\n');
  const open = await cli(db, ['import', unterminated]);
  t.equal(open.code, 1);
  t.match(open.stdout, /1 stored, 0 duplicates, 1 rejected/);
  t.match(open.stdout, /line 3: the quoted field in the record starting on line 3 is never closed/);
});

t.test('batches of 1,000 per transaction, each with its summary; bad input never crashes', async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'iamtrail.sqlite');
  const file = join(dir, 'many.jsonl');
  const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ id: `b${i}`, timestamp: 1714557600000 + i, action: 'LOGIN', outcome: 'SUCCESS', targetUser: `user${i % 50}` }));
  writeFileSync(file, lines.join('\n'));
  const res = await cli(db, ['import', file]);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /2,500 events read — 2,500 stored/);
  t.equal(events(db).length, 2500);
  const sums = summaries(db);
  t.equal(sums.length, 3, 'three batches');
  t.match(sums[0]!.log, /batch 1, lines 1–1000/);
  t.match(sums[2]!.log, /^Imported 500 events/);

  const missing = await cli(db, ['import', join(dir, 'nope.json')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /iamtrail: Cannot read .*nope\.json: no such file/);

  const notArray = join(dir, 'object.json');
  writeFileSync(notArray, '{"id":"x","action":"LOGIN"}');
  const obj = await cli(db, ['import', notArray]);
  t.equal(obj.code, 1);
  t.match(obj.stderr, /not a JSON array/);

  const sniffed = join(dir, 'events.txt');
  writeFileSync(sniffed, '{"id":"s1","action":"LOGIN"}\n{"id":"s2","action":"LOGIN"}\n');
  const s = await cli(db, ['import', sniffed]);
  t.equal(s.code, 0);
  t.match(s.stdout, /\(NDJSON\): 2 events read — 2 stored/, 'the format is sniffed without a known extension');

  const usage = await cli(db, ['import']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /import needs one FILE/);
});
