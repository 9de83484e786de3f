// Group commit: the writes submitted during one event-loop turn share one durable COMMIT
// (synchronous=FULL), and every caller is answered only after it. A job that throws has none of
// its writes kept (the group is run again with a SAVEPOINT per job); the others are unaffected.
//
// Measured and rejected: committing at synchronous=NORMAL and fdatasync'ing the WAL on the libuv
// pool before answering (same durability, event loop never blocked). Under bench:scim it cost more
// CPU per request (the loop no longer waits, so groups are smaller and each COMMIT rewrites the
// pages they share) and ~50 MB more RSS; bench:ingest did not change. The blocking sync is what
// makes the next group large.
import { statSync } from 'node:fs';
import type { Sqlite } from './connection.js';

interface Job {
  run: () => unknown;
  /** called inside the transaction, after the job's savepoint was rolled back */
  onError?: (error: unknown) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export interface WriteQueue {
  /**
   * Runs `run` inside the next group transaction. If it throws, its savepoint is rolled back,
   * `onError` may record the failure in the same transaction, and the promise rejects with the error.
   */
  submit<T>(run: () => T, onError?: (error: unknown) => void): Promise<T>;
  /** Commits whatever is queued now (used at shutdown). */
  flush(): void;
}

export interface WriteQueueOptions {
  maxBatch?: number;
  /** called every 256 commits with the WAL file's size (a checkpointer thread may start) */
  onWalSize?: (bytes: number) => void;
}

export function createWriteQueue(sqlite: Sqlite, options: WriteQueueOptions = {}): WriteQueue {
  const maxBatch = options.maxBatch ?? 1000;
  const walPath = sqlite.memory ? null : `${sqlite.name}-wal`;
  let commits = 0;
  let queue: Job[] = [];
  let scheduled = false;
  const begin = sqlite.prepare('BEGIN IMMEDIATE');
  const commit = sqlite.prepare('COMMIT');
  const rollback = sqlite.prepare('ROLLBACK');
  const savepoint = sqlite.prepare('SAVEPOINT job');
  const release = sqlite.prepare('RELEASE job');
  const rollbackTo = sqlite.prepare('ROLLBACK TO job');

  function runJob(job: Job): void {
    savepoint.run();
    try {
      const value = job.run();
      release.run();
      job.outcome = { ok: true, value };
    } catch (error) {
      rollbackTo.run();
      release.run();
      job.outcome = { ok: false, error };
      if (job.onError) {
        savepoint.run();
        try {
          job.onError(error);
          release.run();
        } catch (recordError) {
          rollbackTo.run();
          release.run();
          job.outcome = { ok: false, error: recordError };
        }
      }
    }
  }

  /**
   * Runs every job without a savepoint; false (and the transaction rolled back) when one throws.
   * A savepoint per job is what isolates a failing job, but it is costly: inside one, SQLite keeps
   * every page that each INSERT with a trigger touches (the audit log's) in the statement journal
   * for the whole job — measured, it doubled the cost of appending 500 ingested events.
   */
  function runOptimistically(batch: Job[]): boolean {
    for (const job of batch) {
      try {
        job.outcome = { ok: true, value: job.run() };
      } catch {
        if (sqlite.inTransaction) rollback.run();
        return false;
      }
    }
    return true;
  }

  function flushBatch(batch: Job[]): void {
    if (batch.length === 0) return;
    try {
      begin.run();
      if (!runOptimistically(batch)) {
        // a job failed: the group runs again, each job in its own savepoint, so that only the failing
        // job's writes are undone (the jobs only write to the database, so running them again is safe)
        begin.run();
        for (const job of batch) runJob(job);
      }
      commit.run();
      if (options.onWalSize && walPath && ++commits % 256 === 0) {
        try {
          options.onWalSize(statSync(walPath).size);
        } catch {
          // no WAL file (another journal mode): nothing to report
        }
      }
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error): nothing of the batch is durable
      if (sqlite.inTransaction) rollback.run();
      for (const job of batch) job.reject(error);
      return;
    }
    for (const job of batch) {
      const outcome = job.outcome!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      flushBatch(batch);
    }
  }

  return {
    submit<T>(run: () => T, onError?: (error: unknown) => void): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ run, onError, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
