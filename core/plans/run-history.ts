import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { planRunSchema, type PlanRun } from '../../contract/plans.js';
import { errnoCode } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../fs/json-file.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { withLock } from '../locks/with-lock.js';

/** Runs kept per plan: about a year of daily runs, a few days of every-15-minutes ones. */
export const KEPT_RUNS = 400;
const HistoryFile = z.object({ version: z.literal(1), runs: z.array(z.unknown()) });

/**
 * Each plan's runs, newest first, in `history/<plan id>.json` in the config folder. Read record by record: a
 * damaged record costs only itself, a damaged file only the history (it is a record, not a promise).
 */
export class RunHistory {
  private readonly dir: string;

  constructor(private readonly configDir: string) {
    this.dir = join(configDir, 'history');
  }

  runs(planId: string): PlanRun[] {
    let file: z.infer<typeof HistoryFile> | undefined;
    try {
      file = readJsonFile(this.path(planId), HistoryFile, 'a run history');
    } catch {
      return [];
    }
    return (file?.runs ?? []).flatMap((run) => {
      const parsed = planRunSchema.safeParse(run);
      return parsed.success ? [parsed.data] : [];
    });
  }

  append(planId: string, run: PlanRun): void {
    const lock = acquireExclusiveLock(this.configDir, `history-${planId}`, 'an update of a run history', undefined, {
      waitMs: 5_000,
    });
    withLock(lock, () => {
      const runs = [run, ...this.runs(planId)].slice(0, KEPT_RUNS);
      writeJsonFileAtomic(this.path(planId), { version: 1, runs });
    });
  }

  remove(planId: string): void {
    try {
      unlinkSync(this.path(planId));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  private path(planId: string): string {
    return join(this.dir, `${planId}.json`);
  }
}
