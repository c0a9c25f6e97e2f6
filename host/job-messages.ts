import type { AppErrorInfo } from '../contract/errors.js';
import type { JobProgress } from '../contract/jobs.js';

/** Messages between the job engine and a job's worker thread. */
export type WorkerToEngine =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | { type: 'done'; summary: string; result: Record<string, string | number | boolean | undefined> }
  | { type: 'failed'; error: AppErrorInfo };

export type EngineToWorker = { type: 'cancel' };
