// Group commit: the writes submitted during one event-loop turn share one COMMIT, and every caller
// is answered only once that COMMIT is durable. A job that throws has none of its writes kept (the
// group is run again with a SAVEPOINT per job), and the others are unaffected.
//
// Durability without blocking the event loop: the group's COMMIT runs with synchronous=NORMAL (it
// writes the WAL frames but does not fsync), then the WAL file is fdatasync'ed on the libuv thread
// pool, and only after that sync returns are the callers answered. An answered write has therefore
// reached the disk exactly as with synchronous=FULL, but the fsync no longer stops the process: the
// next group is built and committed while the previous one syncs (the second core does the wait).
// One consequence: a committed change is visible to other requests a moment (the sync) before it
// is durable; no caller is told it succeeded before it is.
//
// Other writers on the connection (console, CLI) keep synchronous=FULL: the pragma is switched
// only around the group's own COMMIT.
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync } from 'node:fs';
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
  /** Commits whatever is queued now and waits for the disk (used at shutdown). */
  flush(): void;
  /** Stops using the WAL file (before the connection closes). */
  close(): void;
}

export interface WriteQueueOptions {
  maxBatch?: number;
  /** called (once in a while, after a sync) with the WAL file's size: a checkpointer may start */
  onWalSize?: (bytes: number) => void;
}

function settle(job: Job): void {
  const outcome = job.outcome!;
  if (outcome.ok) job.resolve(outcome.value);
  else job.reject(outcome.error);
}

export function createWriteQueue(sqlite: Sqlite, options: WriteQueueOptions = {}): WriteQueue {
  const maxBatch = options.maxBatch ?? 1000;
  let queue: Job[] = [];
  let scheduled = false;
  const begin = sqlite.prepare('BEGIN IMMEDIATE');
  const commit = sqlite.prepare('COMMIT');
  const rollback = sqlite.prepare('ROLLBACK');
  const savepoint = sqlite.prepare('SAVEPOINT job');
  const release = sqlite.prepare('RELEASE job');
  const rollbackTo = sqlite.prepare('ROLLBACK TO job');
  const syncNormal = sqlite.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = sqlite.prepare('PRAGMA synchronous = FULL');

  // the WAL file, opened at the first commit (SQLite creates it); an in-memory database or another
  // journal mode has none, and its groups commit with synchronous=FULL as before
  const walMode = !sqlite.memory && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  let walFd: number | null = null;
  let walUnavailable = !walMode;
  let closed = false;

  /** committed groups waiting for the sync that was not yet started when they committed */
  let unsynced: Job[] = [];
  let syncing = false;
  let syncs = 0;

  function wal(): number | null {
    if (walFd === null && !walUnavailable) {
      try {
        walFd = openSync(`${sqlite.name}-wal`, 'r');
      } catch {
        walUnavailable = true;
      }
    }
    return walFd;
  }

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

  function startSync(fd: number): void {
    syncing = true;
    const group = unsynced;
    unsynced = [];
    fdatasync(fd, (error) => {
      syncing = false;
      for (const job of group) {
        if (error) job.reject(error);
        else settle(job);
      }
      if (++syncs % 64 === 0 && options.onWalSize && !closed) {
        try {
          options.onWalSize(fstatSync(fd).size);
        } catch {
          // only a hint
        }
      }
      if (closed) closeSync(fd);
      else if (unsynced.length > 0) startSync(fd);
    });
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
    const fd = wal();
    try {
      if (fd !== null) syncNormal.run();
      begin.run();
      if (!runOptimistically(batch)) {
        // a job failed: the group runs again, each job in its own savepoint, so that only the failing
        // job's writes are undone (the jobs only write to the database, so running them again is safe)
        begin.run();
        for (const job of batch) runJob(job);
      }
      commit.run();
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error): nothing of the batch is durable
      if (sqlite.inTransaction) rollback.run();
      if (fd !== null) syncFull.run();
      for (const job of batch) job.reject(error);
      return;
    }
    if (fd === null) {
      for (const job of batch) settle(job);
      return;
    }
    syncFull.run();
    for (const job of batch) unsynced.push(job);
    if (!syncing) startSync(fd);
  }

  function commitQueued(): void {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      flushBatch(batch);
    }
  }

  function flush(): void {
    commitQueued();
    // shutdown: whatever committed is made durable now, synchronously
    if (walFd !== null && unsynced.length > 0) {
      const group = unsynced;
      unsynced = [];
      let failure: unknown = null;
      try {
        fdatasyncSync(walFd);
      } catch (error) {
        failure = error;
      }
      for (const job of group) {
        if (failure) job.reject(failure);
        else settle(job);
      }
    }
  }

  return {
    submit<T>(run: () => T, onError?: (error: unknown) => void): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ run, onError, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(commitQueued);
        }
      });
    },
    flush,
    close() {
      flush();
      closed = true;
      // a sync still running on the thread pool closes the file when it returns
      if (walFd !== null && !syncing) closeSync(walFd);
      walFd = null;
      walUnavailable = true;
    },
  };
}
