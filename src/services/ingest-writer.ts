// Stores POST /api/v1/events batches on a writer thread with its own connection, so that the event
// loop parses and validates the next batches while one is written. Storing a batch (its entries,
// the red-flag rules on each, the summary entry and the durable COMMIT) was ~80 % of the server's
// time under bench:ingest, all of it on the event loop; the thread gives that work the second core.
//
// The thread starts with the first batch (a server that only does SCIM never has it) and runs the
// same storeApiBatch as the in-process path, which an in-memory database (one connection only) uses.
// SQLite serialises the two connections' writes (busy_timeout); each commits a batch and its summary
// entry together or not at all, and the server's reads see a batch as soon as its request is answered.
// If the thread fails, the batches it held are answered with an error (a re-sent batch is idempotent:
// the events it did store are duplicates) and the next batch starts a new thread.
import type { Worker } from 'node:worker_threads';
import { startModuleThread, stopThread } from '../db/threads.js';
import type { WriteQueue } from '../db/write-queue.js';
import type { Repositories } from '../plugins/db.js';
import { IngestError, storeApiBatch, type ApiBatchJob, type BatchResult } from './ingest.js';

export type ToWriter = { type: 'store'; id: number; job: ApiBatchJob } | { type: 'close' };
export type FromWriter =
  | { type: 'stored'; id: number; result: BatchResult }
  | { type: 'failed'; id: number; message: string }
  | { type: 'wal'; bytes: number };

export interface IngestWriter {
  store(job: ApiBatchJob): Promise<BatchResult>;
  /** answers what is in flight, then stops the thread (at server close) */
  close(): Promise<void>;
}

export interface IngestWriterOptions {
  databasePath: string;
  timeZone: string;
  /** the WAL's size, reported by the thread every 256 commits (the checkpointer may start) */
  onWalSize?: (bytes: number) => void;
}

/** 503: the batch may or may not be stored; sending it again is safe (stored events are duplicates). */
function writerStopped(reason: string): IngestError {
  return new IngestError(
    503,
    'writer_unavailable',
    `The ingest writer stopped (${reason}) before it answered; the batch may be partly stored. Send it again: events already stored are reported as duplicates.`,
  );
}

export function createThreadIngestWriter(options: IngestWriterOptions): IngestWriter {
  type Pending = { resolve: (r: BatchResult) => void; reject: (e: Error) => void };
  let closed = false;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let current: { worker: Worker; exited: Promise<void> } | undefined;

  function failAll(reason: string): void {
    const error = writerStopped(reason);
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  }

  function start(): Worker {
    const worker = startModuleThread(import.meta.url, 'ingest-worker', { databasePath: options.databasePath, timeZone: options.timeZone });
    // idle, the thread does not keep the process alive; a batch in flight does
    worker.unref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromWriter) => {
      if (message.type === 'stored' || message.type === 'failed') {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (pending.size === 0) worker.unref();
        if (message.type === 'stored') p?.resolve(message.result);
        else p?.reject(new Error(message.message));
      } else if (message.type === 'wal') options.onWalSize?.(message.bytes);
    });
    let failure: string | undefined;
    worker.on('error', (error) => (failure = error.message));
    worker.once('exit', (code) => {
      if (current?.worker === worker) current = undefined;
      failAll(failure ?? `exit code ${code}`);
    });
    current = { worker, exited };
    return worker;
  }

  return {
    store(job) {
      if (closed) return Promise.reject(new IngestError(503, 'shutting_down', 'The server is shutting down; send the batch again in a moment.'));
      let worker: Worker;
      try {
        worker = current?.worker ?? start();
      } catch (error) {
        return Promise.reject(writerStopped(error instanceof Error ? error.message : String(error)));
      }
      const id = nextId++;
      return new Promise<BatchResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ type: 'store', id, job } satisfies ToWriter);
      });
    },
    async close() {
      closed = true;
      const running = current;
      if (!running) return;
      current = undefined;
      // the batches in flight are committed and answered first, at most 10 s
      await stopThread(running.worker, running.exited, { type: 'close' } satisfies ToWriter, 10_000);
    },
  };
}

/** The same job on the server's own group commit: for an in-memory database, which a thread cannot open. */
export function createInlineIngestWriter(repos: Repositories, writeQueue: WriteQueue): IngestWriter {
  return {
    store: (job) => writeQueue.submit(() => storeApiBatch(repos, job)),
    close: async () => undefined,
  };
}
