// Starting a database thread from a module of ours (the ingest writer, the SCIM reader), and
// stopping one (those and the checkpointer) without losing its last work.
import { Worker } from 'node:worker_threads';

/** Loads the thread's TypeScript through tsx when the app runs from the sources (the tests; npm start runs dist). */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) {
    const api = await import(workerData.tsx);
    (api.register ?? api.default.register)();
  }
  await import(workerData.entry);
})().catch((error) => {
  setImmediate(() => { throw error; });
});
`;

/**
 * The server's profiling options (bench --cpu-prof profiles the threads too). Nothing else: a
 * Worker refuses per-process options, and V8 flags (--max-semi-space-size…) apply to every isolate
 * anyway; the thread loads tsx itself when it needs it.
 */
function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => /^--(cpu-prof|heap-prof|enable-source-maps)/.test(arg));
}

/**
 * Starts the module `name` (no extension) next to `callerUrl` (the caller's import.meta.url) on a
 * thread of its own, with `data` (plus the module's location) as its workerData.
 */
export function startModuleThread(callerUrl: string, name: string, data: Record<string, unknown>): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl).href;
  return new Worker(BOOT, {
    eval: true,
    workerData: { ...data, entry, tsx: fromSource ? import.meta.resolve('tsx/esm/api') : null },
    execArgv: workerExecArgv(),
  });
}

/**
 * Posts `message` (the thread's "finish and close"), keeps the process alive while the thread
 * finishes, and waits for it to exit, at most `timeoutMs`; then it is terminated.
 */
export async function stopThread(worker: Worker, exited: Promise<void>, message: unknown, timeoutMs: number): Promise<void> {
  worker.ref();
  worker.postMessage(message);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  await worker.terminate();
}
