import { describe, expect, it } from 'vitest';
import type { PlanRun } from '../../../contract/plans.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import { recordRun } from '../../../core/scheduler/record-run.js';
import { useTempDirs } from '../../support/temp.js';

const T = Date.UTC(2026, 10, 24, 10, 0, 0);

describe('recordRun: what the scheduler and cairn plan run write when a run ends', () => {
  const temp = useTempDirs();

  function setup() {
    const dir = temp('record');
    const book = new PlanBook(dir);
    const plan = book.add({ name: 'Docs', store: '/store', sources: [{ kind: 'folder', path: '/src' }] }, T);
    return { plan, files: { runtime: new PlanRuntimeFile(dir), history: new RunHistory(dir) } };
  }
  const run = (status: PlanRun['status'], at: number): PlanRun => ({
    startedAt: at,
    endedAt: at + 1000,
    trigger: 'schedule',
    status,
    ...(status === 'failed' ? { error: 'boom' } : { snapshot: 'host/Docs/2026-11-24T10:00:00Z' }),
  });

  it('a missing store is a wait for it: no history entry, no failure', () => {
    const { plan, files } = setup();
    const recorded = recordRun(files, plan, { run: run('failed', T), storeMissing: true }, T);
    expect(recorded).toEqual({ runtime: { failures: 0, waiting: 'store' } });
    expect(files.history.runs(plan.id)).toEqual([]);
  });

  it('a failure is told once, counted and retried; the success after it is told as a recovery', () => {
    const { plan, files } = setup();
    const first = recordRun(files, plan, { run: run('failed', T), storeMissing: false }, T);
    expect(first.notification?.kind).toBe('failed');
    expect(first.runtime).toMatchObject({ failures: 1, lastSlot: T, notified: 'failing' });
    expect(first.runtime.retryAt).toBeGreaterThan(T);
    const second = recordRun(files, plan, { run: run('failed', T + 5000), storeMissing: false }, T + 5000);
    expect(second.notification).toBeUndefined();
    expect(second.runtime.failures).toBe(2);
    const ok = recordRun(
      files,
      plan,
      { run: run('succeeded', T + 9000), storeMissing: false, gcAt: T + 9500 },
      T + 9000,
    );
    expect(ok.notification?.kind).toBe('recovered');
    expect(ok.runtime).toMatchObject({ failures: 0, lastSuccessAt: T + 10_000, lastGcAt: T + 9500, notified: 'ok' });
    expect(ok.runtime.retryAt).toBeUndefined();
    expect(files.runtime.get(plan.id)).toEqual(ok.runtime);
    expect(files.history.runs(plan.id).map((r) => r.status)).toEqual(['succeeded', 'failed', 'failed']);
  });
});
