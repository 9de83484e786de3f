// The SCIM reader thread (started by services/scim-reader.ts): a read-only connection of its own
// and the same provisioning use case as the server; each message is the reads of one turn of the
// server's event loop, answered together in order.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/connection.js';
import { createGroupRepository, createUserRepository } from '../db/scim-repository.js';
import { createProvisioningService } from './provisioning.js';
import { runRead } from './scim-reads.js';
import type { FromReader, ReadAnswer, ToReader } from './scim-reader.js';

const port = parentPort!;
const { databasePath } = workerData as { databasePath: string };
// the server has applied the migrations before it starts this thread
const connection = openDatabase(databasePath, { migrate: false });
const { sqlite } = connection;
sqlite.pragma('query_only = ON');
// the users' and groups' pages only (the server's connection caches the audit log's)
sqlite.pragma('cache_size = -8192');
const svc = createProvisioningService({ users: createUserRepository(sqlite), groups: createGroupRepository(sqlite) });

port.on('message', (message: ToReader) => {
  if (message.type === 'close') {
    connection.close();
    port.close();
    return;
  }
  // the reads of one message are answered together, in one message
  const answers: ReadAnswer[] = [];
  for (const { id, job } of message.reads) {
    try {
      answers.push({ id, outcome: runRead(svc, job) });
    } catch (error) {
      answers.push({ id, failed: error instanceof Error ? error.message : String(error) });
    }
  }
  port.postMessage({ type: 'answers', answers } satisfies FromReader);
});
port.postMessage({ type: 'ready' } satisfies FromReader);
