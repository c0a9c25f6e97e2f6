import type { AppErrorInfo } from '../contract/errors.js';
import type { JobProgress, JobSpec } from '../contract/jobs.js';
import type { JobOutcome } from './job-outcome.js';
import type { RemoteAccess } from './host-remotes.js';

/** What a job's worker thread starts with. */
export interface JobWorkerData {
  spec: JobSpec;
  /** The process's table of exited threads, so locks a failed job left on disk are known as leftovers. */
  exitedThreads: SharedArrayBuffer;
  /**
   * The raw bytes of the keys the job may use (the backup's key; the unlocked ones for reading), copied to the
   * thread inside this process. Kept apart from the spec, which the job's state and history never hold either.
   */
  keys?: Uint8Array[];
  /** The remote a push, pull or remote restore (or a plan's off-site copy) uses, with its credentials; apart too. */
  remote?: RemoteAccess;
}

/** Messages between the job engine and a job's worker thread. */
export type WorkerToEngine =
  | { type: 'progress'; progress: JobProgress }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | ({ type: 'done' } & JobOutcome)
  /** `done`: what stood before the failure (JobFailedAfterWork), kept on the job's card. */
  | { type: 'failed'; error: AppErrorInfo; done?: JobOutcome };

export type EngineToWorker = { type: 'cancel' };
