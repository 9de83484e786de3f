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

export type ToReader = { type: 'reads'; reads: { id: number; job: ReadJob }[] } | { type: 'close' };
export type ReadAnswer = { id: number; outcome: ReadOutcome } | { id: number; failed: string };
export type FromReader = { type: 'ready' } | { type: 'answers'; answers: ReadAnswer[] };

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
  type Thread = { worker: Worker; exited: Promise<void>; ready: boolean };
  let current: Thread | undefined;
  /**
   * The reads of one turn of the event loop, posted together once the turn's I/O is handled (a
   * setImmediate): one message and one wake-up of the thread for the requests read from the
   * network in that turn, instead of one each. A message between threads costs about as much as
   * a small read; on a virtual machine a wake-up costs more.
   */
  let outbox: { id: number; job: ReadJob }[] = [];
  let failedAt = -Infinity;
  let closed = false;

  const inline = (job: ReadJob) => new Promise<ReadOutcome>((resolve) => resolve(options.inline(job)));

  /** the reads the thread held are run on the event loop: a read can always be run again */
  function rerunAll(): void {
    outbox = [];
    for (const p of pending.values()) inline(p.job).then(p.resolve, p.reject);
    pending.clear();
  }

  function post(thread: Thread): void {
    const reads = outbox;
    outbox = [];
    // the thread stopped meanwhile: its reads were run on the event loop (rerunAll)
    if (current !== thread || reads.length === 0) return;
    thread.worker.postMessage({ type: 'reads', reads } satisfies ToReader);
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
      for (const answer of message.answers) {
        const p = pending.get(answer.id);
        if (!p) continue;
        pending.delete(answer.id);
        if ('outcome' in answer) p.resolve(answer.outcome);
        else inline(p.job).then(p.resolve, p.reject);
      }
      if (pending.size === 0) worker.unref();
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
        outbox.push({ id, job });
        if (outbox.length === 1) setImmediate(post, thread);
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
