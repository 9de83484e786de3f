// Shared benchmark helpers: server child process, CLI runs, autocannon load with exact latencies, RSS sampling, CPU profile summary.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection, createServer } from 'node:net';
import autocannon from 'autocannon';

/** An integer ≥ `min` (default 1: a positive integer) from the environment, or the default. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${name} must be ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got "${raw}"`);
  }
  return n;
}

/** Microseconds on the monotonic clock: the same clock V8 stamps CPU profile samples with. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `node <args>` to completion and returns its stdout; rejects on a non-zero exit or after timeoutMs. */
export function runNode(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`node ${args.join(' ')} exited with ${code ?? signal}: ${err.trim() || out.trim()}`));
    });
  });
}

/** True once something accepts TCP connections on host:port. */
function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface ServerProcess {
  pid: number;
  /** SIGTERM (graceful: the app flushes its write queue), then SIGKILL after timeoutMs; resolves on exit */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running (for error paths) */
  kill(): void;
  exited(): boolean;
}

/**
 * Compiles the server as `npm start` does (its prestart is `npm run build`), so that a bench measures
 * the code that runs; returns the server's entry.
 */
export async function buildServer(): Promise<string> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  await runNode([fileURLToPath(import.meta.resolve('typescript/bin/tsc')), '-p', `${root}tsconfig.build.json`], process.env, 120_000);
  return `${root}dist/src/server.js`;
}

/**
 * The server entry a bench measures and the CLI that sets up its database: BENCH_SERVER_SCRIPT
 * (absolute, or relative to this checkout) and the CLI of the checkout it belongs to, else this
 * checkout compiled as `npm start` does and its CLI. The CLI opens the database first, so its
 * migrations are the ones applied: with this checkout's CLI, a server that changes the schema
 * would run on this checkout's schema (its own migrations already counted as applied).
 */
export async function benchServer(): Promise<{ script: string; cli: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const given = process.env.BENCH_SERVER_SCRIPT;
  const script = given ? resolve(root, given) : await buildServer();
  let checkout = dirname(script);
  while (!existsSync(join(checkout, 'package.json')) && dirname(checkout) !== checkout) checkout = dirname(checkout);
  const cli = join(checkout, 'bin', 'iamtrail.mjs');
  if (!existsSync(cli)) throw new Error(`no bin/iamtrail.mjs in ${checkout}, the checkout of ${script}`);
  return { script, cli };
}

/** the node options of `npm start` (package.json), so that a bench measures the server as it runs */
const START_NODE_ARGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts.start!.split(/\s+/);
  return words.slice(1, -1).filter((w) => w.startsWith('--'));
})();

/**
 * Spawns `node <npm start's options> [nodeArgs] script` with env, forwards its output to stderr
 * prefixed with "[server]", and resolves once host:port accepts connections (rejects if it exits
 * or is not up within readyTimeoutMs).
 */
export async function startServer(opts: {
  script: string;
  env: NodeJS.ProcessEnv;
  host: string;
  port: number;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...START_NODE_ARGS, ...(opts.nodeArgs ?? []), opts.script], { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let exitCode: number | string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal ?? 'unknown';
      resolve();
    }),
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) process.stderr.write(`[server] ${line}\n`);
    });
  }
  const server: ServerProcess = {
    pid: child.pid!,
    exited: () => exitCode !== null,
    kill() {
      if (exitCode === null) child.kill('SIGKILL');
    },
    async stop(timeoutMs = 15_000) {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (!(await canConnect(opts.host, opts.port))) {
    if (exitCode !== null) throw new Error(`server exited during start-up (${exitCode})`);
    if (Date.now() > deadline) {
      server.kill();
      throw new Error(`server did not listen on ${opts.host}:${opts.port} in time`);
    }
    await sleep(50);
  }
  return server;
}

/** Samples VmRSS of a process from /proc every intervalMs and keeps the maximum (kB). */
export function sampleRss(pid: number, intervalMs = 200): { maxKb(): number; lastKb(): number; stop(): void } {
  let max = 0;
  let last = 0;
  const sample = () => {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        last = Number(m[1]);
        if (last > max) max = last;
      }
    } catch {
      /* the process has exited */
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return { maxKb: () => max, lastKb: () => last, stop: () => clearInterval(timer) };
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds all processes of the machine have used so far (busy = not idle, not waiting for I/O), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = ticks.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
    return (n.reduce((a, b) => a + b, 0) - n[3]! - n[4]!) / 100;
  } catch {
    return NaN;
  }
}

/** Value at quantile q (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LoadResult {
  /** requests written to sockets (autocannon's count) */
  sent: number;
  /** responses received */
  responses: number;
  seconds: number;
  /** responses per second */
  rate: number;
  /** latency of every response, in ms (autocannon's own histogram has 1 ms resolution) */
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  /** connection errors, including timeouts */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

/**
 * Runs one autocannon load, bounded by opts.amount or opts.duration and in any case by maxSeconds
 * (a watchdog, should the server stall), and measures it from the client side.
 */
export function runLoad(opts: autocannon.Options, maxSeconds = 900): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let latencies = new Float64Array(1 << 16);
    let n = 0;
    const statusCodes: Record<string, number> = {};
    const started = process.hrtime.bigint();
    let watchdog: NodeJS.Timeout | undefined;
    // bailout: a server that died or refuses connections ends the run instead of being retried forever
    const instance = autocannon({ bailout: 1000, ...opts }, (err, result) => {
      clearTimeout(watchdog);
      if (err) return reject(err);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const sorted = latencies.subarray(0, n).sort();
      resolve({
        sent: result.requests.sent,
        responses: n,
        seconds,
        rate: n / seconds,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: n ? sorted[n - 1]! : NaN,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes,
      });
    });
    watchdog = setTimeout(() => instance.stop(), maxSeconds * 1000);
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = ms;
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    });
  });
}

// ---- CPU profile summary ------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TimeWindow {
  name: string;
  startUs: number;
  endUs: number;
}

/** "pkg" for node_modules, the path under the project for own files, "node:…" for Node internals. */
function where(url: string, root: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(root) ? path.slice(root.length) : path;
}

/**
 * Per window, the functions with the most self time and the project functions (src/) with the most
 * inclusive time, as a share of the window's samples. `root` is stripped from file paths.
 */
export function summarizeCpuProfile(file: string, windows: TimeWindow[], root: string, top = 12): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const label = (node: ProfileNode) => {
    const f = node.callFrame;
    const w = where(f.url, root);
    return `${f.functionName || '(anonymous)'}${w ? ` ${w}:${f.lineNumber + 1}` : ''}`;
  };

  const out: string[] = [];
  for (const win of windows) {
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const byArea = new Map<string, number>();
    let total = 0;
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i]!;
      if (t < win.startUs || t >= win.endUs) continue;
      const dt = profile.timeDeltas[i + 1] ?? 0;
      const node = byId.get(profile.samples[i]!)!;
      total += dt;
      const key = label(node);
      self.set(key, (self.get(key) ?? 0) + dt);
      const area = where(node.callFrame.url, root).replace(/^src\/.*/, 'src (own code)').replace(/^node:.*/, 'node internals') || node.callFrame.functionName;
      byArea.set(area, (byArea.get(area) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const n = byId.get(id)!;
        if (!n.callFrame.url.includes('/src/')) continue;
        const k = label(n);
        if (seen.has(k)) continue;
        seen.add(k);
        inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
      }
    }
    if (total === 0) continue;
    const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
    const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
    out.push(`== ${win.name}: ${(total / 1e6).toFixed(1)} s of samples`);
    out.push('  by area:  ' + rank(byArea).slice(0, 8).map(([k, v]) => `${k} ${pct(v).trim()}`).join(', '));
    out.push('  self time:');
    for (const [k, v] of rank(self)) out.push(`    ${pct(v)}  ${k}`);
    out.push('  inclusive, project code:');
    for (const [k, v] of rank(inclusive)) out.push(`    ${pct(v)}  ${k}`);
  }
  return out.join('\n');
}

/** Deterministic xorshift32, so runs are comparable. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Runs `cleanup` and exits 130 on Ctrl-C or SIGTERM; returns the function that stops listening. */
export function cleanupOnSignal(cleanup: () => void): () => void {
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Runs a bench's main: its result is the exit code; an error is printed and exits 1. */
export function runBench(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`${name} failed:`, error);
      process.exitCode = 1;
    },
  );
}
