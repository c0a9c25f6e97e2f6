import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PauseAll } from '../../contract/plans.js';
import { isCairnError } from '../errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../fs/json-file.js';
import { silentLogger, type Logger } from '../log.js';

export const PAUSE_FILE = 'plans-paused.json';
const PauseFile = z.strictObject({ version: z.literal(1), until: z.number().optional() });

/**
 * "Pause all": no plan starts by its schedule, for a while or until resumed. A file in the config folder, so it
 * holds for whichever process runs the scheduler and survives restarts; resuming removes it. A damaged file is
 * no pause (the backups go on) and is replaced by the next pause or removed by the next resume.
 */
export class PlansPause {
  readonly file: string;

  constructor(
    configDir: string,
    private readonly log: Logger = silentLogger,
  ) {
    this.file = join(configDir, PAUSE_FILE);
  }

  /** The pause in effect at `now`, if any: a timed pause that has ended is none. */
  current(now: number): PauseAll | undefined {
    let saved: z.infer<typeof PauseFile> | undefined;
    try {
      saved = readJsonFile(this.file, PauseFile, 'the "pause all" state');
    } catch (err) {
      if (!isCairnError(err, 'CORRUPT')) throw err;
      this.log.warn(`${(err as Error).message}; plans run as scheduled`);
      return undefined;
    }
    if (!saved || (saved.until !== undefined && saved.until <= now)) return undefined;
    return saved.until === undefined ? {} : { until: saved.until };
  }

  /** Pauses every plan until `until` (epoch ms), or until resumed. */
  pause(until?: number): PauseAll {
    writeJsonFileAtomic(this.file, { version: 1, ...(until === undefined ? {} : { until }) });
    return until === undefined ? {} : { until };
  }

  resume(): void {
    rmSync(this.file, { force: true });
  }
}
