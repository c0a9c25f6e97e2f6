import { parentPort, workerData } from 'node:worker_threads';
import { toAppError } from './app-errors.js';
import { runJob } from './job-runners.js';
import { JobFailedAfterWork } from './job-outcome.js';
import { useExitedThreadTable } from '../core/locks/lock-owner.js';
import type { EngineToWorker, JobWorkerData, WorkerToEngine } from './job-messages.js';
import { CryptConfig } from '../core/blob/crypt-config.js';

/** One job on its own thread: the host's event loop only relays messages. */
const port = parentPort;
if (!port) throw new Error('job-worker.js must run as a worker thread');
const controller = new AbortController();
const post = (message: WorkerToEngine): void => port.postMessage(message);

port.on('message', (message: EngineToWorker) => {
  if (message.type === 'cancel') controller.abort();
});

const { spec, exitedThreads, keys, remote } = workerData as JobWorkerData;
useExitedThreadTable(exitedThreads);

runJob(spec, {
  signal: controller.signal,
  keys: (keys ?? []).map((raw) => new CryptConfig(raw)),
  remote,
  onProgress: (progress) => post({ type: 'progress', progress }),
  log: {
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
  },
})
  .then(
    (outcome) => post({ type: 'done', ...outcome }),
    (err: unknown) =>
      post(
        err instanceof JobFailedAfterWork
          ? { type: 'failed', error: toAppError(err.error), ...(err.done ? { done: err.done } : {}) }
          : { type: 'failed', error: toAppError(err) },
      ),
  )
  .finally(() => port.close());
