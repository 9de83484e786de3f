// The SCIM reader thread (started by services/scim-reader.ts): a read-only connection of its own
// and the same provisioning use case as the server; each message is one read, answered in order.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/connection.js';
import { createGroupRepository, createUserRepository } from '../db/scim-repository.js';
import { createProvisioningService } from './provisioning.js';
import { runRead } from './scim-reads.js';
import type { FromReader, ToReader } from './scim-reader.js';

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
  try {
    port.postMessage({ type: 'done', id: message.id, outcome: runRead(svc, message.job) } satisfies FromReader);
  } catch (error) {
    port.postMessage({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) } satisfies FromReader);
  }
});
port.postMessage({ type: 'ready' } satisfies FromReader);
