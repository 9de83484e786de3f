// Stopping a database thread (the checkpointer, the ingest writer) without losing its last work.
import type { Worker } from 'node:worker_threads';

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
