import type { JobAdvice, JobProblem, JobResult } from '../contract/jobs.js';

/** How a job that ran to its end ended: its result, and what the user must act on. */
export interface JobOutcome {
  result: JobResult;
  /** What the user must act on: the job is then shown as needing attention, not as done. */
  problems?: JobProblem[];
  problemCount?: number;
  advice?: JobAdvice;
}

/**
 * A job that failed after part of its work stood (a plan's run whose backup was made before its off-site copy
 * failed): the job fails with `error`, and keeps `done`, so its card and the plan's history say what was made.
 */
export class JobFailedAfterWork extends Error {
  constructor(
    readonly error: Error,
    readonly done: JobOutcome | undefined,
  ) {
    super(error.message);
    this.name = 'JobFailedAfterWork';
  }
}
