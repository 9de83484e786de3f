// The ingest writer thread (started by src/services/ingest-writer.ts): its own connection to the
// database, the same repositories and red-flag rules as the server, and its own group commit.
// Each message is one POST /api/v1/events batch; the batches that arrive together share one
// durable COMMIT, and each is answered only after it.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/connection.js';
import { createWriteQueue } from '../db/write-queue.js';
import { createRepositories } from '../plugins/db.js';
import { storeApiBatch, type ApiBatchJob, type BatchResult } from './ingest.js';
import type { FromWriter, ToWriter } from './ingest-writer.js';

const port = parentPort!;
const { databasePath, timeZone } = workerData as { databasePath: string; timeZone: string };
// the server has applied the migrations before it starts this thread
const connection = openDatabase(databasePath, { migrate: false });
const repos = createRepositories(connection, timeZone);
// A group of about 500 events at most, and committed even while the group before it syncs. Batches
// that arrive together used to share one COMMIT: with three senders, the three batches were stored
// together, answered together, and the thread was then idle until one came back (7-9 % of its time
// under bench:ingest, also during each fsync). Large batches share few pages, so a COMMIT per batch
// costs no more (bench:ingest-writer commits one batch at a time); small ones are still grouped.
const queue = createWriteQueue(connection.sqlite, {
  maxWeight: 500,
  commitWhileSyncing: true,
  onRollback: () => repos.rules.forget(),
  onWalSize: (bytes) => port.postMessage({ type: 'wal', bytes } satisfies FromWriter),
});
const inFlight = new Set<Promise<unknown>>();

function store(id: number, job: ApiBatchJob): void {
  const done = queue.submit<BatchResult>(() => storeApiBatch(repos, job), undefined, { weight: job.prepared.length }).then(
    (result) => port.postMessage({ type: 'stored', id, result } satisfies FromWriter),
    (error: unknown) => port.postMessage({ type: 'failed', id, message: error instanceof Error ? error.message : String(error) } satisfies FromWriter),
  );
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
}

port.on('message', (message: ToWriter) => {
  if (message.type === 'store') return store(message.id, message.job);
  // close: commit what is queued, answer it, then let go of the database
  queue.close();
  void Promise.allSettled([...inFlight]).then(() => {
    connection.close();
    port.close();
  });
});
