// `npm run bench:ingest-writer`: what storing POST /api/v1/events batches costs the ingest writer,
// measured in process on one thread: the real schema (the migrations), repositories, red-flag rules,
// storeApiBatch and COMMIT, without HTTP, the event loop or the other threads. bench:ingest measures
// the product; this one says where the writer's time goes, with far less noise, to try a change of
// the audit log's indexes or of appending in seconds.
//
// Two runs, each on a fresh database in a temporary directory, with the same events:
//   spread   bench:ingest's batches: the events of one batch span the last minute, out of order
//   ordered  the same events with increasing times
// Each index keyed by time (the event id's, the action's…) takes a write on a random page of its
// last minute per event when times are spread, and an append when they are ordered: the difference
// between the two runs is that cost.
//
// Per batch: BEGIN IMMEDIATE, storeApiBatch (the "work"), COMMIT with synchronous=NORMAL (the writer
// thread's group commit syncs the WAL after it, off the clock here). Before each batch the WAL is
// checkpointed and started over (RESTART, off the clock), as the server's checkpointer keeps it, and
// after the COMMIT the frames it wrote are read from the checkpoint's answer: one WAL frame per page
// the batch changed, written at the COMMIT and copied into the database file by a later checkpoint.
//
// Environment: BENCH_BATCHES (240 per run; the first quarter is unmeasured warm-up), BENCH_BATCH (500),
// BENCH_USERS (500000 distinct users), BENCH_DROP_INDEXES (audit_log indexes to drop first, comma-
// separated: what one index costs), BENCH_DIR (parent of the temporary directories).
//
// Output: one line per run, then the summary line:
//   bench:ingest-writer spread=… µs/event (work …, commit …, … frames/batch) ordered=… µs/event (…)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
    const restart = sqlite.prepare('PRAGMA wal_checkpoint(RESTART)');
    const passive = sqlite.prepare<[], { busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');

    const next = eventGenerator(0x5eed, USERS);
    const stepMs = (BATCH * 1000) / EVENTS_PER_SECOND;
    let now = businessHoursAnchor(Date.now());
    const warmup = Math.floor(BATCHES / 4);
    let work = 0;
    let commitMs = 0;
    let frames = 0;
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
      restart.get();
      const t0 = performance.now();
      begin.run();
      const result = storeApiBatch(repos, job);
      const t1 = performance.now();
      commit.run();
      const t2 = performance.now();
      if (result.accepted !== BATCH) throw new Error(`batch ${b}: stored ${result.accepted} of ${BATCH} events`);
      if (b < warmup) continue;
      work += t1 - t0;
      commitMs += t2 - t1;
      frames += passive.get()!.log;
    }
    const measured = BATCHES - warmup;
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
