// The SCIM reader thread (started by services/scim-reader.ts): a connection of its own, the same
// provisioning use case, repositories and red-flag rules as the server, and a group commit of its
// own. Each message is one read: it is run at once, its audit entry joins the next group, and it
// is answered once that group is on disk.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/connection.js';
import { createWriteQueue } from '../db/write-queue.js';
import { createRepositories } from '../plugins/db.js';
import { createProvisioningService } from './provisioning.js';
import { readEntry, runRead, type ReadLog, type ReadOutcome } from './scim-reads.js';
import type { FromReader, ToReader } from './scim-reader.js';

const port = parentPort!;
const { databasePath, timeZone } = workerData as { databasePath: string; timeZone: string };
// the server has applied the migrations before it starts this thread
const connection = openDatabase(databasePath, { migrate: false });
// the users' and groups' pages, and the audit log's newest index pages it appends to (the server's
// connection keeps the log's other pages)
connection.sqlite.pragma('cache_size = -8192');
const repos = createRepositories(connection, timeZone);
const svc = createProvisioningService({ users: repos.users, groups: repos.groups });
const queue = createWriteQueue(connection.sqlite, {
  onWalSize: (bytes) => port.postMessage({ type: 'wal', bytes } satisfies FromReader),
});
const inFlight = new Set<Promise<unknown>>();

function answer(id: number, outcome: ReadOutcome, logged: boolean): void {
  port.postMessage({ type: 'done', id, outcome, logged } satisfies FromReader);
}

function logAndAnswer(id: number, outcome: ReadOutcome, log: ReadLog): void {
  const entry = readEntry(log, outcome);
  const { tokenId } = log.ctx;
  const done = queue
    .submit(() => {
      repos.audit.append(entry);
      if (tokenId !== undefined) repos.tokens.touch(tokenId, Date.now());
    })
    .then(
      () => answer(id, outcome, true),
      // not appended (disk full…): the server appends it on the event loop, or reports why not
      () => answer(id, outcome, false),
    );
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
}

port.on('message', (message: ToReader) => {
  if (message.type === 'close') {
    // commit what is queued, answer it, then let go of the database
    queue.close();
    void Promise.allSettled([...inFlight]).then(() => {
      connection.close();
      port.close();
    });
    return;
  }
  let outcome: ReadOutcome;
  try {
    outcome = runRead(svc, message.job);
  } catch (error) {
    port.postMessage({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) } satisfies FromReader);
    return;
  }
  if (message.log) logAndAnswer(message.id, outcome, message.log);
  else answer(message.id, outcome, false);
});
port.postMessage({ type: 'ready' } satisfies FromReader);
