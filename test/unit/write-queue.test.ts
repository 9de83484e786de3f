// The group-commit queue on a real SQLite file: jobs of a turn share one COMMIT, a failing job is
// undone alone (the group runs again with a savepoint per job) and may record its failure; the
// checkpointer thread copies the WAL back while the queue writes.
import { pbkdf2 } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/db/connection.js';
import { createWriteQueue, type WriteQueueOptions } from '../../src/db/write-queue.js';
import { startCheckpointer } from '../../src/db/checkpointer.js';
import { tempDir } from '../helper.js';

function setup(t: Parameters<typeof tempDir>[0]) {
  const path = join(tempDir(t), 'queue.sqlite');
  const connection = openDatabase(path);
  connection.sqlite.exec('CREATE TABLE scratch (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
  t.teardown(() => connection.close());
  return { path, sqlite: connection.sqlite };
}

/**
 * A queue whose WAL file exists (later groups sync on the pool), every thread of libuv's pool busy
 * for a while (`busy`: the fdatasync of the next group waits behind them), and what another
 * connection sees committed.
 */
async function queueWithSlowSync(t: Parameters<typeof tempDir>[0], options: WriteQueueOptions = {}) {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite, options);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  await queue.submit(() => insert.run('first'));
  const other = new Database(path, { readonly: true });
  t.teardown(() => other.close());
  const committed = () => (other.prepare('SELECT value FROM scratch ORDER BY id').all() as { value: string }[]).map((r) => r.value);
  return { queue, insert, committed, busy: occupyPool() };
}

/** every thread of libuv's pool busy for a while: an fdatasync queued now waits behind them */
function occupyPool(): Promise<unknown>[] {
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  return Array.from({ length: poolSize }, () => new Promise((resolve) => pbkdf2('x', 'y', 100_000, 32, 'sha256', resolve)));
}

t.test('jobs of one turn share a commit; each is answered after it, a failing one alone is undone', async (t) => {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const results = await Promise.allSettled(
    Array.from({ length: 300 }, (_, i) =>
      queue.submit(() => {
        insert.run(`v${i}`);
        if (i === 7) throw new Error('job 7 fails');
        return i;
      }),
    ),
  );
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 299, '299 jobs answered with their value');
  t.match((results[7] as PromiseRejectedResult).reason, { message: 'job 7 fails' }, 'the failing job is rejected with its error');
  // read through a second connection: what was answered is committed
  const other = new Database(path, { readonly: true });
  t.teardown(() => other.close());
  t.equal((other.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n, 299, 'the failing job alone left nothing');
  t.equal(other.prepare("SELECT 1 FROM scratch WHERE value = 'v7'").get(), undefined, 'job 7 rolled back to its savepoint');
  t.equal(sqlite.pragma('synchronous', { simple: true }), 2, 'durable commits: synchronous=FULL');
});

t.test('durable: false answers at the COMMIT, the others of its group after the fsync', async (t) => {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  await queue.submit(() => insert.run('first')); // the WAL file exists: later groups sync on the pool
  const order: string[] = [];
  const durable = queue.submit(() => insert.run('durable')).then(() => order.push('durable'));
  const read = queue
    .submit(() => insert.run('read'), undefined, { durable: false })
    .then(() => {
      order.push('read');
      // answered: committed and visible to another connection, its durable neighbour not yet answered
      const other = new Database(path, { readonly: true });
      const n = (other.prepare("SELECT count(*) AS n FROM scratch WHERE value IN ('read', 'durable')").get() as { n: number }).n;
      other.close();
      return n;
    });
  t.equal(await read, 2, 'the group is committed when the non-durable job is answered');
  await durable;
  t.same(order, ['read', 'durable'], 'the durable job waited for the fsync');
  const failing = queue.submit(() => {
    throw new Error('no');
  }, undefined, { durable: false });
  await t.rejects(failing, { message: 'no' }, 'a failing non-durable job is rejected as any other');
});

t.test('while a sync runs, jobs that wait for no fsync are committed and answered; durable ones wait for it', async (t) => {
  const { queue, insert, committed, busy } = await queueWithSlowSync(t);
  const order: string[] = [];
  const d1 = queue.submit(() => insert.run('d1')).then(() => order.push('d1'));
  // d1's group commits in this turn's check phase; its sync is then queued on the pool
  await new Promise((resolve) => setImmediate(resolve));
  t.same(committed(), ['first', 'd1'], 'd1 committed, its sync pending');
  await queue.submit(() => insert.run('r1'), undefined, { durable: false });
  order.push('r1');
  t.same(order, ['r1'], 'the non-durable job is answered while the sync of the group before it runs');
  t.same(committed(), ['first', 'd1', 'r1'], 'and it is committed');
  const d2 = queue.submit(() => insert.run('d2')).then(() => order.push('d2'));
  const r2 = queue.submit(() => insert.run('r2'), undefined, { durable: false }).then(() => order.push('r2'));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(committed(), ['first', 'd1', 'r1'], 'a durable job waits for the running sync, and so does a job queued with it');
  await Promise.all([d1, d2, r2, ...busy]);
  t.same(order, ['r1', 'd1', 'r2', 'd2'], 'then they commit together: the non-durable one is answered at the COMMIT, the durable one after its sync');
  t.same(committed(), ['first', 'd1', 'r1', 'd2', 'r2']);
});

t.test('lazySyncMs: groups of only non-durable jobs are synced by the next durable group, or lazySyncMs later', async (t) => {
  const { path, sqlite } = setup(t);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const eager = createWriteQueue(sqlite);
  await eager.submit(() => insert.run('first')); // the WAL file exists: groups sync on the pool
  const e0 = eager.syncs();
  await eager.submit(() => insert.run('eager read'), undefined, { durable: false });
  t.equal(eager.syncs(), e0 + 1, 'without lazySyncMs, a group of reads starts its own sync');
  eager.close();

  const queue = createWriteQueue(sqlite, { lazySyncMs: 150 });
  const other = new Database(path, { readonly: true });
  t.teardown(() => other.close());
  const count = () => (other.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n;
  const before = count();
  const s0 = queue.syncs();
  for (const value of ['r1', 'r2', 'r3']) await queue.submit(() => insert.run(value), undefined, { durable: false });
  t.equal(count(), before + 3, 'three groups of reads committed and answered');
  t.equal(queue.syncs(), s0, 'none of them started a sync');
  await sleep(250);
  t.equal(queue.syncs(), s0 + 1, 'one sync made them durable within lazySyncMs');

  await queue.submit(() => insert.run('r4'), undefined, { durable: false });
  const s1 = queue.syncs();
  await queue.submit(() => insert.run('d1'));
  t.equal(queue.syncs(), s1 + 1, 'a durable group syncs at once, as always');
  await sleep(250);
  t.equal(queue.syncs(), s1 + 1, 'its sync covered the group of reads before it: no later sync');

  await queue.submit(() => insert.run('r5'), undefined, { durable: false });
  const s2 = queue.syncs();
  queue.close();
  t.equal(queue.syncs(), s2 + 1, 'close() syncs a group of reads that still waited for its sync');
  await sleep(250);
  t.equal(queue.syncs(), s2 + 1, 'and its timer does not fire after close()');
});

t.test('commitWhileSyncing: a durable job is committed during the running sync, and answered after the next one', async (t) => {
  const { queue, insert, committed, busy } = await queueWithSlowSync(t, { commitWhileSyncing: true });
  const order: string[] = [];
  const d1 = queue.submit(() => insert.run('d1')).then(() => order.push('d1'));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(committed(), ['first', 'd1'], 'd1 committed, its sync pending behind the busy pool');
  const d2 = queue.submit(() => insert.run('d2')).then(() => order.push('d2'));
  const d3 = queue.submit(() => insert.run('d3')).then(() => order.push('d3'));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(committed(), ['first', 'd1', 'd2', 'd3'], 'd2 and d3 are committed while d1 syncs, not after');
  t.same(order, [], 'and nobody is answered before a sync');
  await d1;
  t.same(order, ['d1'], "d1 after its sync; d2 and d3 not by that sync, which began before their COMMIT");
  await Promise.all([d2, d3, ...busy]);
  t.same(order, ['d1', 'd2', 'd3'], 'd2 and d3 after the sync that began once it returned');
  // close() answers what was committed during a sync whose successor has not started
  const busyAgain = occupyPool();
  const d4 = queue.submit(() => insert.run('d4')).then(() => order.push('d4'));
  await new Promise((resolve) => setImmediate(resolve));
  const d5 = queue.submit(() => insert.run('d5')).then(() => order.push('d5'));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(committed().slice(-2), ['d4', 'd5'], 'd5 committed during the sync of d4');
  queue.close();
  await Promise.all([d4, d5, ...busyAgain]);
  t.same(order.slice(-2), ['d4', 'd5'], 'both answered: close() synced them');
});

t.test("onRollback: called when a job's writes are undone", async (t) => {
  const { sqlite } = setup(t);
  let rollbacks = 0;
  const queue = createWriteQueue(sqlite, { onRollback: () => rollbacks++ });
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  await queue.submit(() => insert.run('ok'));
  t.equal(rollbacks, 0, 'not for a group that commits');
  const results = await Promise.allSettled([
    queue.submit(() => insert.run('a')),
    queue.submit(() => {
      insert.run('b');
      throw new Error('no');
    }),
  ]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected']);
  t.equal(rollbacks, 2, "the group, then the failing job's savepoint");
});

t.test('maxWeight: a group holds jobs up to that weight, one job at least', async (t) => {
  const { sqlite } = setup(t);
  const queue = createWriteQueue(sqlite, { maxWeight: 500 });
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  // the jobs that ran since the last answer: a group is answered before the next one runs
  const groups: number[][] = [];
  let group: number[] = [];
  const job = (i: number, weight: number) =>
    queue.submit(
      () => {
        insert.run(`j${i}`);
        group.push(i);
        return i;
      },
      undefined,
      { weight },
    );
  const sizes = [200, 200, 200, 600, 100, 100];
  const all = sizes.map((w, i) => job(i, w).then(() => {
    if (group.length > 0) (groups.push(group), (group = []));
  }));
  await Promise.all(all);
  t.same(groups, [[0, 1], [2], [3], [4, 5]], '200+200; 200 (with 600 it would pass 500); 600 alone; 100+100');
});

t.test('a job that fails can record its failure in the same transaction', async (t) => {
  const { sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  await t.rejects(
    queue.submit(
      () => {
        insert.run('change');
        throw new Error('refused');
      },
      () => insert.run('failure recorded'),
    ),
    { message: 'refused' },
  );
  t.same(sqlite.prepare('SELECT value FROM scratch').all(), [{ value: 'failure recorded' }]);
});

t.test('flush at shutdown commits what is queued, at once', async (t) => {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const pending = [queue.submit(() => insert.run('a')), queue.submit(() => insert.run('b'))];
  queue.flush();
  const other = new Database(path, { readonly: true });
  t.teardown(() => other.close());
  t.equal((other.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n, 2, 'committed before the next turn');
  await Promise.all(pending);
});

t.test('close() answers every job: committed ones whose sync is running and queued ones', async (t) => {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const first = queue.submit(() => insert.run('committed'));
  // the first group commits in the check phase of this turn; its fdatasync runs on the thread pool
  await new Promise((resolve) => setImmediate(resolve));
  const queued = queue.submit(() => insert.run('queued'));
  queue.close();
  const other = new Database(path, { readonly: true });
  t.teardown(() => other.close());
  t.equal((other.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n, 2, 'both committed by close()');
  await Promise.all([first, queued]);
  t.equal(sqlite.pragma('synchronous', { simple: true }), 2, 'writes outside the queue (console, CLI) stay synchronous=FULL');
});

t.test('the group runs again with savepoints only when a job fails', async (t) => {
  const { sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const runs = new Map<string, number>();
  const job = (name: string, fail = false) => () => {
    runs.set(name, (runs.get(name) ?? 0) + 1);
    insert.run(name);
    if (fail) throw new Error(`${name} fails`);
  };
  await Promise.all([queue.submit(job('a')), queue.submit(job('b'))]);
  t.same([...runs], [['a', 1], ['b', 1]], 'no failure: each job ran once');
  runs.clear();
  const results = await Promise.allSettled([queue.submit(job('c')), queue.submit(job('d', true)), queue.submit(job('e'))]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  t.same([...runs], [['c', 2], ['d', 2], ['e', 1]], 'the first attempt stopped at the failure; the second ran every job');
  t.same(sqlite.prepare('SELECT value FROM scratch ORDER BY id').all(), [{ value: 'a' }, { value: 'b' }, { value: 'c' }, { value: 'e' }]);
});

t.test('the checkpointer thread copies the WAL into the database while the queue writes', async (t) => {
  const { path, sqlite } = setup(t);
  sqlite.pragma('wal_autocheckpoint = 0'); // only the thread copies, for this test
  const sizes: number[] = [];
  const queue = createWriteQueue(sqlite, { onWalSize: (bytes) => sizes.push(bytes) });
  const checkpointer = startCheckpointer(path, 20);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  const payload = 'x'.repeat(2000);
  for (let round = 0; round < 300; round++) {
    await Promise.all(Array.from({ length: 5 }, () => queue.submit(() => insert.run(payload))));
  }
  t.ok(sizes.length > 0 && sizes[0]! > 0, 'the queue reports the WAL size every 256 commits');
  // nothing else checkpoints: only the thread can have grown the database file from an empty
  // table to the 1,500 rows of 2 kB that the WAL holds
  let size = 0;
  for (let i = 0; i < 100 && size < 3_000_000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    size = statSync(path).size;
  }
  await checkpointer.stop();
  t.ok(size >= 3_000_000, `the database file grew to ${size} bytes`);
  t.equal((sqlite.prepare('SELECT count(*) AS n FROM scratch').get() as { n: number }).n, 1500);
});

t.test('while another connection writes, the queue waits without blocking the event loop', async (t) => {
  const { path, sqlite } = setup(t);
  const queue = createWriteQueue(sqlite);
  const insert = sqlite.prepare('INSERT INTO scratch (value) VALUES (?)');
  await queue.submit(() => insert.run('first'));
  const other = new Database(path);
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  let done = false;
  const job = queue.submit(() => insert.run('second')).then(() => (done = true));
  // SQLite's busy handler would sleep on this thread; the queue tries again on later turns instead
  const started = performance.now();
  let turns = 0;
  while (performance.now() - started < 30) {
    await new Promise((r) => setTimeout(r, 1));
    turns++;
  }
  t.notOk(done, 'the job waits while the other connection holds the write lock');
  t.ok(turns >= 5, `the event loop kept running (${turns} timer turns in 30 ms)`);
  other.exec("INSERT INTO scratch (value) VALUES ('other'); COMMIT");
  await job;
  t.same(
    sqlite.prepare('SELECT value FROM scratch ORDER BY id').pluck().all(),
    ['first', 'other', 'second'],
    'committed once the other connection had',
  );
  t.equal(sqlite.pragma('busy_timeout', { simple: true }), 5000, 'the connection keeps its busy timeout for other statements');
});
