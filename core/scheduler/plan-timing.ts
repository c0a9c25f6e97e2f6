import type { PauseAll, Plan, PlanRun, PlanState, PlanStatus } from '../../contract/plans.js';
import type { PlanRuntime } from '../plans/plan-runtime.js';
import { nextSlotAfter, typicalGapMs } from '../plans/schedule.js';

/**
 * The scheduler's decisions as pure functions of a plan, what it remembers and the time, so they can be tested
 * against any clock. A run collapses every slot up to its start: after a night with the laptop off, a plan
 * runs once, not once per missed slot.
 */

const MINUTE_MS = 60_000;
/** The first retry after a failure, doubled each time up to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 2 * MINUTE_MS;
export const RETRY_MAX_MS = 2 * 60 * MINUTE_MS;

/**
 * When the plan is next due (epoch ms; at or before `now` means due now); undefined if it never runs by itself:
 * paused, or manual (a failed manual plan's run is not retried: it runs only when asked).
 */
export function nextDueAt(plan: Plan, runtime: PlanRuntime, now: number): number | undefined {
  if (plan.paused || plan.schedule.kind === 'manual') return undefined;
  // A new plan that runs every N minutes or hours makes its first backup now, not an interval from now; a
  // wall-clock schedule waits for the time the user chose.
  const first = plan.schedule.kind === 'interval' && runtime.lastSlot === undefined;
  const slot = first ? plan.createdAt : nextSlotAfter(plan.schedule, slotAnchor(plan, runtime, now));
  if (runtime.retryAt === undefined) return slot;
  return slot === undefined ? runtime.retryAt : Math.min(slot, runtime.retryAt);
}

/**
 * The time slots are counted from: the last run's slot. If that lies further ahead than one interval, the clock
 * was set back a long way (or the state came from a computer with a wrong clock): counting from it would stop
 * the plan until then, so slots count from now. A clock set back by less never makes a slot run twice.
 */
function slotAnchor(plan: Plan, runtime: PlanRuntime, now: number): number {
  const anchor = runtime.lastSlot ?? plan.createdAt;
  if (anchor <= now) return anchor;
  const gap = typicalGapMs(plan.schedule, now);
  return gap !== undefined && anchor - now > gap ? now : anchor;
}

/** A plan whose last success (or, never run, its creation) is older than twice its usual interval. */
export function isOverdue(plan: Plan, runtime: PlanRuntime, now: number): boolean {
  if (plan.paused) return false;
  const gap = typicalGapMs(plan.schedule, now);
  if (gap === undefined) return false;
  return now - (runtime.lastSuccessAt ?? plan.createdAt) > 2 * gap;
}

/** The wait before retry number `failures` (1 for the first failure). */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, failures - 1), RETRY_MAX_MS);
}

/** What the plan's state becomes when a run ends. `slot` is the time the run was due (or started). */
export function afterRun(runtime: PlanRuntime, run: PlanRun, slot: number): PlanRuntime {
  const next: PlanRuntime = { ...runtime, lastSlot: Math.max(runtime.lastSlot ?? 0, slot), waiting: undefined };
  next.lastAttemptAt = run.startedAt;
  if (run.status === 'succeeded') return { ...next, lastSuccessAt: run.endedAt, failures: 0, retryAt: undefined };
  if (run.status === 'cancelled') return { ...next, retryAt: undefined };
  const failures = runtime.failures + 1;
  return { ...next, failures, retryAt: run.endedAt + retryDelayMs(failures) };
}

/**
 * Where a plan stands, for lists, the tray and notifications. `runs`: its history, newest first; a cancelled run
 * changes nothing of what the snapshots hold, so whether the plan is incomplete goes by the newest other one.
 */
export function planState(
  plan: Plan,
  runtime: PlanRuntime,
  runs: readonly PlanRun[],
  now: number,
  running: boolean,
): PlanState {
  if (running) return 'running';
  if (plan.paused) return 'paused';
  if (runtime.waiting === 'store') return 'waiting-store';
  if (runtime.waiting === 'power') return 'waiting-power';
  if (runtime.failures > 0) return 'failing';
  if (isOverdue(plan, runtime, now)) return 'overdue';
  if (incompleteRun(runs)) return 'incomplete';
  return runs.length > 0 || runtime.lastSuccessAt !== undefined ? 'ok' : 'new';
}

/** The newest run that was not cancelled, if it made its snapshot without some entries. */
function incompleteRun(runs: readonly PlanRun[]): PlanRun | undefined {
  const run = runs.find((r) => r.status !== 'cancelled');
  return run?.status === 'succeeded' && (run.leftOut ?? 0) > 0 ? run : undefined;
}

/** Where a plan stands and when it runs next, for `cairn plan list`, the app's plan list and the tray. */
export function planStatus(
  plan: Plan,
  runtime: PlanRuntime,
  runs: readonly PlanRun[],
  now: number,
  running: boolean,
): PlanStatus {
  const state = planState(plan, runtime, runs, now, running);
  const incomplete = state === 'incomplete' ? incompleteRun(runs) : undefined;
  return {
    planId: plan.id,
    state,
    nextRunAt: nextDueAt(plan, runtime, now),
    lastRun: runs[0],
    lastSuccessAt: runtime.lastSuccessAt,
    failures: runtime.failures,
    ...(incomplete ? { leftOut: { count: incomplete.leftOut!, named: incomplete.leftOutNamed ?? [] } } : {}),
  };
}

/** The next `count` times the plan runs by itself (the first may be now: it is due), for `cairn plan show`. */
export function upcomingRuns(plan: Plan, runtime: PlanRuntime, now: number, count: number): number[] {
  const first = nextDueAt(plan, runtime, now);
  if (first === undefined) return [];
  const runs = [Math.max(first, now)];
  while (runs.length < count) {
    const next = nextSlotAfter(plan.schedule, runs[runs.length - 1]!);
    if (next === undefined) break;
    runs.push(next);
  }
  return runs;
}

/** A plan's status under "Pause all": paused unless it runs, and next due no sooner than the pause ends. */
export function pausedStatus(status: PlanStatus, pause: PauseAll): PlanStatus {
  const { nextRunAt } = status;
  return {
    ...status,
    state: status.state === 'running' ? 'running' : 'paused',
    nextRunAt: nextRunAt === undefined || pause.until === undefined ? undefined : Math.max(nextRunAt, pause.until),
    pauseAll: pause,
  };
}
