// `npm run bench:ingest`: events/s through real HTTP POST /api/v1/events, at 0 existing entries and
// at 10,000,000, with every red-flag rule on.
//
// The server runs as `npm start` runs it (compiled, with its node options) on a fresh SQLite file in a temporary directory, with an
// ingest token made by the real CLI. C client connections (keep-alive, in this process) each post
// batches of B realistic mixed events (LOGIN SUCCESS/FAILURE, LOGOUT, password events,
// PROVISIONING_*, SYNCHRONIZATION…, many distinct users, unique sender ids) in a closed loop for
// S seconds after a short warm-up; the rate is events stored per second (every response must be a
// 200 with all B events stored). Then the server is stopped, audit_log is bulk-filled directly with
// better-sqlite3 (synchronous=OFF for the fill only) up to BENCH_PREFILL rows shaped like ingested
// events, and the same load runs again.
//
// Environment: BENCH_PREFILL (10000000 rows in audit_log for the second run), BENCH_SECONDS (20),
// BENCH_WARMUP_SECONDS (3), BENCH_CONNECTIONS (3), BENCH_BATCH (500), BENCH_USERS (500000 distinct
// users), BENCH_DIR (parent of the temporary directory, default the OS temp dir), BENCH_KEEP=1 keeps
// the database; BENCH_CPU_PROF=1 runs the server with --cpu-prof and prints where its time went
// (BENCH_SERVER_SCRIPT: another server entry than the compiled dist/src/server.js, absolute or relative to the checkout;
// its checkout's CLI sets up the database. The prefill writes with this checkout's code: to measure
// a change of the schema or of appending, run the bench from the changed checkout);
// BENCH_STRICT=1 exits 1 when a target is missed (correctness failures always do).
//
// Output: progress on stderr; on stdout the details and one summary line:
//   bench:ingest rate0=… ev/s rate10M=… ev/s ratio=… target≥20000 PASS|FAIL, ratio≥0.8 PASS|FAIL
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createAuditRepository } from '../src/db/audit-repository.js';
import { prepareEvent } from '../src/services/ingest.js';
import { batchEventTime, businessHoursAnchor, eventGenerator } from './events.js';
import { benchServer, cpuSeconds, envInt, freePort, machineBusySeconds, nowUs, quantile, runNode, startServer, summarizeCpuProfile, type ServerProcess, type TimeWindow } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const PREFILL = envInt('BENCH_PREFILL', 10_000_000);
const SECONDS = envInt('BENCH_SECONDS', 20);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 3);
const BATCH = envInt('BENCH_BATCH', 500);
const USERS = envInt('BENCH_USERS', 500_000);
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const STRICT = process.env.BENCH_STRICT === '1';
const KEEP = process.env.BENCH_KEEP === '1';

const TARGETS = { rate: 20_000, ratio: 0.8 };

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** Event time: from bench/events.ts's anchor (a weekday at 11:00 UTC), advancing with the wall clock. */
const BENCH_START = Date.now();
const ANCHOR = businessHoursAnchor(BENCH_START);
const eventClock = () => ANCHOR + (Date.now() - BENCH_START);

// ---- load ---------------------------------------------------------------------------------------

interface RunResult {
  events: number;
  requests: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  failures: string[];
  serverCpu: number;
  clientCpu: number;
  machineBusy: number;
  /** red flags raised or extended during the run (new flag-entry links) */
  flags: number;
}

function post(agent: Agent, port: number, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: HOST,
        port,
        method: 'POST',
        path: '/api/v1/events',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** C closed-loop clients posting batches until `seconds` have passed; counts the events stored. */
async function load(port: number, token: string, seconds: number, seed: number, serverPid: number): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const failures: string[] = [];
  const latencies: number[] = [];
  let events = 0;
  let requests = 0;
  const [server0, client0, machine0] = [cpuSeconds(serverPid), cpuSeconds(process.pid), machineBusySeconds()];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async (c: number) => {
    const next = eventGenerator(seed + c * 7919, USERS);
    while (performance.now() < deadline && failures.length < 10) {
      const now = eventClock();
      const batch = Array.from({ length: BATCH }, (_, i) => next(batchEventTime(now, i)));
      const body = JSON.stringify(batch);
      const t0 = performance.now();
      const res = await post(agent, port, token, body);
      latencies.push(performance.now() - t0);
      requests++;
      if (res.status !== 200) {
        failures.push(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
        continue;
      }
      const json = JSON.parse(res.text) as { accepted: number; duplicates: number; rejected: number };
      if (json.accepted !== BATCH) failures.push(`stored ${json.accepted} of ${BATCH} (duplicates ${json.duplicates}, rejected ${json.rejected})`);
      events += json.accepted;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => client(c)));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  return {
    events,
    requests,
    seconds: elapsed,
    rate: events / elapsed,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    failures,
    serverCpu: cpuSeconds(serverPid) - server0,
    clientCpu: cpuSeconds(process.pid) - client0,
    machineBusy: machineBusySeconds() - machine0,
    flags: 0,
  };
}

// ---- prefill ------------------------------------------------------------------------------------

/**
 * Fills audit_log up to `total` rows with entries exactly as ingestion writes them (built by the
 * service's own prepareEvent, written by the audit repository's own append), timestamps spread over
 * the year before `endTs`. Direct and fast, with the server stopped: for the fill only,
 * synchronous=OFF, no journal (journal_mode=OFF, back to WAL after) and a page cache large enough
 * for the indexes, in transactions of 500,000 rows. The indexes stay in place, so they grow by
 * random inserts as in production (pages about 70 % full); rebuilding them after the load would be
 * faster but would leave them packed full, so that every insert of the measured run split a page.
 */
function prefill(dbPath: string, total: number, endTs: number): { inserted: number; seconds: number } {
  const started = performance.now();
  const db = new Database(dbPath);
  try {
    const existing = (db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    const toInsert = Math.max(0, total - existing);
    if (toInsert === 0) return { inserted: 0, seconds: 0 };
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    const cacheKb = Math.max(256 * 1024, Math.min(6 * 1024 * 1024, Math.floor((freemem() / 1024) * 0.4)));
    db.pragma(`cache_size = -${cacheKb}`);
    const audit = createAuditRepository(db);
    const next = eventGenerator(0x5eed, USERS);
    const span = 365 * 86_400_000;
    const startTs = endTs - span;
    const provenance = 'Received over the API with token "bench"';
    const fill = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const ts = startTs + Math.floor((i / toInsert) * span);
        const prepared = prepareEvent(next(ts), provenance);
        if (!prepared.ok) throw new Error(`bench event rejected: ${prepared.error}`);
        audit.append(prepared.entry);
      }
    });
    const CHUNK = 500_000;
    for (let from = 0; from < toInsert; from += CHUNK) {
      fill(from, Math.min(toInsert, from + CHUNK));
      const done = Math.min(toInsert, from + CHUNK);
      log(`  prefill ${fmt(done)} / ${fmt(toInsert)} rows (${fmt(done / ((performance.now() - started) / 1000))} rows/s)`);
    }
    db.pragma('journal_mode = WAL');
    return { inserted: toInsert, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'iamtrail-bench-ingest-'));
  const dbPath = join(dir, 'iamtrail.sqlite');
  const profDir = CPU_PROF ? mkdtempSync(join(tmpdir(), 'iamtrail-bench-prof-')) : undefined;
  const env = { ...process.env, DATABASE_PATH: dbPath, LOG_LEVEL: 'warn' };
  const { script, cli } = await benchServer();
  let server: ServerProcess | undefined;
  const windows: TimeWindow[] = [];
  try {
    const created = await runNode([cli, 'token', 'create', '--name', 'bench', '--scope', 'ingest'], env);
    const token = created.trim().split('\n').at(-1)!.trim();

    const run = async (label: string, seed: number): Promise<RunResult> => {
      const port = await freePort();
      server = await startServer({
        script,
        env: { ...env, PORT: String(port), HOST },
        host: HOST,
        port,
        // one directory per run: the main thread's profile is the largest file in it (the threads write theirs too)
        nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, label)}`] : [],
      });
      const pid = server.pid;
      if (WARMUP > 0) await load(port, token, WARMUP, seed + 1, pid);
      const rows0 = countRows(dbPath);
      const flags0 = countFlags(dbPath);
      log(`bench:ingest ${label}: ${fmt(rows0)} entries in audit_log, ${SECONDS} s, ${CONNECTIONS} connections, batches of ${BATCH}`);
      const startUs = nowUs();
      const result = await load(port, token, SECONDS, seed, pid);
      windows.push({ name: label, startUs, endUs: nowUs() });
      await server.stop();
      server = undefined;
      result.flags = countFlags(dbPath) - flags0;
      return result;
    };

    const r0 = await run('rate0', 1);
    report('rate0', r0);

    const fillEnd = ANCHOR - 3_600_000;
    log(`bench:ingest prefill: audit_log up to ${fmt(PREFILL)} rows (server stopped)…`);
    const filled = prefill(dbPath, PREFILL, fillEnd);
    const size = statSync(dbPath).size;
    log(`bench:ingest prefill: ${fmt(filled.inserted)} rows in ${filled.seconds.toFixed(0)} s; database ${(size / 1024 / 1024).toFixed(0)} MiB`);

    const label10 = PREFILL === 10_000_000 ? 'rate10M' : `rate${PREFILL >= 1_000_000 ? `${+(PREFILL / 1e6).toFixed(1)}M` : PREFILL >= 1000 ? `${+(PREFILL / 1e3).toFixed(1)}k` : PREFILL}`;
    const r10 = await run(label10, 2);
    report(label10, r10);

    if (profDir) {
      for (const window of windows) {
        const runDir = join(profDir, window.name);
        // one profile per thread: the event loop (thread 0) and the ingest writer thread
        for (const file of readdirSync(runDir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
          const thread = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1];
          console.log(`-- thread ${thread === '0' ? '0 (event loop)' : `${thread} (worker)`}`);
          console.log(summarizeCpuProfile(join(runDir, file), [window], ROOT, 20));
        }
      }
      console.log(`cpu profiles: ${profDir}`);
    }

    const failures = [...r0.failures, ...r10.failures];
    for (const f of failures) console.log(`bench:ingest FAILURE ${f}`);
    const ratio = r10.rate / r0.rate;
    const rateOk = Math.min(r0.rate, r10.rate) >= TARGETS.rate;
    const ratioOk = ratio >= TARGETS.ratio;
    console.log(
      `bench:ingest rate0=${fmt(r0.rate)} ev/s ${label10}=${fmt(r10.rate)} ev/s ratio=${ratio.toFixed(2)} target≥${TARGETS.rate} ${verdict(rateOk)}, ratio≥${TARGETS.ratio} ${verdict(ratioOk)}`,
    );
    if (failures.length > 0) return 1;
    return STRICT && !(rateOk && ratioOk) ? 1 : 0;
  } finally {
    (server as ServerProcess | undefined)?.kill();
    if (KEEP) log(`bench:ingest database kept: ${dbPath}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function countRows(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT max(id) AS n FROM audit_log').get() as { n: number | null }).n ?? 0;
  } finally {
    db.close();
  }
}

/** Links between red flags and entries: grows by one for each entry a rule flags. */
function countFlags(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM red_flag_entries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function report(label: string, r: RunResult): void {
  console.log(
    `bench:ingest ${label}: ${fmt(r.events)} events in ${fmt(r.requests)} requests over ${r.seconds.toFixed(1)} s = ${fmt(r.rate)} ev/s; ` +
      `batch latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ${fmt(r.flags)} flagged entries; ` +
      `CPU s: server ${r.serverCpu.toFixed(1)} (${r.events ? ((r.serverCpu * 1e6) / r.events).toFixed(0) : '-'} µs/event), client ${r.clientCpu.toFixed(1)}, machine busy ${r.machineBusy.toFixed(1)} of ${(r.seconds * cpus().length).toFixed(1)}` +
      (r.failures.length ? `; ${r.failures.length} failures` : ''),
  );
}

process.exitCode = await main();
