// Group commit: the writes submitted while the previous group is being made durable share one
// COMMIT, and every caller is answered only once its COMMIT is on disk (unless it asked for less:
// durable: false answers at the COMMIT, for writes that record a request that changed nothing). A job that throws has none
// of its writes kept (the group is run again with a SAVEPOINT per job); the others are unaffected.
//
// Durability without stopping the event loop: a group COMMITs with synchronous=NORMAL (SQLite
// writes the WAL frames but does not fsync), then the WAL file is fdatasync'ed on the libuv thread
// pool, and the group's callers are answered when that sync returns: an answered write is on disk
// exactly as with synchronous=FULL. While a sync runs, new jobs wait in the queue and form the next
// group, which commits as soon as the sync returns; so groups are as large as when the COMMIT
// blocked the loop (each COMMIT rewrites the pages its jobs share, e.g. the audit log's newest
// index pages), but the loop parses, authenticates and reads during the sync instead of waiting.
// A change is visible to other connections from its COMMIT, a moment before it is durable; no
// response that shows it is sent before then (its own audit entry is in a later, synced COMMIT).
// Jobs that wait for no fsync (durable: false, the entries of reads) do not wait for a running
// sync either: a queue of only such jobs is committed at once. Under bench:scim's GET phase (16
// connections) that wait went from 0.40-0.50 ms to 0.23-0.38 ms of a ~1.5 ms request.
// With lazySyncMs (the server: 50 ms), such a group starts no sync of its own either: the next
// durable group's sync covers it, or one started lazySyncMs after its COMMIT. A sync per group of
// reads had cost the event loop ~36 µs for each fdatasync call (waking a pool thread on this VM),
// 5.6 % of it in the GET phase, and the pool thread and the disk their share of the second core:
// GETs went from 9,480-9,714/s to 10,310-10,651/s (two alternating runs each).
//
// Measured and rejected (commit 8649195): starting a new group on every event-loop turn while a
// sync runs. Groups became small and each COMMIT rewrote the pages they share: more CPU per write.
import { closeSync, fdatasync, fdatasyncSync, openSync, statSync } from 'node:fs';
import type { Sqlite } from './connection.js';

interface Job {
  run: () => unknown;
  /** called inside the transaction, after the job's savepoint was rolled back */
  onError?: (error: unknown) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** answered after the group's fsync (true) or as soon as its COMMIT returned (false) */
  durable: boolean;
  weight: number;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export interface WriteQueue {
  /**
   * Runs `run` inside the next group transaction. If it throws, its savepoint is rolled back,
   * `onError` may record the failure in the same transaction, and the promise rejects with the error.
   */
  submit<T>(run: () => T, onError?: (error: unknown) => void, options?: SubmitOptions): Promise<T>;
  /** Commits whatever is queued now and waits for the disk (at shutdown); the queue stays usable. */
  flush(): void;
  /** flush(), then lets go of the WAL file (before the connection closes) */
  close(): void;
  /** fdatasyncs of the WAL started so far (the ones at a flush included) */
  syncs(): number;
}

export interface SubmitOptions {
  /**
   * false: the promise settles once the group's COMMIT returned (the write is visible to every
   * connection and survives a crash of the process), without waiting for the fsync that makes it
   * survive a power loss, which follows at once. For writes that record something that changed
   * nothing (the audit entry of a read or of a refused request). Default true.
   */
  durable?: boolean;
  /** how much work the job is (the events of an ingested batch), against maxWeight; default 1 */
  weight?: number;
}

export interface WriteQueueOptions {
  /** jobs in one group at most */
  maxBatch?: number;
  /** the sum of a group's job weights at most (a group holds one job at least); default no limit */
  maxWeight?: number;
  /**
   * Durable jobs are committed while a sync runs too, and made durable by the sync that follows
   * it (default false: they wait for the running sync and form one group with what queues behind
   * them).
   */
  commitWhileSyncing?: boolean;
  /** called every 256 commits with the WAL file's size (a checkpointer thread may start) */
  onWalSize?: (bytes: number) => void;
  /**
   * A group of only durable: false jobs starts no sync of its own: the next sync that starts (a
   * durable group's) makes it durable, or one started this many ms after its COMMIT at the latest.
   * Default 0: such a group starts a sync at once, as a durable one does.
   */
  lazySyncMs?: number;
  /** called after a rollback (of a group or of a job's savepoint): what was read of the undone writes must be forgotten */
  onRollback?: () => void;
}

function settle(job: Job): void {
  const outcome = job.outcome!;
  if (outcome.ok) job.resolve(outcome.value);
  else job.reject(outcome.error);
}

export function createWriteQueue(sqlite: Sqlite, options: WriteQueueOptions = {}): WriteQueue {
  const maxBatch = options.maxBatch ?? 1000;
  const maxWeight = options.maxWeight ?? Infinity;
  const commitWhileSyncing = options.commitWhileSyncing === true;
  const walMode = !sqlite.memory && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  const walPath = walMode ? `${sqlite.name}-wal` : null;
  let walFd: number | null = null;
  let commits = 0;
  let queue: Job[] = [];
  let scheduled = false;
  /** committed jobs whose sync has not returned yet */
  let syncing: Job[] | null = null;
  /** an fdatasync is running on the pool (its jobs may have been answered by a shutdown flush) */
  let syncInFlight = false;
  /** a group was committed while the running sync had started: another sync must follow */
  let unsyncedCommit = false;
  /** the durable jobs of those groups (commitWhileSyncing): answered when that next sync returns */
  let afterSync: Job[] = [];
  /** groups of only durable: false jobs were committed since the last sync started: a sync is due within lazySyncMs */
  let lazyDirty = false;
  let lazyTimer: NodeJS.Timeout | null = null;
  const lazySyncMs = options.lazySyncMs ?? 0;
  let syncs = 0;
  let closed = false;
  const syncNormal = sqlite.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = sqlite.prepare('PRAGMA synchronous = FULL');
  const begin = sqlite.prepare('BEGIN IMMEDIATE');
  // the connection's busy timeout, and none: see tryBegin
  const busyWait = sqlite.prepare(`PRAGMA busy_timeout = ${Number(sqlite.pragma('busy_timeout', { simple: true }))}`);
  const busyNoWait = sqlite.prepare('PRAGMA busy_timeout = 0');
  /** since when BEGIN has found another connection writing (0: it has not) */
  let busySince = 0;
  const commit = sqlite.prepare('COMMIT');
  const rollback = sqlite.prepare('ROLLBACK');
  const savepoint = sqlite.prepare('SAVEPOINT job');
  const release = sqlite.prepare('RELEASE job');
  const rollbackTo = sqlite.prepare('ROLLBACK TO job');

  const rolledBack = options.onRollback ?? (() => undefined);

  function runJob(job: Job): void {
    savepoint.run();
    try {
      const value = job.run();
      release.run();
      job.outcome = { ok: true, value };
    } catch (error) {
      rollbackTo.run();
      release.run();
      rolledBack();
      job.outcome = { ok: false, error };
      if (job.onError) {
        savepoint.run();
        try {
          job.onError(error);
          release.run();
        } catch (recordError) {
          rollbackTo.run();
          release.run();
          rolledBack();
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
        rolledBack();
        return false;
      }
    }
    return true;
  }

  /** the WAL file, opened after the first COMMIT created it; null: commit with synchronous=FULL */
  function wal(): number | null {
    if (walFd === null && walPath !== null) {
      try {
        walFd = openSync(walPath, 'r');
      } catch {
        // no WAL file after a commit: commits stay synchronous (FULL)
      }
    }
    return walFd;
  }

  /**
   * BEGIN IMMEDIATE without waiting: false while another connection writes (the ingest writer
   * thread's, the CLI's). SQLite's busy handler would sleep 1 ms or more on this thread
   * (on the server's, the event loop) when the other COMMIT takes a fraction of that; the group is
   * tried again on the next turn instead.
   */
  function tryBegin(): boolean {
    busyNoWait.get();
    try {
      begin.run();
      return true;
    } catch (error) {
      // SQLITE_BUSY, or an extended code such as SQLITE_BUSY_RECOVERY (another connection is
      // recovering the WAL after a crash): both clear up by themselves, as the busy handler assumed
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return false;
      throw error;
    } finally {
      busyWait.get();
    }
  }

  /**
   * Runs and commits one group; false if BEGIN or COMMIT failed (its jobs are rejected), 'busy' if
   * another connection was writing and `wait` is false (nothing was run).
   */
  function commitBatch(batch: Job[], durable: boolean, wait: boolean): boolean | 'busy' {
    try {
      if (!durable) syncNormal.run();
      if (wait) begin.run();
      else if (!tryBegin()) return 'busy';
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
      rolledBack();
      for (const job of batch) job.reject(error);
      return false;
    } finally {
      if (!durable) syncFull.run();
    }
    if (options.onWalSize && walPath && ++commits % 256 === 0) {
      try {
        options.onWalSize(statSync(walPath).size);
      } catch {
        // no WAL file (another journal mode): nothing to report
      }
    }
    return true;
  }

  function take(): Job[] {
    let count = Math.min(queue.length, maxBatch);
    if (maxWeight !== Infinity) {
      let weight = queue[0]!.weight;
      let n = 1;
      while (n < count && weight + queue[n]!.weight <= maxWeight) weight += queue[n++]!.weight;
      count = n;
    }
    const batch = queue.length > count ? queue.splice(0, count) : queue;
    if (batch === queue) queue = [];
    return batch;
  }

  /**
   * While a sync runs, only a queue of jobs that wait for no fsync (durable: false) is committed:
   * their callers are answered at the COMMIT, and waiting for the disk to finish someone else's
   * sync was most of their latency. Durable jobs keep waiting, so that their groups stay large,
   * unless commitWhileSyncing says otherwise.
   */
  const committable = () => queue.length > 0 && (!syncInFlight || commitWhileSyncing || !queue.some((job) => job.durable));

  /** Commits the queued jobs as one group (maxBatch at most) and starts its sync on the pool. */
  function commitQueued(): void {
    scheduled = false;
    if (!committable()) return;
    const fd = wal();
    const batch = take();
    const committed = commitBatch(batch, fd === null, false);
    if (committed === 'busy') return retryWhenFree(batch);
    busySince = 0;
    if (!committed) return schedule();
    if (fd === null) {
      // committed with synchronous=FULL (no WAL file yet, or an in-memory database)
      for (const job of batch) settle(job);
      return schedule();
    }
    // what waits for no fsync is answered now; the rest when a sync that starts after this COMMIT returns
    let waiting = batch;
    if (batch.some((job) => !job.durable)) {
      waiting = [];
      for (const job of batch) {
        if (job.durable) waiting.push(job);
        else settle(job);
      }
    }
    if (waiting.length === 0 && lazySyncMs > 0) {
      // nobody waits for this group's sync: the next sync that starts makes it durable, a durable
      // group's or, at the latest lazySyncMs from now, lazySync's
      lazyDirty = true;
      if (lazyTimer === null) lazyTimer = setTimeout(lazySync, lazySyncMs).unref();
      return schedule();
    }
    if (syncInFlight) {
      // committed during a sync (jobs that wait for no fsync, or any with commitWhileSyncing): the
      // next sync, which starts when this one returns, makes them durable
      unsyncedCommit = true;
      if (waiting.length > 0) afterSync = afterSync.length === 0 ? waiting : afterSync.concat(waiting);
      return schedule();
    }
    startSync(fd, waiting);
    // a group limited by maxWeight may leave jobs behind (committed now if they need not wait)
    schedule();
  }

  /** the sync that groups of only durable: false jobs left for later (lazySyncMs) */
  function lazySync(): void {
    lazyTimer = null;
    if (!lazyDirty || walFd === null) return;
    // a running sync began before their COMMIT: the one that follows it makes them durable
    if (syncInFlight) unsyncedCommit = true;
    else startSync(walFd, []);
  }

  /** a sync starts (on the pool, or at a flush): it makes every group committed so far durable, the lazy ones too */
  function syncStarts(): void {
    syncs++;
    lazyDirty = false;
    if (lazyTimer !== null) clearTimeout(lazyTimer);
    lazyTimer = null;
  }

  function startSync(fd: number, waiting: Job[]): void {
    syncStarts();
    syncing = waiting;
    syncInFlight = true;
    unsyncedCommit = false;
    fdatasync(fd, (error) => {
      syncInFlight = false;
      if (syncing === waiting) {
        syncing = null;
        for (const job of waiting) {
          if (error) job.reject(error);
          else settle(job);
        }
      }
      if (error && afterSync.length > 0) {
        // committed during the failed sync: their WAL frames follow frames that may be lost, and
        // recovery after a crash stops at the first lost one, so a later sync cannot vouch for them
        const lost = afterSync;
        afterSync = [];
        for (const job of lost) job.reject(error);
      }
      if (closed) return closeWal();
      // what was committed during this sync is made durable at once
      if (unsyncedCommit && walFd !== null) {
        const next = afterSync;
        afterSync = [];
        startSync(walFd, next);
      }
      schedule();
    });
  }

  /** Another connection is writing: the group goes back to the head of the queue and is tried again. */
  function retryWhenFree(batch: Job[]): void {
    queue = queue.length === 0 ? batch : batch.concat(queue);
    const now = performance.now();
    if (busySince === 0) busySince = now;
    scheduled = true;
    // the next turns for the first 2 ms (a group's COMMIT without fsync takes ~0.1-0.5 ms), then every
    // 1 ms: long writes (a checkpoint, an ingested batch of 500 events, the CLI) are not spun on
    if (now - busySince < 2) setImmediate(commitQueued);
    else setTimeout(commitQueued, 1);
  }

  function closeWal(): void {
    if (walFd !== null) closeSync(walFd);
    walFd = null;
  }

  function schedule(): void {
    if (!scheduled && committable()) {
      scheduled = true;
      setImmediate(commitQueued);
    }
  }

  function flush(): void {
    scheduled = false;
    busySince = 0;
    // shutdown: what is committed but not yet synced, and what is queued, is made durable now
    const fd = walFd;
    const unsynced = [...(syncing ?? []), ...afterSync];
    syncing = null;
    afterSync = [];
    const committed: Job[] = [];
    while (queue.length > 0) {
      const batch = take();
      if (commitBatch(batch, fd === null, true)) committed.push(...batch);
    }
    let failure: unknown = null;
    if (fd !== null && (unsynced.length + committed.length > 0 || unsyncedCommit || lazyDirty)) {
      unsyncedCommit = false;
      syncStarts();
      try {
        fdatasyncSync(fd);
      } catch (error) {
        failure = error;
      }
    }
    for (const job of [...unsynced, ...committed]) {
      if (failure) job.reject(failure);
      else settle(job);
    }
  }

  return {
    submit<T>(run: () => T, onError?: (error: unknown) => void, submitOptions?: SubmitOptions): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ run, onError, resolve: resolve as (v: unknown) => void, reject, durable: submitOptions?.durable ?? true, weight: submitOptions?.weight ?? 1 });
        schedule();
      });
    },
    flush,
    syncs: () => syncs,
    close() {
      flush();
      closed = true;
      // a sync still running on the pool closes the file when it returns
      if (!syncInFlight) closeWal();
    },
  };
}
