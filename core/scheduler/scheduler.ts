import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime } from '../../contract/format.js';
import { describePlanRun } from '../../contract/plan-summary.js';
import type { PauseAll, Plan, PlanStatus, RunTrigger } from '../../contract/plans.js';
import { CairnError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { PlanBook } from '../plans/plan-book.js';
import type { PlanRunOutcome } from '../plans/plan-run.js';
import type { PlanRuntime, PlanRuntimeFile } from '../plans/plan-runtime.js';
import type { PlansPause } from '../plans/plans-pause.js';
import type { RunHistory } from '../plans/run-history.js';
import { isOverdue, nextDueAt, pausedStatus, planStatus, RETRY_BASE_MS } from './plan-timing.js';
import type { PlanNotification } from './notifications.js';
import { recordRun } from './record-run.js';

/** The longest sleep: a wall clock that jumped (a suspend, a clock set by hand) is noticed within this. */
export const MAX_SLEEP_MS = 10 * 60_000;
/** How often a plan waiting for its store looks for it: a stat, never a run attempt. */
export const STORE_POLL_MS = 60_000;
/** How often a plan waiting for mains power looks again (a power event wakes the scheduler sooner). */
export const POWER_POLL_MS = 5 * 60_000;

export interface SchedulerClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface SchedulerDeps {
  book: PlanBook;
  runtime: PlanRuntimeFile;
  history: RunHistory;
  /** "Pause all" (none: plans are never paused all at once). */
  pause?: PlansPause;
  /** Runs one plan (in this process for the headless scheduler, as a job in the app). */
  runPlan(plan: Plan, trigger: RunTrigger, runtime: PlanRuntime, signal: AbortSignal): Promise<PlanRunOutcome>;
  clock?: SchedulerClock;
  /** True while the computer runs on battery. */
  onBattery?: () => boolean;
  /** Whether a store's drive is there: a cheap check, so waiting for an unplugged drive costs a stat a minute. */
  storePresent?: (store: string) => boolean;
  notify?: (notification: PlanNotification) => void;
  /** Something changed that a view of the plans shows (a run began or ended, a state changed). */
  onChange?: () => void;
  log?: Logger;
}

interface QueuedRun {
  planId: string;
  trigger: RunTrigger;
  slot: number;
}

/**
 * Runs plans when they are due, one run at a time. It sleeps until the next due time (at most MAX_SLEEP_MS) and
 * reads the plans again at every wake, so a plan edited elsewhere is picked up. Missed slots run once; a failed
 * run is retried with backoff until the next slot; a missing store or battery power is a waiting state checked
 * cheaply, never a storm of attempts. One scheduler per user runs this (scheduler-service.ts).
 */
export class Scheduler {
  private readonly clock: SchedulerClock;
  private readonly log: Logger;
  private readonly queue: QueuedRun[] = [];
  private running: { planId: string; controller: AbortController; done: Promise<void> } | undefined;
  private timer: unknown;
  private stopped = true;
  /**
   * Plans that rest until a time (epoch ms) though they are due: their run just found the store missing (the quick
   * check may still see its folder), or could not be recorded (its state would make it due again at once).
   */
  private readonly restUntil = new Map<string, number>();
  /** Whether "Pause all" held at the last look, so its end is announced as a change. */
  private wasPaused = false;
  /** Wake-ups so far, for the idle benchmark. */
  wakeups = 0;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? silentLogger;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /**
   * Runs what is due now, one run after another, and returns when none is left (`cairn scheduler --once`, for
   * cron and systemd timers): no timers, no retries. For a scheduler that was not started; stop() ends it.
   */
  async runDue(): Promise<void> {
    this.stopped = false;
    this.evaluate();
    for (let next = this.queue.shift(); next && !this.stopped; next = this.queue.shift()) await this.runQueued(next);
    this.stopped = true;
  }

  /** Cancels the running run (it ends as cancelled, to be run at its next slot) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.queue.length = 0;
    this.running?.controller.abort();
    await this.running?.done;
  }

  /** Looks at every plan now: at start, after a resume from sleep, a power change or an edit of the plans. */
  wake(): void {
    if (this.stopped) return;
    this.clock.clearTimeout(this.timer);
    this.wakeups++;
    const sleep = this.evaluate();
    this.pump();
    this.timer = this.clock.setTimeout(() => this.wake(), Math.max(1_000, Math.min(sleep, MAX_SLEEP_MS)));
  }

  /** "Back up now": queued behind a running run, regardless of battery; the store must be there. */
  runNow(idOrName: string): Plan {
    const plan = this.deps.book.get(idOrName);
    if (!this.isQueuedOrRunning(plan.id))
      this.queue.push({ planId: plan.id, trigger: 'manual', slot: this.clock.now() });
    this.pump();
    return plan;
  }

  /**
   * Runs a plan at once in this process, outside the queue, and records it as the scheduler would: for a
   * "Back up now" where this scheduler is on standby (another process runs the schedule) and for `cairn plan run`.
   */
  async runDirect(idOrName: string, signal: AbortSignal): Promise<PlanRunOutcome> {
    const plan = this.deps.book.get(idOrName);
    const outcome = await this.execute({ planId: plan.id, trigger: 'manual', slot: this.clock.now() }, signal);
    if (!outcome) throw new CairnError('NOT_FOUND', `the plan "${plan.name}" was removed while it ran`);
    return outcome;
  }

  /** Cancels a plan's run if it is running or queued. */
  cancel(planId: string): void {
    const i = this.queue.findIndex((q) => q.planId === planId);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.running?.planId === planId) this.running.controller.abort();
  }

  status(): PlanStatus[] {
    const now = this.clock.now();
    const runtimes = this.deps.runtime.all();
    const pause = this.pauseAt(now);
    return this.deps.book.list().map((plan) => {
      const status = planStatus(
        plan,
        runtimes[plan.id] ?? { failures: 0 },
        this.deps.history.runs(plan.id),
        now,
        this.running?.planId === plan.id,
      );
      return pause ? pausedStatus(status, pause) : status;
    });
  }

  /** "Pause all" in effect at `now`, if any. */
  pauseAt(now = this.clock.now()): PauseAll | undefined {
    return this.deps.pause?.current(now);
  }

  /** Queues the plans that are due and records waits; returns how long to sleep. */
  private evaluate(): number {
    let plans: Plan[];
    let runtimes: Record<string, PlanRuntime>;
    try {
      plans = this.deps.book.list();
      runtimes = this.deps.runtime.all();
    } catch (err) {
      this.log.warn(
        `cannot read the plans: ${(err as Error).message}; trying again in ${MAX_SLEEP_MS / 60_000} minutes`,
      );
      return MAX_SLEEP_MS;
    }
    const now = this.clock.now();
    const paused = this.whilePaused(now);
    if (paused !== undefined) return paused;
    let sleep = MAX_SLEEP_MS;
    for (const plan of plans) {
      try {
        const wait = this.evaluatePlan(plan, runtimes[plan.id] ?? { failures: 0 }, now);
        if (wait !== undefined) sleep = Math.min(sleep, wait);
      } catch (err) {
        // Recording a wait or an overdue notice failed (the state file is locked or cannot be written).
        this.log.warn(`plan "${plan.name}": ${(err as Error).message}`);
      }
    }
    return sleep;
  }

  /**
   * Under "Pause all" nothing is queued by the schedule (queued scheduled runs go too, "Back up now" stays);
   * returns how long to sleep, or undefined when no pause holds. Its start and end are changes a view shows.
   */
  private whilePaused(now: number): number | undefined {
    const pause = this.pauseAt(now);
    if (Boolean(pause) !== this.wasPaused) {
      this.wasPaused = Boolean(pause);
      this.deps.onChange?.();
    }
    if (!pause) return undefined;
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.trigger !== 'manual') this.queue.splice(i, 1);
    return pause.until === undefined ? MAX_SLEEP_MS : pause.until - now;
  }

  /** One plan: queued if due and its conditions hold; returns how long until it needs a look again. */
  private evaluatePlan(plan: Plan, runtime: PlanRuntime, now: number): number | undefined {
    // A queued or running plan needs no look until its run ends, which wakes the scheduler.
    if (this.isQueuedOrRunning(plan.id)) return undefined;
    const rest = this.restUntil.get(plan.id) ?? 0;
    if (rest > now) return rest - now;
    this.notifyOverdue(plan, runtime, now);
    const due = nextDueAt(plan, runtime, now);
    if (due === undefined) return undefined;
    if (due > now) return due - now;
    const waiting = this.unmetCondition(plan);
    if (waiting) {
      if (runtime.waiting !== waiting) this.setWaiting(plan, waiting);
      return waiting === 'store' ? STORE_POLL_MS : POWER_POLL_MS;
    }
    const trigger = runtime.retryAt !== undefined && runtime.retryAt <= now ? 'retry' : 'schedule';
    this.queue.push({ planId: plan.id, trigger, slot: now });
    return undefined;
  }

  private unmetCondition(plan: Plan): 'store' | 'power' | undefined {
    const present = this.deps.storePresent ?? defaultStorePresent;
    if (!present(plan.store)) return 'store';
    if (plan.conditions.skipOnBattery && this.deps.onBattery?.()) return 'power';
    return undefined;
  }

  private setWaiting(plan: Plan, waiting: 'store' | 'power'): void {
    this.log.info(waitingMessage(plan, waiting));
    this.deps.runtime.update(plan.id, (r) => ({ ...r, waiting }));
    this.deps.onChange?.();
  }

  private isQueuedOrRunning(planId: string): boolean {
    return this.running?.planId === planId || this.queue.some((q) => q.planId === planId);
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const next = this.queue.shift();
    if (next) void this.runQueued(next).then(() => this.wake());
  }

  /** Runs one queued run; never rejects (a rejection would end the process running the scheduler). */
  private runQueued(next: QueuedRun): Promise<void> {
    const controller = new AbortController();
    const done = this.execute(next, controller.signal)
      .then(() => undefined)
      .catch((err: unknown) => this.log.warn(`plan ${next.planId}: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
        this.deps.onChange?.();
      });
    this.running = { planId: next.planId, controller, done };
    this.deps.onChange?.();
    return done;
  }

  /** Runs a queued plan and records how it ended; undefined if the plan was removed since it was queued. */
  private async execute(queued: QueuedRun, signal: AbortSignal): Promise<PlanRunOutcome | undefined> {
    let plan: Plan;
    try {
      plan = this.deps.book.get(queued.planId);
    } catch {
      return undefined;
    }
    const runtime = this.deps.runtime.get(plan.id);
    this.log.info(`plan "${plan.name}": ${queued.trigger} run starts`);
    let outcome: PlanRunOutcome;
    try {
      outcome = await this.deps.runPlan(plan, queued.trigger, runtime, signal);
    } catch (err) {
      const now = this.clock.now();
      outcome = {
        run: { startedAt: now, endedAt: now, trigger: queued.trigger, status: 'failed', error: (err as Error).message },
        storeMissing: false,
      };
    }
    try {
      this.record(plan, queued, outcome);
    } catch (err) {
      this.restUntil.set(plan.id, this.clock.now() + RETRY_BASE_MS);
      this.log.warn(
        `cannot record the run of plan "${plan.name}": ${(err as Error).message}; ` +
          `it runs again in ${RETRY_BASE_MS / 60_000} minutes at the earliest`,
      );
    }
    return outcome;
  }

  /** Records the run, then says how it ended: a reader of the log then finds it in the history. */
  private record(plan: Plan, queued: QueuedRun, outcome: PlanRunOutcome): void {
    if (outcome.storeMissing) this.restUntil.set(plan.id, this.clock.now() + STORE_POLL_MS);
    else this.restUntil.delete(plan.id);
    // A run cut short because this scheduler stops (the app quits) leaves its slot due: it runs at the next start.
    const slot = outcome.run.status === 'cancelled' && this.stopped ? undefined : queued.slot;
    try {
      const { notification } = recordRun(this.deps, plan, outcome, slot);
      if (notification) this.deps.notify?.(notification);
    } finally {
      if (outcome.storeMissing) this.log.info(waitingMessage(plan, 'store'));
      else this.log.info(`plan "${plan.name}": run ${describePlanRun(outcome.run)}`);
    }
  }

  private notifyOverdue(plan: Plan, runtime: PlanRuntime, now: number): void {
    if (runtime.notified === 'overdue' || runtime.failures > 0 || !isOverdue(plan, runtime, now)) return;
    if (plan.notify !== 'off') {
      this.deps.notify?.({
        planId: plan.id,
        kind: 'overdue',
        state: 'overdue',
        title: `${plan.name} is overdue`,
        body: overdueBody(runtime),
      });
    }
    this.deps.runtime.update(plan.id, (r) => ({ ...r, notified: 'overdue' }));
  }
}

function waitingMessage(plan: Plan, waiting: 'store' | 'power'): string {
  return waiting === 'store'
    ? `plan "${plan.name}" waits for its store ${plan.store} (not there: an unplugged drive?)`
    : `plan "${plan.name}" waits for mains power`;
}

function overdueBody(runtime: PlanRuntime): string {
  return runtime.lastSuccessAt === undefined
    ? 'It has not backed up yet.'
    : `Its last backup finished ${formatTime(runtime.lastSuccessAt / 1000)}.`;
}

/** A store is there when its chunk folder is: a missing mount point and an empty one both say "not there". */
function defaultStorePresent(store: string): boolean {
  return existsSync(join(store, '.chunks'));
}
