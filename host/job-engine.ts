import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { HostEvents } from '../contract/events.js';
import { describeJobResult } from '../contract/job-summary.js';
import type { JobSpec, JobState } from '../contract/jobs.js';
import { AppError } from './app-errors.js';
import { exitedThreadTable } from '../core/locks/lock-owner.js';
import type { JobWorkerData } from './job-messages.js';
import { workerScriptUrl } from '../core/jobs/worker-url.js';
import type { RemoteAccess } from './host-remotes.js';
import { addLog, RunningJob, snapshot, type JobListener } from './running-job.js';

export type EmitEvent = <K extends keyof HostEvents>(event: K, payload: HostEvents[K]) => void;

export interface JobEngineOptions {
  /** About 10 progress events a second per job. */
  progressIntervalMs?: number;
  /** Finished jobs kept for the tasks panel. */
  keepFinished?: number;
  workerUrl?: URL;
  /** Where finished jobs are kept across restarts (JobHistory). */
  history?: { load(): JobState[]; save(finished: readonly JobState[]): void; flush(): void };
}

/** A job thread's young generation (3 semi-spaces' worth in V8's terms: 1 MiB each). */
const JOB_YOUNG_GENERATION_MB = 3;

/**
 * Runs jobs on worker threads, keeps their state and logs, and pushes throttled progress and a final state.
 * The host's own thread never does a job's work, so it stays free to answer the UI.
 */
export class JobEngine {
  private readonly running = new Map<string, RunningJob>();
  /** Worker threads not yet exited, finished jobs' too: quitting waits for them (see cancelAll). */
  private readonly exits = new Set<Promise<void>>();
  private readonly finished: JobState[] = [];
  private readonly progressIntervalMs: number;
  private readonly keepFinished: number;
  /** How each running job reaches the engine: its progress is announced, its end recorded. */
  private readonly listener: JobListener = {
    progress: (state) => this.emit('job.progress', snapshot(state)),
    ended: (state) => {
      this.running.delete(state.id);
      return this.addFinished(state);
    },
  };

  constructor(
    private readonly emit: EmitEvent,
    private readonly options: JobEngineOptions = {},
  ) {
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
    this.keepFinished = options.keepFinished ?? 200;
    this.finished.push(...(options.history?.load() ?? []).slice(0, this.keepFinished));
  }

  /**
   * `keys`: raw key bytes for the job's thread (never part of its state, its events or the history), wiped here
   * once the thread has its copy. `remote`: the remote the job uses and its credentials, kept apart the same way.
   */
  start(spec: JobSpec, title: string, store: string, keys?: Uint8Array[], remote?: RemoteAccess): JobState {
    const state: JobState = {
      id: randomUUID(),
      kind: spec.kind,
      title,
      store,
      status: 'running',
      startedAt: Date.now(),
      progress: { phase: 'starting' },
      log: [],
    };
    const workerData: JobWorkerData = {
      spec,
      exitedThreads: exitedThreadTable(),
      ...(keys ? { keys } : {}),
      ...(remote ? { remote } : {}),
    };
    const worker = new Worker(this.options.workerUrl ?? workerScriptUrl(import.meta.url, './job-worker.js'), {
      workerData,
      name: 'cairn-job',
      // Folder backups with 1 MiB semi-spaces: a scan's short-lived objects in a large young generation raise
      // the peak memory by a fifth or more (core/jobs/heap-flags.ts, which does the same for the CLI).
      ...(spec.kind === 'backup' || spec.kind === 'plan-run'
        ? { resourceLimits: { maxYoungGenerationSizeMb: JOB_YOUNG_GENERATION_MB } }
        : {}),
    });
    // The thread has its own copy now: this one is wiped rather than left to the garbage collector.
    for (const key of keys ?? []) key.fill(0);
    const job = new RunningJob(state, worker, this.listener, this.progressIntervalMs);
    this.running.set(state.id, job);
    this.exits.add(job.exited);
    void job.exited.then(() => this.exits.delete(job.exited));
    this.emit('job.progress', snapshot(state));
    return snapshot(state);
  }

  /**
   * Adds work done outside a worker (a browser download the web server streamed) to the finished jobs, so the
   * tasks panel shows how it ended, a failure with its reason.
   */
  recordFinished(done: Omit<JobState, 'id' | 'log' | 'progress'> & { progress?: JobState['progress'] }): JobState {
    const state: JobState = { id: randomUUID(), progress: { phase: done.status }, log: [], ...done };
    if (state.error) addLog(state, 'error', state.error.message);
    else if (state.result) addLog(state, 'info', describeJobResult(state.result));
    return this.addFinished(state);
  }

  /** A job that ended joins the finished ones (kept across restarts) and is announced; returns its copy. */
  private addFinished(state: JobState): JobState {
    this.finished.unshift(state);
    this.finished.splice(this.keepFinished);
    this.options.history?.save(this.finished);
    this.emit('job.done', snapshot(state));
    return snapshot(state);
  }

  /** Forgets the finished jobs ("Clear finished" in the tasks panel), here and in the kept history. */
  clearFinished(): void {
    this.finished.length = 0;
    this.options.history?.save(this.finished);
  }

  cancel(jobId: string): JobState {
    const job = this.running.get(jobId);
    if (!job) {
      const past = this.finished.find((j) => j.id === jobId);
      if (past) return snapshot(past);
      throw new AppError('NOT_FOUND', `no job ${jobId}`);
    }
    job.cancel();
    return snapshot(job.state);
  }

  list(): JobState[] {
    return [...[...this.running.values()].map((j) => snapshot(j.state)), ...this.finished.map(snapshot)];
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Resolves with the job's final state. */
  whenDone(jobId: string): Promise<JobState> {
    const job = this.running.get(jobId);
    if (job) return job.done;
    const past = this.finished.find((j) => j.id === jobId);
    if (past) return Promise.resolve(snapshot(past));
    return Promise.reject(new AppError('NOT_FOUND', `no job ${jobId}`));
  }

  /** Cancels every running job and waits until each has cleaned up (quitting the app). */
  async cancelAll(): Promise<JobState[]> {
    const jobs = [...this.running.values()];
    for (const job of jobs) this.cancel(job.state.id);
    const states = await Promise.all(jobs.map((j) => j.done));
    // A job reports its end before its thread (and the chunk writer threads inside it) has exited; a process
    // that exits while threads still wind down can crash, so quitting waits for them too.
    await Promise.all([...this.exits]);
    this.options.history?.flush();
    return states;
  }
}
