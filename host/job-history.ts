import { join } from 'node:path';
import { z } from 'zod';
import type { JobState } from '../contract/jobs.js';
import { writeFileAtomicSync } from '../core/fs/atomic-write.js';
import { makeDirectories } from '../core/fs/make-directories.js';
import { MAX_JSON_FILE_BYTES, readRegularText } from '../core/fs/regular-file.js';

/** Log lines kept per finished job on disk (the live job keeps more). */
const KEPT_LOG_LINES = 100;
const SAVE_DELAY_MS = 500;

const scalar = z.union([z.string(), z.number(), z.boolean()]).optional();
const repairGroups = z.array(z.object({ group: z.string(), source: z.string().optional() }));
const Advice = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('restore'), groups: repairGroups }),
  z.object({ kind: z.literal('restore-image'), groups: repairGroups, readableRestKept: z.boolean() }),
  z.object({ kind: z.literal('verify'), groups: repairGroups, leftOut: z.boolean().optional() }),
  z.object({ kind: z.literal('left-out') }),
]);
const JobRecord = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  store: z.string(),
  status: z.enum(['done', 'attention', 'failed', 'cancelled']),
  startedAt: z.number(),
  endedAt: z.number().optional(),
  progress: z.object({ phase: z.string() }).passthrough(),
  summary: z.string().optional(),
  result: z.record(z.string(), scalar).optional(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  problemCount: z.number().optional(),
  // An older version wrote its advice as a sentence: kept as that job's adviceText.
  advice: z.union([Advice, z.string()]).optional(),
  adviceText: z.string().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  log: z.array(z.object({ time: z.number(), level: z.enum(['info', 'warn', 'error']), message: z.string() })),
});
const HistoryFile = z.object({ version: z.literal(1), jobs: z.array(z.unknown()) });

/** A record as the app holds it: an older version's advice sentence moves to `adviceText`, shown as it was. */
function withTypedAdvice(record: z.infer<typeof JobRecord>): JobState {
  const { advice, ...rest } = record;
  if (typeof advice === 'string') return { ...rest, adviceText: advice } as JobState;
  return (advice ? { ...rest, advice } : rest) as JobState;
}

/**
 * The finished jobs of the tasks panel, kept in the app's data folder so a restart of the host (browser mode,
 * the desktop app) does not lose what ran and how it ended. Written atomically, shortly after each job ends;
 * read back record by record, so one damaged record costs only itself.
 */
export class JobHistory {
  private readonly file: string;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: JobState[] | undefined;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'job-history.json');
  }

  load(): JobState[] {
    let parsed: z.infer<typeof HistoryFile>;
    try {
      parsed = HistoryFile.parse(JSON.parse(readRegularText(this.file, MAX_JSON_FILE_BYTES)));
    } catch {
      return []; // none yet, or not ours: the history is a record, not a promise
    }
    return parsed.jobs.flatMap((job) => {
      const record = JobRecord.safeParse(job);
      return record.success ? [withTypedAdvice(record.data)] : [];
    });
  }

  /** Saves the finished jobs (newest first) soon; several ends close together are one write. */
  save(finished: readonly JobState[]): void {
    this.pending = finished.map((j) => ({ ...j, log: j.log.slice(-KEPT_LOG_LINES) }));
    this.timer ??= setTimeout(() => this.flush(), SAVE_DELAY_MS);
    this.timer.unref?.();
  }

  /** Writes what is pending now (quitting). A failure to write costs the history, never a job. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const jobs = this.pending;
    this.pending = undefined;
    if (!jobs) return;
    try {
      makeDirectories(join(this.file, '..'));
      writeFileAtomicSync(this.file, JSON.stringify({ version: 1, jobs }), { mode: 0o600 });
    } catch {
      // The data folder is unwritable: the panel still shows the jobs until the host stops.
    }
  }
}
