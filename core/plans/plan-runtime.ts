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
  /** The last state a notification was sent for, so each change is told once. */
  notified: z.enum(['failing', 'overdue', 'ok']).optional(),
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
    const lock = acquireExclusiveLock(this.configDir, 'plan-runtime', "an update of the scheduler's state", undefined, {
      waitMs: 5_000,
    });
    return withLock(lock, () => {
      const plans = this.all();
      const next = change(plans[planId] ?? { failures: 0 });
      writeJsonFileAtomic(this.file, { version: 1, plans: { ...plans, [planId]: next } });
      return next;
    });
  }

  /** Forgets the state of plans that no longer exist. */
  prune(planIds: readonly string[]): void {
    const plans = this.all();
    const keep = Object.fromEntries(Object.entries(plans).filter(([id]) => planIds.includes(id)));
    if (Object.keys(keep).length === Object.keys(plans).length) return;
    const lock = acquireExclusiveLock(this.configDir, 'plan-runtime', "an update of the scheduler's state");
    withLock(lock, () => writeJsonFileAtomic(this.file, { version: 1, plans: keep }));
  }
}
