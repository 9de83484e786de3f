// The ingest writer thread (src/services/ingest-writer.ts) on real SQLite files: it stores a batch
// through its own connection, and a thread that cannot work answers with a 503 that says why, and
// the next batch starts a new thread.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../src/db/connection.js';
import { createRepositories } from '../../src/plugins/db.js';
import { createThreadIngestWriter } from '../../src/services/ingest-writer.js';
import { IngestError, jobItems, prepareBatch, type ApiBatchJob } from '../../src/services/ingest.js';
import { tempDir } from '../helper.js';

function job(tokenId: number, events: unknown[]): ApiBatchJob {
  const prepared = prepareBatch(events.map((value, index) => ({ index, value })), () => 'Received over the API with token "t"');
  return { prepared: jobItems(prepared), format: 'json', tokenId, tokenName: 't', requestLine: 'POST /api/v1/events', sourceIp: '192.0.2.7', userAgent: null, receivedAt: Date.now() };
}

t.test('a batch is stored by the thread and read back through the server’s connection', async (t) => {
  const path = join(tempDir(t), 'writer.sqlite');
  const connection = openDatabase(path);
  t.teardown(() => connection.close());
  const repos = createRepositories(connection, 'UTC');
  const tokenId = Number(connection.sqlite.prepare("INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ('t', 'ingest', 'h', 0)").run().lastInsertRowid);
  const walSizes: number[] = [];
  const writer = createThreadIngestWriter({ databasePath: path, timeZone: 'UTC', onWalSize: (bytes) => walSizes.push(bytes) });
  t.teardown(() => writer.close());
  const result = await writer.store(job(tokenId, [{ id: 'w1', timestamp: Date.now(), action: 'LOGIN', outcome: 'SUCCESS', targetUser: 'kim' }, { id: 'w2' }]));
  t.match(result, { accepted: 1, duplicates: 0, rejected: 1 });
  const stored = repos.audit.byId(result.results[0]!.entryId!);
  t.match(stored, { action: 'LOGIN', target: 'kim', protocol: 'API', eventId: 'w1' });
  t.match(repos.audit.latest()!.log, /^Ingested 2 events \(JSON array\) with token "t": 1 stored, 0 duplicates, 1 rejected/);
  await writer.close();
  const refused = await writer.store(job(tokenId, [])).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(refused, { statusCode: 503, error: 'shutting_down' }, 'closed: refused with a 503');
});

t.test('a thread that cannot open the database: 503 writer_unavailable naming the cause, each time', async (t) => {
  const dir = tempDir(t);
  const notADirectory = join(dir, 'file');
  writeFileSync(notADirectory, 'x');
  const writer = createThreadIngestWriter({ databasePath: join(notADirectory, 'db.sqlite'), timeZone: 'UTC' });
  t.teardown(() => writer.close());
  for (const attempt of [1, 2]) {
    const error = await writer.store(job(1, [{ id: `e${attempt}`, action: 'LOGIN' }])).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(error instanceof IngestError, `attempt ${attempt}: an IngestError`);
    t.match(error, { statusCode: 503, error: 'writer_unavailable' });
    t.match((error as Error).message, /\(EEXIST: file already exists, mkdir '.*file'\)/, 'the message names the cause');
    t.match((error as Error).message, /Send it again/);
  }
});
