import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { JobState, StartableJobSpec } from '../../../../contract/jobs.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The tasks panel's jobs, as the host's events tell them, and the error of a job that could not start. */
export interface JobsSlice {
  jobs: Record<string, JobState>;
  /** Job ids, newest first. */
  jobOrder: string[];
  jobError?: AppErrorInfo;
  /** How many times this window asked for work (a job, a plan's "Back up now"): the tasks panel opens for each. */
  tasksAsked: number;
  startJob(spec: StartableJobSpec): Promise<JobState | undefined>;
  cancelJob(jobId: string): Promise<void>;
  applyJob(job: JobState): void;
  /** Forgets the finished jobs, in the panel and in the host's kept history. */
  clearFinishedJobs(): Promise<void>;
  clearJobError(): void;
}

export const createJobsSlice: SliceCreator<JobsSlice> = (set, get, client) => ({
  jobs: {},
  jobOrder: [],
  tasksAsked: 0,

  async startJob(spec) {
    set({ jobError: undefined });
    try {
      const job = await client.startJob(spec);
      get().applyJob(job);
      set({ tasksAsked: get().tasksAsked + 1 });
      return job;
    } catch (err) {
      // Shown where the job was asked for (a dialog); a store gone from under the view is its state too.
      const info = errorInfo(err);
      const gone =
        info.code === 'STORE_MISSING' &&
        spec.kind !== 'create-store' &&
        'store' in spec &&
        spec.store === get().store?.path;
      set({ jobError: info, ...(gone ? { storeMissing: info } : {}) });
      return undefined;
    }
  },

  async cancelJob(jobId) {
    try {
      get().applyJob(await client.cancelJob({ jobId }));
    } catch (err) {
      set({ jobError: errorInfo(err) });
    }
  },

  applyJob(job) {
    const { jobs, jobOrder } = get();
    const known = jobs[job.id];
    // Events may arrive out of order with a start's answer: a finished state is never replaced by a running one.
    if (known && known.status !== 'running' && job.status === 'running') return;
    set({ jobs: { ...jobs, [job.id]: job }, jobOrder: known ? jobOrder : [job.id, ...jobOrder] });
    if (job.kind === 'create-store' && job.status === 'done' && known?.status === 'running')
      void get().openStore(job.store);
  },

  async clearFinishedJobs() {
    try {
      const left = await client.clearFinishedJobs({});
      set({ jobs: Object.fromEntries(left.map((j) => [j.id, j])), jobOrder: left.map((j) => j.id) });
    } catch (err) {
      set({ jobError: errorInfo(err) });
    }
  },

  clearJobError() {
    set({ jobError: undefined });
  },
});
