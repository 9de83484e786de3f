// SCIM reads (list, .search, get by id) on a reader thread with its own connection, so that the
// event loop only parses, authenticates and answers. Under bench:scim a userName-eq lookup spent
// ~60 µs of its ~135 µs of event-loop time in the read itself (the query, the groups query,
// building and serialising the resource); the thread gives that work the second core.
//
// The thread also appends the read's audit entry (and marks the token used), with a group commit
// of its own, and answers only once that entry is on disk: with the read on the thread, appending
// and committing its entry was ~20 % of the event loop's time (profiled), while the thread was
// ~60 % idle. The entry is the one the event loop would write (services/scim-reads.ts readEntry).
// If the thread cannot append it, the answer says so and the route's onSend hook appends it.
//
// Same answers as on the event loop: the thread runs the same use case (services/scim-reads.ts) on
// the same file, and a read starts after every change the client saw acknowledged (a change is
// answered only after its COMMIT). The server starts the thread once it listens (an app built for
// a test starts it with its first read). Until the thread has opened the database, and whenever it
// fails, reads run on the event loop as before; a failed thread is started again 5 s later at the
// earliest, with the next read.
import type { Worker } from 'node:worker_threads';
import { startModuleThread, stopThread } from '../db/threads.js';
import type { ReadJob, ReadLog, ReadOutcome } from './scim-reads.js';

/** A read's outcome; `logged` when its audit entry was appended with it (on the thread). */
export type ReadAnswer = ReadOutcome & { logged?: boolean };

export type ToReader = { type: 'read'; id: number; job: ReadJob; log?: ReadLog } | { type: 'close' };
export type FromReader =
  | { type: 'ready' }
  | { type: 'done'; id: number; outcome: ReadOutcome; logged: boolean }
  | { type: 'failed'; id: number; message: string }
  | { type: 'wal'; bytes: number };

export interface ScimReader {
  /** Runs the read; with `log`, the thread appends its audit entry too (answer.logged). */
  read(job: ReadJob, log?: ReadLog): Promise<ReadAnswer>;
  /** starts the thread now rather than with the first read (the server does, once it listens) */
  start(): void;
  /** true once the thread answers reads */
  threaded(): boolean;
  close(): Promise<void>;
}

export interface ScimReaderOptions {
  databasePath: string;
  /** the red-flag rules' time zone (the thread evaluates them on the entries it appends) */
  timeZone: string;
  /** the WAL file's size, reported by the thread's write queue */
  onWalSize?: (bytes: number) => void;
  /** the same read on the event loop */
  inline: (job: ReadJob) => ReadOutcome;
  onThreadError?: (message: string) => void;
}

const RESTART_DELAY_MS = 5_000;

export function createThreadScimReader(options: ScimReaderOptions): ScimReader {
  type Pending = { job: ReadJob; resolve: (o: ReadAnswer) => void; reject: (e: unknown) => void };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let current: { worker: Worker; exited: Promise<void>; ready: boolean } | undefined;
  let failedAt = -Infinity;
  let closed = false;

  const inline = (job: ReadJob) => new Promise<ReadAnswer>((resolve) => resolve(options.inline(job)));

  /**
   * The reads the thread held are run on the event loop: a read can always be run again. (A read
   * whose entry the thread appended just before it died is then logged twice, not lost.)
   */
  function rerunAll(): void {
    for (const p of pending.values()) inline(p.job).then(p.resolve, p.reject);
    pending.clear();
  }

  function start(): void {
    let worker: Worker;
    try {
      worker = startModuleThread(import.meta.url, 'scim-reader-worker', { databasePath: options.databasePath, timeZone: options.timeZone });
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
      if (message.type === 'wal') {
        options.onWalSize?.(message.bytes);
        return;
      }
      const p = pending.get(message.id);
      if (!p) return;
      pending.delete(message.id);
      if (pending.size === 0) worker.unref();
      if (message.type === 'done') p.resolve(message.logged ? { ...message.outcome, logged: true } : message.outcome);
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
    read(job, log) {
      ensureStarted();
      const thread = current;
      if (!thread?.ready || closed) return inline(job);
      const id = nextId++;
      return new Promise<ReadAnswer>((resolve, reject) => {
        pending.set(id, { job, resolve, reject });
        if (pending.size === 1) thread.worker.ref();
        thread.worker.postMessage({ type: 'read', id, job, log } satisfies ToReader);
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
    read: (job) => new Promise<ReadAnswer>((resolve) => resolve(inline(job))),
    start: () => undefined,
    threaded: () => false,
    close: async () => undefined,
  };
}
