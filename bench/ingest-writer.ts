// `npm run bench:ingest-writer`: what storing POST /api/v1/events batches costs the ingest writer,
// measured in process on one thread: the real schema (the migrations), repositories, red-flag rules,
// storeApiBatch and COMMIT, without HTTP, the event loop or the other threads. bench:ingest measures
// the product; this one says where the writer's time goes, with far less noise, to try a change of
// the audit log's indexes or of appending in seconds.
//
// Two runs, each on a fresh database in a temporary directory, with the same events:
//   spread   bench:ingest's batches: a batch's events carry times from the last 18.5 s (events/batchEventTime),
//            among those of the batches sent before it
//   ordered  the same events with increasing times
// An index keyed by time takes a write on a random page of its last seconds per event when times are
// spread, and an append when they are ordered: the difference between the two runs is that cost.
// (Until migration 0016, the event id's and the action's indexes were: 1,921 frames per batch spread
// against 1,033 ordered; without them 1,052 against 974.)
//
// Per batch: BEGIN IMMEDIATE, storeApiBatch (the "work"), COMMIT with synchronous=NORMAL (the writer
// thread's group commit syncs the WAL after it; here it is not synced). The frames a COMMIT wrote
// (one per page the batch changed, copied into the database file by a later checkpoint) are the
// growth of mxFrame in the wal-index header (the -shm file, offset 16: sqlite.org/walformat.html).
// Every CHECKPOINT_EVERY batches the WAL is checkpointed off the clock and starts over, as the
// server's checkpointer keeps it small; the COMMIT after that writes and syncs a new WAL header,
// so that batch is left out of the figures (the server pays that sync a few times a second).
//
// Environment: BENCH_BATCHES (240 per run; the first quarter is unmeasured warm-up), BENCH_BATCH (500),
// BENCH_USERS (500000 distinct users), BENCH_DROP_INDEXES (audit_log indexes to drop first, comma-
// separated: what one index costs), BENCH_DIR (parent of the temporary directories).
//
// Output: one line per run, then the summary line:
//   bench:ingest-writer spread=… µs/event (work …, commit …, … frames/batch) ordered=… µs/event (…)
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/connection.js';
import { createRepositories } from '../src/plugins/db.js';
import { jobItems, prepareBatch, storeApiBatch, type ApiBatchJob, type IngestItem } from '../src/services/ingest.js';
import { batchEventTime, businessHoursAnchor, eventGenerator } from './events.js';
import { envInt, runBench } from './lib.js';

const BATCHES = envInt('BENCH_BATCHES', 240, 4);
const BATCH = envInt('BENCH_BATCH', 500);
const USERS = envInt('BENCH_USERS', 500_000);
const DROP = (process.env.BENCH_DROP_INDEXES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
/** bench:ingest's rate, about: how far the clock moves between two batches */
const EVENTS_PER_SECOND = 15_000;
/** batches between two checkpoints: ~80 MiB of WAL with bench:ingest's timestamps */
const CHECKPOINT_EVERY = 10;

/** The WAL's last valid frame, from the wal-index header (a u32 in native byte order at offset 16). */
function walFrames(shmPath: string): number {
  const header = Buffer.alloc(20);
  const fd = openSync(shmPath, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
}

type Mode = 'spread' | 'ordered';
interface RunResult {
  mode: Mode;
  workUs: number;
  commitUs: number;
  framesPerBatch: number;
  rows: number;
}

function run(mode: Mode): RunResult {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'iamtrail-bench-writer-'));
  try {
    const connection = openDatabase(join(dir, 'iamtrail.sqlite'));
    const { sqlite } = connection;
    // checkpoints are this bench's, between batches (the server's run on the checkpointer thread)
    sqlite.pragma('wal_autocheckpoint = 0');
    sqlite.pragma('synchronous = NORMAL');
    for (const name of DROP) {
      const found = sqlite.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_log' AND name = ?`).get(name);
      if (!found) throw new Error(`BENCH_DROP_INDEXES: audit_log has no index "${name}"`);
      sqlite.exec(`DROP INDEX "${name}"`);
    }
    const repos = createRepositories(connection, 'UTC');
    const tokenId = Number(
      sqlite.prepare(`INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ('bench', 'ingest', 'not a real token hash', ?)`).run(Date.now())
        .lastInsertRowid,
    );
    const begin = sqlite.prepare('BEGIN IMMEDIATE');
    const commit = sqlite.prepare('COMMIT');
    const restart = sqlite.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(RESTART)');
    const shmPath = `${sqlite.name}-shm`;

    const next = eventGenerator(0x5eed, USERS);
    const stepMs = (BATCH * 1000) / EVENTS_PER_SECOND;
    let now = businessHoursAnchor(Date.now());
    const warmup = Math.floor(BATCHES / 4);
    let work = 0;
    let commitMs = 0;
    let frames = 0;
    let measured = 0;
    for (let b = 0; b < BATCHES; b++) {
      now += stepMs;
      const items: IngestItem[] = [];
      for (let i = 0; i < BATCH; i++) {
        const at = mode === 'spread' ? batchEventTime(now, i) : new Date(now - 60_000 + (i * stepMs) / BATCH).toISOString();
        items.push({ index: i, value: next(at) });
      }
      const job: ApiBatchJob = {
        prepared: jobItems(prepareBatch(items, () => 'Received over the API with token "bench"')),
        format: 'json',
        tokenId,
        tokenName: 'bench',
        requestLine: 'POST /api/v1/events · client 127.0.0.1',
        sourceIp: '127.0.0.1',
        userAgent: null,
        receivedAt: now,
      };
      const restarted = b % CHECKPOINT_EVERY === 0;
      if (restarted && restart.get()!.busy !== 0) throw new Error('the checkpoint could not restart the WAL');
      const before = walFrames(shmPath);
      const t0 = performance.now();
      begin.run();
      const result = storeApiBatch(repos, job);
      const t1 = performance.now();
      commit.run();
      const t2 = performance.now();
      if (result.accepted !== BATCH) throw new Error(`batch ${b}: stored ${result.accepted} of ${BATCH} events`);
      if (b < warmup || restarted) continue;
      measured++;
      work += t1 - t0;
      commitMs += t2 - t1;
      frames += walFrames(shmPath) - before;
    }
    const rows = (sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    connection.close();
    return {
      mode,
      workUs: (work * 1000) / (measured * BATCH),
      commitUs: (commitMs * 1000) / (measured * BATCH),
      framesPerBatch: frames / measured,
      rows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const describe = (r: RunResult) =>
  `${(r.workUs + r.commitUs).toFixed(1)} µs/event (work ${r.workUs.toFixed(1)}, commit ${r.commitUs.toFixed(1)}, ${Math.round(r.framesPerBatch)} frames/batch)`;

runBench('bench:ingest-writer', async () => {
  const results: RunResult[] = [];
  for (const mode of ['spread', 'ordered'] as const) {
    const r = run(mode);
    results.push(r);
    console.log(
      `bench:ingest-writer ${mode}: ${describe(r)}, ${r.rows.toLocaleString('en-US')} entries at the end${DROP.length ? `, without ${DROP.join(', ')}` : ''}`,
    );
  }
  console.log(`bench:ingest-writer ${results.map((r) => `${r.mode}=${describe(r)}`).join(' ')}`);
  return 0;
});
