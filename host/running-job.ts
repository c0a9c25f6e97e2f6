import type { Worker } from 'node:worker_threads';
import { describeJobResult } from '../contract/job-summary.js';
import type { JobLogLine, JobState } from '../contract/jobs.js';
import { markThreadExited } from '../core/locks/lock-owner.js';
import { ProgressThrottle } from '../core/jobs/progress-throttle.js';
import type { EngineToWorker, WorkerToEngine } from './job-messages.js';

const MAX_LOG_LINES = 1000;

/** What a running job tells the engine that runs it. */
export interface JobListener {
  /** Its progress, at most every progress interval (and once more at the end of a burst). */
  progress(state: JobState): void;
  /** It ended (its state is final): returns the copy that `done` resolves with. */
  ended(state: JobState): JobState;
}

/**
 * One job on its worker thread: its live state and log, its throttled progress, and how it ended. It ends once,
 * by the first of the thread's last message, an error on the thread, or the thread's exit.
 */
export class RunningJob {
  /** Resolves with the job's final state. */
  readonly done: Promise<JobState>;
  /** Resolves when the thread has exited (a job reports its end before that). */
  readonly exited: Promise<void>;
  private settle!: (state: JobState) => void;
  private readonly throttle: ProgressThrottle<JobState>;
  private readonly thread: number;

  constructor(
    readonly state: JobState,
    private readonly worker: Worker,
    private readonly listener: JobListener,
    progressIntervalMs: number,
  ) {
    this.thread = worker.threadId;
    this.throttle = new ProgressThrottle<JobState>((s) => listener.progress(s), progressIntervalMs, {
      trailing: true,
    });
    this.done = new Promise<JobState>((resolve) => {
      this.settle = resolve;
    });
    worker.on('message', (message: WorkerToEngine) => this.onMessage(message));
    worker.on('error', (err) => this.onError(err));
    this.exited = new Promise<void>((resolve) => {
      worker.on('exit', (code) => {
        this.onExit(code);
        resolve();
      });
    });
  }

  cancel(): void {
    addLog(this.state, 'info', 'cancel requested');
    this.worker.postMessage({ type: 'cancel' } satisfies EngineToWorker);
  }

  private onMessage(message: WorkerToEngine): void {
    switch (message.type) {
      case 'progress':
        this.state.progress = message.progress;
        this.throttle.push(this.state);
        return;
      case 'log':
        addLog(this.state, message.level, message.message);
        return;
      case 'done':
        this.onDone(message);
        return;
      case 'failed': {
        const cancelled = message.error.code === 'CANCELLED';
        addLog(this.state, cancelled ? 'info' : 'error', message.error.message);
        this.finish(cancelled ? { status: 'cancelled' } : { status: 'failed', error: message.error, ...message.done });
      }
    }
  }

  private onDone(message: Extract<WorkerToEngine, { type: 'done' }>): void {
    const attention = (message.problemCount ?? 0) > 0;
    // The log ends with how the job ended, in the words its card shows.
    addLog(this.state, attention ? 'warn' : 'info', describeJobResult(message.result));
    this.finish({
      status: attention ? 'attention' : 'done',
      result: message.result,
      ...(attention ? { problems: message.problems, problemCount: message.problemCount, advice: message.advice } : {}),
    });
  }

  private onError(err: Error): void {
    addLog(this.state, 'error', err.message);
    this.finish({ status: 'failed', error: { code: 'INTERNAL', message: err.message } });
  }

  private onExit(code: number): void {
    this.finish({
      status: 'failed',
      error: { code: 'INTERNAL', message: `the job stopped unexpectedly (worker exit code ${code})` },
    });
  }

  private finish(update: Partial<JobState>): void {
    // The job's work is over (its runner released what it took, or failed to because its store vanished):
    // locks it left on disk are leftovers from now on, before anyone hears that it ended.
    markThreadExited(this.thread);
    if (this.state.status !== 'running') return;
    Object.assign(this.state, update, { endedAt: Date.now() });
    this.throttle.cancel();
    this.settle(this.listener.ended(this.state));
  }
}

export function addLog(state: JobState, level: JobLogLine['level'], message: string): void {
  state.log.push({ time: Date.now(), level, message });
  if (state.log.length > MAX_LOG_LINES) state.log.splice(0, state.log.length - MAX_LOG_LINES);
}

/** A copy safe to hand out: later changes to the live state must not show through. */
export function snapshot(state: JobState): JobState {
  return {
    ...state,
    progress: { ...state.progress },
    log: [...state.log],
    result: state.result && { ...state.result },
  };
}
