import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan, RunTrigger } from '../../../contract/plans.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import type { PlanRunOutcome } from '../../../core/plans/plan-run.js';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import { MAX_SLEEP_MS, Scheduler, type SchedulerClock } from '../../../core/scheduler/scheduler.js';
import { useTempDirs } from '../../support/temp.js';

const T = Date.UTC(2026, 10, 24, 10, 0, 0);

/** A clock the test moves: timers are recorded with the delay asked for, and run only when the test says. */
class FakeClock implements SchedulerClock {
  time = T;
  timers: { run: () => void; ms: number; cleared: boolean }[] = [];
  now = (): number => this.time;
  setTimeout = (run: () => void, ms: number): unknown => {
    const timer = { run, ms, cleared: false };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (handle: unknown): void => {
    if (handle) (handle as { cleared: boolean }).cleared = true;
  };
  pending(): { ms: number }[] {
    return this.timers.filter((t) => !t.cleared);
  }
}

interface Harness {
  scheduler: Scheduler;
  clock: FakeClock;
  plan: Plan;
  dir: string;
  warnings: string[];
  runs: { trigger: RunTrigger; finish: () => void }[];
}

describe('Scheduler', () => {
  const temp = useTempDirs();

  /** One interval plan that is due now; its runs wait until the test finishes them. */
  function harness(): Harness {
    const dir = temp('scheduler');
    const book = new PlanBook(dir);
    const plan = book.add(
      {
        name: 'Docs',
        store: '/store',
        sources: [{ kind: 'folder', path: '/src' }],
        schedule: { kind: 'interval', every: 1, unit: 'hours' },
      },
      T - 2 * 3_600_000,
    );
    const clock = new FakeClock();
    const warnings: string[] = [];
    const runs: Harness['runs'] = [];
    const scheduler = new Scheduler({
      book,
      runtime: new PlanRuntimeFile(dir),
      history: new RunHistory(dir),
      clock,
      storePresent: () => true,
      log: { info: () => {}, warn: (m) => warnings.push(m) },
      runPlan: (_plan, trigger) =>
        new Promise<PlanRunOutcome>((resolve) => {
          const startedAt = clock.now();
          runs.push({
            trigger,
            finish: () =>
              resolve({ run: { startedAt, endedAt: clock.now(), trigger, status: 'succeeded' }, storeMissing: false }),
          });
        }),
    });
    return { scheduler, clock, plan, dir, warnings, runs };
  }

  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('sleeps while a due plan runs instead of waking every second until it ends', async () => {
    const h = harness();
    h.scheduler.start();
    expect(h.runs).toHaveLength(1);
    expect(h.clock.pending().map((t) => t.ms)).toEqual([MAX_SLEEP_MS]);
    // A wake during the run (an edit of the plans) neither queues it again nor shortens the sleep.
    h.scheduler.wake();
    expect(h.runs).toHaveLength(1);
    expect(h.clock.pending().map((t) => t.ms)).toEqual([MAX_SLEEP_MS]);
    h.clock.time += 5_000;
    h.runs[0]!.finish();
    await settle();
    // The run's end wakes it: the next slot is an hour after the run's start, further than its longest sleep.
    expect(h.clock.pending().map((t) => t.ms)).toEqual([MAX_SLEEP_MS]);
    expect(h.scheduler.status()[0]).toMatchObject({ state: 'ok', nextRunAt: T + 3_600_000 });
    await h.scheduler.stop();
  });

  it('a run whose recording fails is a warning, not the end of the process, and the scheduler goes on', async () => {
    const h = harness();
    writeFileSync(join(h.dir, 'history'), 'a file where the history folder belongs');
    h.scheduler.start();
    h.runs[0]!.finish();
    await settle();
    expect(h.warnings.join('\n')).toMatch(/cannot record the run of plan "Docs": .*history/);
    // The state was written before the history: the plan is not due again at once.
    expect(new PlanRuntimeFile(h.dir).get(h.plan.id).lastSuccessAt).toBe(T);
    expect(h.runs).toHaveLength(1);
    expect(h.scheduler.status()[0]?.state).toBe('ok');
    await h.scheduler.stop();
  });

  it('runDue runs what is due, one run after another, and returns', async () => {
    const h = harness();
    const done = h.scheduler.runDue();
    await settle();
    expect(h.runs.map((r) => r.trigger)).toEqual(['schedule']);
    h.runs[0]!.finish();
    await done;
    expect(new RunHistory(h.dir).runs(h.plan.id)).toHaveLength(1);
    expect(h.clock.pending()).toEqual([]);
  });
});
