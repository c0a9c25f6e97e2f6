import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '../fs/json-file.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { withLock } from '../locks/with-lock.js';

export const RUNTIME_FILE = 'plan-runtime.json';

/** What the scheduler remembers of a plan between runs and restarts. Times are epoch ms. */
export const planRuntimeSchema = z.object({
  /** The time the last run was due (or started, for a manual run): slots up to it are done. */
  lastSlot: z.number().optional(),
  lastAttemptAt: z.number().optional(),
  lastSuccessAt: z.number().optional(),
  /** Failed runs since the last success, for the backoff. */
  failures: z.number().int().nonnegative().default(0),
  retryAt: z.number().optional(),
  /** A due run that waits for its store (unplugged drive) or for mains power. */
  waiting: z.enum(['store', 'power']).optional(),
  lastGcAt: z.number().optional(),
  lastFullVerifyAt: z.number().optional(),
  /**
   * The plan's first run: GC is counted from it until it first runs, so a new plan's first backup is not followed
   * by a GC of the whole store. Absent for a plan that ran before it was recorded (then GC is due).
   */
  maintenanceFrom: z.number().optional(),
  /** The last state a notification was sent for, so each change is told once. */
  notified: z.enum(['failing', 'overdue', 'ok']).optional(),
  /**
   * A run that left entries out was told, and a whole run since was not: the next whole run is told as complete
   * again. A field of its own, not a value of `notified`, which an older version reading this file would refuse.
   */
  leftOutTold: z.boolean().optional(),
});
export type PlanRuntime = z.infer<typeof planRuntimeSchema>;

const RuntimeFile = z.object({ version: z.literal(1), plans: z.record(z.string(), planRuntimeSchema) });

/**
 * The scheduler's memory of every plan, one file in the config folder, changed under a lock (the scheduler and
 * a `cairn plan run` may both record a run). A damaged file is an error naming it: resetting it would run every
 * plan at once, as if never run.
 */
export class PlanRuntimeFile {
  readonly file: string;

  constructor(private readonly configDir: string) {
    this.file = join(configDir, RUNTIME_FILE);
  }

  all(): Record<string, PlanRuntime> {
    return readJsonFile(this.file, RuntimeFile, "the scheduler's state")?.plans ?? {};
  }

  get(planId: string): PlanRuntime {
    return this.all()[planId] ?? { failures: 0 };
  }

  /** Changes one plan's state; returns the new state. */
  update(planId: string, change: (runtime: PlanRuntime) => PlanRuntime): PlanRuntime {
    let next: PlanRuntime = { failures: 0 };
    this.change((plans) => {
      next = change(plans[planId] ?? { failures: 0 });
      return { ...plans, [planId]: next };
    });
    return next;
  }

  /** Forgets one plan's state (the plan was removed). */
  remove(planId: string): void {
    this.change((plans) => Object.fromEntries(Object.entries(plans).filter(([id]) => id !== planId)));
  }

  /** Forgets the state of plans that no longer exist. */
  prune(planIds: readonly string[]): void {
    this.change((plans) => Object.fromEntries(Object.entries(plans).filter(([id]) => planIds.includes(id))));
  }

  /**
   * Reads, changes and writes the file under its lock, so a change made meanwhile by another process (the
   * scheduler recording a run) is never lost. No change, no write.
   */
  private change(apply: (plans: Record<string, PlanRuntime>) => Record<string, PlanRuntime>): void {
    const lock = acquireExclusiveLock(this.configDir, 'plan-runtime', "an update of the scheduler's state", undefined, {
      waitMs: 5_000,
    });
    withLock(lock, () => {
      const plans = this.all();
      const next = apply(plans);
      if (JSON.stringify(next) !== JSON.stringify(plans)) writeJsonFileAtomic(this.file, { version: 1, plans: next });
    });
  }
}
