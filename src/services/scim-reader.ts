// SCIM reads (list, .search, get by id) on a reader thread with its own read-only connection, so
// that the event loop only parses, authenticates, logs and answers. Under bench:scim a userName-eq
// lookup spent ~60 µs of its ~135 µs of event-loop time in the read itself (the query, the groups
// query, building and serialising the resource); the thread gives that work the second core.
//
// Same answers as on the event loop: the thread runs the same use case (services/scim-reads.ts) on
// the same file, and a read starts after every change the client saw acknowledged (a change is
// answered only after its COMMIT). The server starts the thread once it listens (an app built for
// a test starts it with its first read). Until the thread has opened the database, and whenever it
// fails, reads run on the event loop as before; a failed thread is started again 5 s later at the
// earliest, with the next read.
import type { Worker } from 'node:worker_threads';
import { startModuleThread, stopThread } from '../db/threads.js';
import type { ReadJob, ReadOutcome } from './scim-reads.js';

export type ToReader = { type: 'read'; id: number; job: ReadJob } | { type: 'close' };
export type FromReader = { type: 'ready' } | { type: 'done'; id: number; outcome: ReadOutcome } | { type: 'failed'; id: number; message: string };

export interface ScimReader {
  read(job: ReadJob): Promise<ReadOutcome>;
  /** starts the thread now rather than with the first read (the server does, once it listens) */
  start(): void;
  /** true once the thread answers reads */
  threaded(): boolean;
  close(): Promise<void>;
}

export interface ScimReaderOptions {
  databasePath: string;
  /** the same read on the event loop */
  inline: (job: ReadJob) => ReadOutcome;
  onThreadError?: (message: string) => void;
}

const RESTART_DELAY_MS = 5_000;

export function createThreadScimReader(options: ScimReaderOptions): ScimReader {
  type Pending = { job: ReadJob; resolve: (o: ReadOutcome) => void; reject: (e: unknown) => void };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let current: { worker: Worker; exited: Promise<void>; ready: boolean } | undefined;
  let failedAt = -Infinity;
  let closed = false;

  const inline = (job: ReadJob) => new Promise<ReadOutcome>((resolve) => resolve(options.inline(job)));

  /** the reads the thread held are run on the event loop: a read can always be run again */
  function rerunAll(): void {
    for (const p of pending.values()) inline(p.job).then(p.resolve, p.reject);
    pending.clear();
  }

  function start(): void {
    let worker: Worker;
    try {
      worker = startModuleThread(import.meta.url, 'scim-reader-worker', { databasePath: options.databasePath });
    } catch (error) {
      failedAt = Date.now();
      options.onThreadError?.(error instanceof Error ? error.message : String(error));
      return;
    }
    worker.unref();
    const thread = { worker, exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())), ready: false };
    worker.on('message', (message: FromReader) => {
      if (message.type === 'ready') {
        thread.ready = true;
        return;
      }
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (pending.size === 0) worker.unref();
      if (message.type === 'done') p.resolve(message.outcome);
      else inline(p.job).then(p.resolve, p.reject);
    });
    let failure: string | undefined;
    worker.on('error', (error) => (failure = error.message));
    worker.once('exit', (code) => {
      if (current === thread) current = undefined;
      if (!closed) {
        failedAt = Date.now();
        options.onThreadError?.(failure ?? `exit code ${code}`);
      }
      rerunAll();
    });
    current = thread;
  }

  function ensureStarted(): void {
    if (!current && !closed && Date.now() - failedAt >= RESTART_DELAY_MS) start();
  }

  return {
    read(job) {
      ensureStarted();
      const thread = current;
      if (!thread?.ready || closed) return inline(job);
      const id = nextId++;
      return new Promise<ReadOutcome>((resolve, reject) => {
        pending.set(id, { job, resolve, reject });
        if (pending.size === 1) thread.worker.ref();
        thread.worker.postMessage({ type: 'read', id, job } satisfies ToReader);
      });
    },
    start: ensureStarted,
    threaded: () => current?.ready === true,
    async close() {
      closed = true;
      const running = current;
      if (!running) return;
      current = undefined;
      // the thread answers every read it received before it sees "close"
      await stopThread(running.worker, running.exited, { type: 'close' } satisfies ToReader, 5_000);
      rerunAll();
    },
  };
}

/** Every read on the event loop: for an in-memory database, which a thread cannot open. */
export function createInlineScimReader(inline: (job: ReadJob) => ReadOutcome): ScimReader {
  return {
    read: (job) => new Promise<ReadOutcome>((resolve) => resolve(inline(job))),
    start: () => undefined,
    threaded: () => false,
    close: async () => undefined,
  };
}
