// The scheduler against a fake clock, with real plan, state and history files; runs are simulated.
process.env.TZ = 'Europe/Berlin';
import { existsSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, PlanInput, RunTrigger } from '../../../contract/plans.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import type { PlanRunOutcome } from '../../../core/plans/plan-run.js';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { PlansPause } from '../../../core/plans/plans-pause.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import type { PlanNotification } from '../../../core/scheduler/notifications.js';
import { MAX_SLEEP_MS, Scheduler, STORE_POLL_MS } from '../../../core/scheduler/scheduler.js';
import { useTempDirs } from '../../support/temp.js';
import { FakeClock } from './fake-clock.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const local = (s: string) => new Date(s).getTime();

interface Call {
  plan: string;
  trigger: RunTrigger;
  at: number;
}

/** A scheduler over real files in a temp folder, whose runs take `runMs` of fake time and end as `result` says. */
class Harness {
  readonly book: PlanBook;
  readonly runtime: PlanRuntimeFile;
  readonly history: RunHistory;
  readonly pause: PlansPause;
  readonly calls: Call[] = [];
  changes = 0;
  readonly notifications: PlanNotification[] = [];
  result: 'succeeded' | 'failed' | 'store-missing' = 'succeeded';
  runMs = MINUTE;
  verify: 'ok' | 'damaged' | undefined;
  storePresent = true;
  onBattery = false;
  concurrent = 0;
  maxConcurrent = 0;
  readonly scheduler: Scheduler;

  constructor(
    dir: string,
    readonly clock: FakeClock,
  ) {
    this.book = new PlanBook(dir);
    this.runtime = new PlanRuntimeFile(dir);
    this.history = new RunHistory(dir);
    this.pause = new PlansPause(dir);
    this.scheduler = new Scheduler({
      book: this.book,
      runtime: this.runtime,
      history: this.history,
      pause: this.pause,
      onChange: () => this.changes++,
      clock,
      runPlan: (plan, trigger, _runtime, signal) => this.run(plan, trigger, signal),
      storePresent: () => this.storePresent,
      onBattery: () => this.onBattery,
      notify: (n) => this.notifications.push(n),
    });
  }

  addPlan(input: Partial<PlanInput> = {}): Plan {
    return this.book.add(
      { name: 'Docs', sources: [{ kind: 'folder', path: '/home/u/docs' }], store: '/mnt/store', ...input },
      this.clock.now(),
    );
  }

  private async run(plan: Plan, trigger: RunTrigger, signal: AbortSignal): Promise<PlanRunOutcome> {
    const startedAt = this.clock.now();
    this.calls.push({ plan: plan.id, trigger, at: startedAt });
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, this.runMs);
      signal.addEventListener('abort', () => (this.clock.clearTimeout(timer), resolve()), { once: true });
    });
    this.concurrent--;
    const endedAt = this.clock.now();
    if (signal.aborted) return { run: { startedAt, endedAt, trigger, status: 'cancelled' }, storeMissing: false };
    if (this.result === 'store-missing') {
      return { run: { startedAt, endedAt, trigger, status: 'failed', error: 'gone' }, storeMissing: true };
    }
    const status = this.result;
    const extra = status === 'failed' ? { error: 'disk full' } : this.verify ? { verify: this.verify } : {};
    return {
      run: { startedAt, endedAt, trigger, status, ...extra },
      storeMissing: false,
    };
  }
}

describe('scheduler', () => {
  const temp = useTempDirs();
  let harness: Harness | undefined;
  afterEach(async () => harness?.scheduler.stop());

  function start(at: string): Harness {
    harness = new Harness(temp('scheduler'), new FakeClock(local(at)));
    return harness;
  }

  it('runs a daily plan at its time, and after days switched off it runs once, not once per missed day', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.scheduler.start();
    await h.clock.advance(DAY); // to 2 Dec 10:00: the 03:00 run happened
    expect(h.calls.map((c) => new Date(c.at).toString().slice(4, 21))).toEqual(['Dec 02 2026 03:00']);
    await h.scheduler.stop();

    h.clock.jump(local('2026-12-05T12:00')); // off for three days and a bit
    h.scheduler.start();
    await h.clock.advance(MINUTE * 5);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]).toMatchObject({ trigger: 'schedule', at: local('2026-12-05T12:00') });
    await h.clock.advance(DAY);
    expect(h.calls.map((c) => new Date(c.at).toString().slice(4, 21))).toEqual([
      'Dec 02 2026 03:00',
      'Dec 05 2026 12:00',
      'Dec 06 2026 03:00',
    ]);
    expect(h.history.runs(h.book.list()[0]!.id)).toHaveLength(3);
  });

  it('a run that overlaps the next slot is not doubled, and runs never overlap', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 1, unit: 'minutes' } });
    h.addPlan({ name: 'Photos', schedule: { kind: 'interval', every: 1, unit: 'minutes' } });
    h.runMs = 5 * MINUTE;
    h.scheduler.start();
    await h.clock.advance(30 * MINUTE - 1);
    expect(h.maxConcurrent).toBe(1);
    // Back to back, each plan in turn: 30 minutes hold six 5-minute runs, never two of one plan in a row.
    expect(h.calls).toHaveLength(6);
    for (let i = 1; i < h.calls.length; i++) expect(h.calls[i]!.plan).not.toBe(h.calls[i - 1]!.plan);
  });

  it('retries a failed run with growing waits, tells of the failure once and of the recovery once', async () => {
    const h = start('2026-12-01T10:00');
    const plan = h.addPlan({ schedule: { kind: 'daily', at: '10:01' } });
    h.result = 'failed';
    h.runMs = 1_000;
    h.scheduler.start();
    await h.clock.advance(HOUR);
    const starts = h.calls.map((c) => c.at - h.calls[0]!.at);
    // 2, 4, 8, 16 minutes (plus the second each run takes) between attempts.
    expect(starts).toEqual([0, 2 * MINUTE + 1000, 6 * MINUTE + 2000, 14 * MINUTE + 3000, 30 * MINUTE + 4000]);
    expect(h.calls.slice(1).every((c) => c.trigger === 'retry')).toBe(true);
    expect(h.notifications.map((n) => n.kind)).toEqual(['failed']);
    expect(h.notifications[0]!.body).toBe('disk full. Cairn tries again later.');
    expect(h.scheduler.status()[0]).toMatchObject({ state: 'failing', failures: 5 });

    h.result = 'succeeded';
    await h.clock.advance(HOUR);
    expect(h.notifications.map((n) => n.kind)).toEqual(['failed', 'recovered']);
    expect(h.runtime.get(plan.id).failures).toBe(0);
    expect(h.runtime.get(plan.id).retryAt).toBeUndefined();
    expect(h.scheduler.status()[0]!.state).toBe('ok');
  });

  it('waits for a missing store with a stat a minute, no runs, and runs when the drive is back', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 5, unit: 'minutes' } });
    h.storePresent = false;
    h.scheduler.start();
    await h.clock.advance(2 * HOUR);
    expect(h.calls).toHaveLength(0);
    expect(h.scheduler.status()[0]!.state).toBe('waiting-store');
    // Not an error storm: one notice that it is overdue (no backup for twice its interval), nothing else.
    expect(h.notifications.map((n) => n.kind)).toEqual(['overdue']);
    expect(Math.min(...h.clock.delays)).toBeGreaterThanOrEqual(STORE_POLL_MS);

    h.storePresent = true;
    await h.clock.advance(STORE_POLL_MS);
    expect(h.calls).toHaveLength(1);
  });

  it('a store that vanishes during a run is a wait, not a failure, and is not tried again at once', async () => {
    const h = start('2026-12-01T10:00');
    const plan = h.addPlan({ schedule: { kind: 'interval', every: 5, unit: 'minutes' } });
    h.result = 'store-missing';
    h.runMs = 10_000;
    h.scheduler.start(); // a new interval plan runs at once
    // The run found no store, though the quick check still saw its folder: no second attempt within a poll.
    await h.clock.advance(STORE_POLL_MS);
    expect(h.calls).toHaveLength(1);
    expect(h.runtime.get(plan.id)).toMatchObject({ waiting: 'store', failures: 0 });
    h.storePresent = false;
    await h.clock.advance(HOUR);
    expect(h.calls).toHaveLength(1);
    expect(h.notifications.map((n) => n.kind)).toEqual(['overdue']);
    h.result = 'succeeded';
    h.storePresent = true;
    await h.clock.advance(STORE_POLL_MS + MINUTE);
    expect(h.calls).toHaveLength(2);
    expect(h.notifications.map((n) => n.kind)).toEqual(['overdue', 'recovered']);
  });

  it('skips scheduled runs on battery but not "Back up now"', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 5, unit: 'minutes' }, conditions: { skipOnBattery: true } });
    h.onBattery = true;
    h.scheduler.start();
    await h.clock.advance(HOUR);
    expect(h.calls).toHaveLength(0);
    expect(h.scheduler.status()[0]!.state).toBe('waiting-power');
    h.scheduler.runNow('docs');
    await h.clock.advance(2 * MINUTE);
    expect(h.calls.map((c) => c.trigger)).toEqual(['manual']);
    h.onBattery = false;
    h.scheduler.wake(); // what a power event does
    await h.clock.advance(10 * MINUTE);
    expect(h.calls.map((c) => c.trigger).slice(0, 2)).toEqual(['manual', 'schedule']);
  });

  it('tells once that a plan is overdue, however often it wakes', async () => {
    const h = start('2026-12-01T10:00');
    const plan = h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.runtime.update(plan.id, (r) => ({
      ...r,
      lastSuccessAt: local('2026-11-27T03:00'),
      lastSlot: local('2026-12-01T10:00'),
    }));
    h.storePresent = false; // its drive has been away for days
    h.scheduler.start();
    await h.clock.advance(DAY);
    expect(h.notifications.map((n) => n.kind)).toEqual(['overdue']);
    expect(h.notifications[0]!.body).toMatch(/last backup finished 2026-11-27 03:00/);
  });

  it('a clock set back an hour after a run does not run that slot again', async () => {
    const h = start('2026-12-01T02:00');
    h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.scheduler.start();
    await h.clock.advance(2 * HOUR); // ran at 03:00, now 04:00
    expect(h.calls).toHaveLength(1);
    h.clock.jump(local('2026-12-01T02:45'));
    h.scheduler.wake();
    await h.clock.advance(2 * HOUR);
    expect(h.calls).toHaveLength(1);
  });

  it('idle, it sleeps until the next due time (at most 10 minutes, to notice clock jumps)', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.scheduler.start();
    const before = h.scheduler.wakeups;
    await h.clock.advance(DAY);
    // 24 hours of 10-minute sleeps, plus the wake after the run.
    expect(h.scheduler.wakeups - before).toBeLessThanOrEqual(24 * 6 + 2);
    expect(Math.max(...h.clock.delays)).toBe(MAX_SLEEP_MS);
  });

  it('a daily plan at a time the spring-forward night skips runs once that day, just after the gap', async () => {
    const h = start('2026-03-28T12:00');
    h.addPlan({ schedule: { kind: 'daily', at: '02:30' } });
    h.scheduler.start();
    await h.clock.advance(2 * DAY);
    expect(h.calls.map((c) => new Date(c.at).toString().slice(4, 21))).toEqual([
      'Mar 29 2026 03:00',
      'Mar 30 2026 02:30',
    ]);
  });

  it('"Pause all" for an hour: nothing runs by its schedule, "Back up now" does, and the schedule resumes after', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 5, unit: 'minutes' } });
    const until = local('2026-12-01T11:00');
    h.pause.pause(until);
    h.scheduler.start();
    await h.clock.advance(30 * MINUTE);
    expect(h.calls).toEqual([]);
    expect(h.scheduler.status()[0]).toMatchObject({ state: 'paused', nextRunAt: until, pauseAll: { until } });
    h.scheduler.runNow('docs');
    await h.clock.advance(2 * MINUTE);
    expect(h.calls.map((c) => c.trigger)).toEqual(['manual']);
    const changes = h.changes;
    await h.clock.advance(29 * MINUTE); // 11:01
    expect(h.calls.map((c) => c.trigger)).toEqual(['manual', 'schedule']);
    expect(h.calls[1]!.at).toBe(until);
    expect(h.changes, 'the end of the pause is a change the tray shows').toBeGreaterThan(changes);
    expect(h.scheduler.status()[0]!.pauseAll).toBeUndefined();
  });

  it('"Pause all" until resumed outlasts a restart; resuming runs what is due', async () => {
    const dir = temp('scheduler');
    const h = new Harness(dir, new FakeClock(local('2026-12-01T10:00')));
    harness = h;
    h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.pause.pause();
    h.scheduler.start();
    await h.clock.advance(3 * DAY);
    await h.scheduler.stop();
    const again = new Harness(dir, h.clock);
    harness = again;
    again.scheduler.start();
    await again.clock.advance(DAY);
    expect([...h.calls, ...again.calls]).toEqual([]);
    expect(again.scheduler.status()[0]).toMatchObject({ state: 'paused', pauseAll: {} });
    expect(again.scheduler.status()[0]!.nextRunAt).toBeUndefined();
    again.pause.resume();
    again.scheduler.wake(); // what the host does after a resume
    await again.clock.advance(MINUTE);
    expect(again.calls.map((c) => c.trigger)).toEqual(['schedule']);
  });

  it('a damaged "pause all" file pauses nothing', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 5, unit: 'minutes' } });
    writeFileSync(h.pause.file, '{"version": 1, "until": "soon"}');
    h.scheduler.start();
    await h.clock.advance(6 * MINUTE);
    expect(h.calls).toHaveLength(2); // at once (a new interval plan), then 5 minutes later
    h.pause.resume();
    expect(existsSync(h.pause.file)).toBe(false);
  });

  it('paused and manual plans never run by themselves', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'interval', every: 1, unit: 'minutes' }, paused: true });
    h.addPlan({ name: 'Manual', schedule: { kind: 'manual' } });
    h.scheduler.start();
    await h.clock.advance(DAY);
    expect(h.calls).toEqual([]);
    expect(h.scheduler.status().map((s) => s.state)).toEqual(['paused', 'new']);
  });

  it('a run cut short because the scheduler stops (the app quits) runs again at the next start', async () => {
    const h = start('2026-12-01T02:59');
    const plan = h.addPlan({ schedule: { kind: 'daily', at: '03:00' } });
    h.runMs = 30 * MINUTE;
    h.scheduler.start();
    await h.clock.advance(5 * MINUTE); // running since 03:00
    await h.scheduler.stop();
    expect(h.history.runs(plan.id)[0]).toMatchObject({ status: 'cancelled' });
    h.runMs = MINUTE;
    h.scheduler.start();
    await h.clock.advance(2 * MINUTE);
    expect(h.calls.map((c) => c.trigger)).toEqual(['schedule', 'schedule']);
    expect(h.history.runs(plan.id)[0]).toMatchObject({ status: 'succeeded' });
  });

  it('tells of damage a verify found, even when the run itself succeeded', async () => {
    const h = start('2026-12-01T10:00');
    h.addPlan({ schedule: { kind: 'manual' } });
    h.verify = 'damaged';
    h.scheduler.start();
    h.scheduler.runNow('docs');
    await h.clock.advance(2 * MINUTE);
    expect(h.notifications.map((n) => [n.kind, n.title])).toEqual([['damaged', 'Verify found damage in "Docs"']]);
  });

  it('a new plan that runs every N minutes backs up at once; one with a time of day waits for it', async () => {
    const h = start('2026-12-01T10:00');
    const every = h.addPlan({ schedule: { kind: 'interval', every: 4, unit: 'hours' } });
    const daily = h.addPlan({ name: 'Nightly', schedule: { kind: 'daily', at: '02:00' } });
    h.scheduler.start();
    await h.clock.advance(2 * MINUTE);
    expect(h.calls.map((c) => [c.plan, c.at])).toEqual([[every.id, local('2026-12-01T10:00')]]);
    expect(h.scheduler.status().find((s) => s.planId === daily.id)?.nextRunAt).toBe(local('2026-12-02T02:00'));
    expect(h.scheduler.status().find((s) => s.planId === every.id)?.nextRunAt).toBe(local('2026-12-01T14:00'));
  });
});
