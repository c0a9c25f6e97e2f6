import { describe, expect, it } from 'vitest';
import type { PlanRun } from '../../../contract/plans.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import { nextDueAt, planState, planStatus } from '../../../core/scheduler/plan-timing.js';
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

  it('a failure says what comes next: a retry for a plan that runs by itself, none for a manual or paused one', () => {
    const { plan, files } = setup();
    const body = (p: typeof plan) =>
      recordRun(files, p, { run: run('failed', T), storeMissing: false }, T).notification?.body;
    expect(body(plan)).toBe('boom. Cairn tries again later.');
    const manual = { ...plan, id: 'manual', schedule: { kind: 'manual' as const } };
    expect(body(manual)).toBe('boom. It runs again when you start it.');
    expect(nextDueAt(manual, files.runtime.get('manual'), T + 3_600_000)).toBeUndefined();
    const paused = { ...plan, id: 'paused', paused: true };
    expect(body(paused)).toBe('boom. The plan is paused: it runs again when you resume it or back it up by hand.');
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
    // The plan's first run starts its maintenance clock, and later runs leave it there.
    expect(first.runtime).toMatchObject({ failures: 1, lastSlot: T, notified: 'failing', maintenanceFrom: T });
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
    expect(ok.runtime.maintenanceFrom).toBe(T);
    expect(ok.runtime.retryAt).toBeUndefined();
    expect(files.runtime.get(plan.id)).toEqual(ok.runtime);
    expect(files.history.runs(plan.id).map((r) => r.status)).toEqual(['succeeded', 'failed', 'failed']);
  });

  it('a run that left entries out is told once and makes the plan "incomplete"; a whole run after it is a recovery', () => {
    const { plan, files } = setup();
    const leftOut = (at: number): PlanRun => ({
      ...run('succeeded', at),
      leftOut: 2,
      leftOutNamed: [{ path: 'docs/locked.txt', reason: 'permission denied' }],
    });
    const first = recordRun(files, plan, { run: leftOut(T), storeMissing: false }, T);
    expect(first.notification).toMatchObject({ kind: 'incomplete', title: 'Backup "Docs" left files out' });
    expect(first.notification?.body).toBe(
      'Could not read 2 entries (docs/locked.txt: permission denied, …); the snapshot holds everything else.',
    );
    // A success all the same: no retry, no failure count.
    expect(first.runtime).toMatchObject({ failures: 0, lastSuccessAt: T + 1000, notified: 'ok', leftOutTold: true });
    expect(first.runtime.retryAt).toBeUndefined();
    const runs = () => files.history.runs(plan.id);
    expect(planState(plan, first.runtime, runs(), T + 2000, false)).toBe('incomplete');
    expect(runs()[0]).toMatchObject({ leftOut: 2, leftOutNamed: [{ path: 'docs/locked.txt' }] });
    expect(planStatus(plan, first.runtime, runs(), T + 2000, false).leftOut).toEqual({
      count: 2,
      named: [{ path: 'docs/locked.txt', reason: 'permission denied' }],
    });

    // A cancelled run changes nothing the snapshots hold: still incomplete, with the same entries.
    const cancelled = recordRun(files, plan, { run: run('cancelled', T + 3000), storeMissing: false }, T + 3000);
    expect(cancelled.notification).toBeUndefined();
    expect(planStatus(plan, cancelled.runtime, runs(), T + 4500, false)).toMatchObject({
      state: 'incomplete',
      leftOut: { count: 2 },
    });

    const again = recordRun(files, plan, { run: leftOut(T + 5000), storeMissing: false }, T + 5000);
    expect(again.notification).toBeUndefined();
    const whole = recordRun(files, plan, { run: run('succeeded', T + 9000), storeMissing: false }, T + 9000);
    expect(whole.notification).toMatchObject({ kind: 'recovered', title: 'Backup "Docs" is complete again' });
    expect(whole.runtime.notified).toBe('ok');
    expect(whole.runtime.leftOutTold).toBeUndefined();
    expect(planState(plan, whole.runtime, runs(), T + 11_000, false)).toBe('ok');
    // The state file keeps only values an older version reads.
    expect(JSON.stringify(files.runtime.all())).not.toContain('incomplete');
  });

  it('a failed run after an incomplete one is failing, not incomplete', () => {
    const { plan, files } = setup();
    recordRun(files, plan, { run: { ...run('succeeded', T), leftOut: 1 }, storeMissing: false }, T);
    const failed = recordRun(files, plan, { run: run('failed', T + 5000), storeMissing: false }, T + 5000);
    expect(failed.notification?.kind).toBe('failed');
    expect(planState(plan, failed.runtime, files.history.runs(plan.id), T + 7000, false)).toBe('failing');
    // Incomplete again after the failure: told, since it is also the news that backups run again.
    const again = recordRun(
      files,
      plan,
      { run: { ...run('succeeded', T + 9000), leftOut: 1 }, storeMissing: false },
      T + 9000,
    );
    expect(again.notification?.kind).toBe('incomplete');
    expect(again.runtime.notified).toBe('ok');
  });
});
