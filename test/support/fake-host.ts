import { vi } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { HostEventName, HostEvents } from '../../contract/events.js';
import type { JobState } from '../../contract/jobs.js';

type Listener = <K extends HostEventName>(event: K, payload: HostEvents[K]) => void;

/**
 * The parts of HostService the Electron main modules use (events, the action entry point, the job engine's
 * list and count, the scheduler's wake), with answers a test sets and every call recorded.
 */
export class FakeHost {
  private readonly listeners = new Set<Listener>();
  readonly answers: Record<string, (req: unknown) => Result<unknown>> = {};
  jobs: JobState[] = [];
  readonly wakeScheduler = vi.fn();
  readonly handle = vi.fn(async (action: string, req: unknown): Promise<Result<unknown>> => {
    const answer = this.answers[action];
    return answer ? answer(req) : { ok: false, error: { code: 'NOT_AVAILABLE', message: `no answer for ${action}` } };
  });
  readonly engine: { list(): JobState[]; readonly runningCount: number };

  constructor() {
    const jobs = () => this.jobs;
    this.engine = {
      list: jobs,
      get runningCount() {
        return jobs().filter((j) => j.status === 'running').length;
      },
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<K extends HostEventName>(event: K, payload: HostEvents[K]): void {
    for (const listener of this.listeners) listener(event, payload);
  }
}

/** A job in the state a test needs. */
export function job(fields: Partial<JobState> = {}): JobState {
  return {
    id: fields.id ?? 'job-1',
    kind: 'plan-run',
    title: 'Plan “Documents”: backup of /home/ann/Documents',
    store: '/mnt/store',
    status: 'running',
    startedAt: 0,
    progress: { phase: 'files', bytesDone: 42, bytesTotal: 100 },
    log: [],
    ...fields,
  };
}
