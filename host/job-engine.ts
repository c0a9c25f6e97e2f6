import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { HostEvents } from '../contract/events.js';
import { describeJobResult } from '../contract/job-summary.js';
import type { JobLogLine, JobSpec, JobState } from '../contract/jobs.js';
import { AppError } from './app-errors.js';
import { exitedThreadTable, markThreadExited } from '../core/locks/lock-owner.js';
import type { EngineToWorker, JobWorkerData, WorkerToEngine } from './job-messages.js';
import { ProgressThrottle } from '../core/jobs/progress-throttle.js';
import { workerScriptUrl } from '../core/jobs/worker-url.js';
import type { RemoteAccess } from './host-remotes.js';

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

const MAX_LOG_LINES = 1000;
/** A job thread's young generation (3 semi-spaces' worth in V8's terms: 1 MiB each). */
const JOB_YOUNG_GENERATION_MB = 3;

interface RunningJob {
  state: JobState;
  worker: Worker;
  throttle: ProgressThrottle<JobState>;
  done: Promise<JobState>;
}

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
    const thread = worker.threadId;
    const throttle = new ProgressThrottle<JobState>(
      (s) => this.emit('job.progress', snapshot(s)),
      this.progressIntervalMs,
      { trailing: true },
    );
    let settle!: (s: JobState) => void;
    const done = new Promise<JobState>((resolve) => {
      settle = resolve;
    });
    const job: RunningJob = { state, worker, throttle, done };
    this.running.set(state.id, job);

    const finish = (update: Partial<JobState>): void => {
      // The job's work is over (its runner released what it took, or failed to because its store vanished):
      // locks it left on disk are leftovers from now on, before anyone hears that it ended.
      markThreadExited(thread);
      if (state.status !== 'running') return;
      Object.assign(state, update, { endedAt: Date.now() });
      throttle.cancel();
      this.running.delete(state.id);
      settle(this.addFinished(state));
    };
    worker.on('message', (message: WorkerToEngine) => {
      switch (message.type) {
        case 'progress':
          state.progress = message.progress;
          throttle.push(state);
          return;
        case 'log':
          addLog(state, message.level, message.message);
          return;
        case 'done': {
          const attention = (message.problemCount ?? 0) > 0;
          // The log ends with how the job ended, in the words its card shows.
          addLog(state, attention ? 'warn' : 'info', describeJobResult(message.result));
          finish({
            status: attention ? 'attention' : 'done',
            result: message.result,
            ...(attention
              ? { problems: message.problems, problemCount: message.problemCount, advice: message.advice }
              : {}),
          });
          return;
        }
        case 'failed': {
          const cancelled = message.error.code === 'CANCELLED';
          addLog(state, cancelled ? 'info' : 'error', message.error.message);
          finish(cancelled ? { status: 'cancelled' } : { status: 'failed', error: message.error });
        }
      }
    });
    worker.on('error', (err) => {
      addLog(state, 'error', err.message);
      finish({ status: 'failed', error: { code: 'INTERNAL', message: err.message } });
    });
    const exited = new Promise<void>((resolve) => {
      worker.on('exit', (code) => {
        finish({
          status: 'failed',
          error: { code: 'INTERNAL', message: `the job stopped unexpectedly (worker exit code ${code})` },
        });
        resolve();
      });
    });
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
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
    addLog(job.state, 'info', 'cancel requested');
    job.worker.postMessage({ type: 'cancel' } satisfies EngineToWorker);
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

function addLog(state: JobState, level: JobLogLine['level'], message: string): void {
  state.log.push({ time: Date.now(), level, message });
  if (state.log.length > MAX_LOG_LINES) state.log.splice(0, state.log.length - MAX_LOG_LINES);
}

/** A copy safe to hand out: later changes to the live state must not show through. */
function snapshot(state: JobState): JobState {
  return {
    ...state,
    progress: { ...state.progress },
    log: [...state.log],
    result: state.result && { ...state.result },
  };
}
