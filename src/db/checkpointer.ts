// Copies the WAL back into the database file from a worker thread. With a large database that is
// the most expensive part of writing (random writes all over the file and an fsync: ~87 µs per
// ingested event at 10 M entries, against ~73 µs for everything else); inside a COMMIT on the event
// loop it stops the server meanwhile. PASSIVE checkpoints never wait for or block the writer; when
// one has copied every frame, the writer's next transaction starts the WAL over. SQLite's own
// auto-checkpoint on the server's connection stays as the fallback, and then has little to copy.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { stopThread } from './threads.js';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('cache_size = -1024');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // busy (another checkpoint runs): the next tick tries again
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { checkpoint.get(); } catch {}
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, intervalMs: number): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(SOURCE, {
    eval: true,
    workerData: { path, module, intervalMs },
    // a small isolate: it only runs one pragma now and then
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    // the server's --import tsx (or anything else) is not needed here
    execArgv: [],
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // a failing checkpointer only means the fallback auto-checkpoint does the work
  worker.on('error', () => undefined);
  worker.unref();
  return {
    // waits for the last checkpoint and the close, at most 2 s
    stop: () => stopThread(worker, exited, 'stop', 2000),
  };
}
