import type { Plan } from '../../contract/plans.js';
import type { PlanRunOutcome } from '../plans/plan-run.js';
import type { PlanRuntime, PlanRuntimeFile } from '../plans/plan-runtime.js';
import type { RunHistory } from '../plans/run-history.js';
import { notificationFor, type PlanNotification } from './notifications.js';
import { afterRun } from './plan-timing.js';

export interface RecordedRun {
  runtime: PlanRuntime;
  /** What to tell the user about it; the plan's state already counts it as told. */
  notification?: PlanNotification;
}

/**
 * Records a finished run of a plan, the one way both the scheduler and `cairn plan run` do: a store that was
 * not there is a wait for it (not a failure, no history entry); any other end goes into the history, and the
 * plan's state moves on (slots up to `slot` done, failures and retry, maintenance times, what was notified).
 * The state is written first: it is what keeps a plan that just ran from being due again.
 */
export function recordRun(
  files: { runtime: PlanRuntimeFile; history: RunHistory },
  plan: Plan,
  outcome: PlanRunOutcome,
  /** Undefined: the run does not count for its slot (cut short by a scheduler that stops), which stays due. */
  slot: number | undefined,
): RecordedRun {
  if (outcome.storeMissing) return { runtime: files.runtime.update(plan.id, (r) => ({ ...r, waiting: 'store' })) };
  const { run } = outcome;
  let notification: PlanNotification | undefined;
  const runtime = files.runtime.update(plan.id, (before) => {
    const after = slot === undefined ? { ...before, lastAttemptAt: run.startedAt } : afterRun(before, run, slot);
    after.maintenanceFrom ??= run.startedAt; // the plan's first run: a GC that never ran counts from here
    if (outcome.gcAt !== undefined) after.lastGcAt = outcome.gcAt;
    if (outcome.fullVerifyAt !== undefined) after.lastFullVerifyAt = outcome.fullVerifyAt;
    notification = notificationFor(plan, after, run);
    const told = notification?.leftOutTold;
    return {
      ...after,
      ...(notification?.state ? { notified: notification.state } : {}),
      ...(told !== undefined ? { leftOutTold: told || undefined } : {}),
    };
  });
  files.history.append(plan.id, run);
  return { runtime, notification };
}
