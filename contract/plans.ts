import { z } from 'zod';
import { keepOptionsSchema } from './keep-rules.js';

/**
 * Backup plans: what to back up, where, when, how long to keep it and how to look after the store. The one
 * definition of a plan's shape, used by the settings file (core/plans), the CLI, the host's validators and the
 * plan editor. Times of day are local wall-clock times; the scheduler computes them in the computer's zone.
 */

const name = z
  .string()
  .trim()
  .min(1, 'a plan needs a name')
  .max(80, 'a plan name has at most 80 characters')
  .refine((s) => !/[\0\n\r]/.test(s), 'a plan name is one line of text');
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => !s.includes('\0'), 'must not contain NUL');
/** `HH:MM`, 24-hour. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is HH:MM, 24-hour (e.g. 03:30)');

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const scheduleSchema = z.discriminatedUnion('kind', [
  /** Only when asked ("Back up now", `cairn plan run`). */
  z.strictObject({ kind: z.literal('manual') }),
  /** Every N minutes or hours, counted from the start of the last run. */
  z.strictObject({
    kind: z.literal('interval'),
    every: z.number().int().min(1).max(10_000),
    unit: z.enum(['minutes', 'hours']),
  }),
  z.strictObject({ kind: z.literal('daily'), at: timeOfDay }),
  z.strictObject({ kind: z.literal('weekly'), days: z.array(z.enum(WEEKDAYS)).min(1).max(7), at: timeOfDay }),
  /** A cron expression (5 fields: minute hour day-of-month month day-of-week), checked by core's parser. */
  z.strictObject({ kind: z.literal('calendar'), expression: z.string().trim().min(1).max(200) }),
]);
export type Schedule = z.infer<typeof scheduleSchema>;

/** The least interval a schedule may have: shorter would mostly measure the scheduler. */
export const MIN_INTERVAL_MINUTES = 1;

export const sourceSchema = z.strictObject({ kind: z.enum(['folder', 'image']), path });
export type PlanSource = z.infer<typeof sourceSchema>;

/** The most sources a plan takes (core/backup/source-set.ts holds a backup to the same). */
export const MAX_PLAN_SOURCES = 32;

/** Whether `inner` is `outer` or lies inside it, by the paths' text (core checks the real paths again). */
export function isSameOrInsidePath(outer: string, inner: string): boolean {
  const trimmed = outer.replace(/[\\/]+$/, '');
  if (inner.replace(/[\\/]+$/, '') === trimmed) return true;
  return inner.startsWith(`${trimmed}/`) || inner.startsWith(`${trimmed}\\`);
}

/** Why a plan's sources cannot be backed up together (one given twice, one inside another), or undefined. */
export function sourcesProblem(paths: readonly string[]): string | undefined {
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < paths.length; j++) {
      if (i === j || !isSameOrInsidePath(paths[j]!, paths[i]!)) continue;
      return isSameOrInsidePath(paths[i]!, paths[j]!)
        ? `${paths[i]} is given twice`
        : `${paths[i]} is inside ${paths[j]}, another source of the plan: give only ${paths[j]}`;
    }
  }
  return undefined;
}

export const sourcesSchema = z
  .array(sourceSchema)
  .min(1, 'a plan needs a folder or disk image to back up')
  .max(MAX_PLAN_SOURCES, `a plan backs up at most ${MAX_PLAN_SOURCES} folders and disk images`)
  .superRefine((sources, ctx) => {
    const problem = sourcesProblem(sources.map((s) => s.path));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const maintenanceSchema = z.strictObject({
  /** Garbage collection after a run when the last one is at least this many days old (0: never by the plan). */
  gcEveryDays: z.number().int().min(0).max(366).default(7),
  /** Verify each new snapshot right after its backup. */
  verifyNew: z.boolean().default(false),
  /** A full verify of the plan's group when the last one is at least this many days old (0: never). */
  fullVerifyEveryDays: z.number().int().min(0).max(366).default(30),
});
export type Maintenance = z.infer<typeof maintenanceSchema>;

export const conditionsSchema = z.strictObject({
  /** Scheduled runs wait while the computer runs on battery ("Back up now" does not). */
  skipOnBattery: z.boolean().default(false),
  /** The off-site push waits while the network is metered (a phone's hotspot); the next run sends it all. */
  skipPushOnMetered: z.boolean().default(false),
});
export type Conditions = z.infer<typeof conditionsSchema>;

export const NOTIFY_LEVELS = ['off', 'failures', 'all'] as const;
export type NotifyLevel = (typeof NOTIFY_LEVELS)[number];

/** Exclude presets: named sets of patterns (gitignore syntax, as the backup's own excludes). */
export const EXCLUDE_PRESETS = {
  caches: { label: 'Caches', patterns: ['.cache/', 'Cache/', 'cache/', 'CacheStorage/', '.thumbnails/', '*.tmp'] },
  trash: { label: 'Trash', patterns: ['.Trash/', '.Trash-*/', '.local/share/Trash/', '$RECYCLE.BIN/'] },
  'node-modules': { label: 'node_modules', patterns: ['node_modules/'] },
  'build-outputs': {
    label: 'Build outputs',
    patterns: ['target/', '__pycache__/', '*.pyc', '.gradle/', '.next/', '.parcel-cache/', '*.o'],
  },
  'vm-images': {
    label: 'VM and container images',
    patterns: ['*.qcow2', '*.vmdk', '*.vdi', '*.vhd', '*.vhdx', '.local/share/containers/', '.docker/'],
  },
} as const satisfies Record<string, { label: string; patterns: readonly string[] }>;
export type ExcludePreset = keyof typeof EXCLUDE_PRESETS;
const presetNames = Object.keys(EXCLUDE_PRESETS) as [ExcludePreset, ...ExcludePreset[]];

/**
 * An off-site copy after each successful backup: the plan's group pushed to a remote (docs/REMOTES.md), which
 * keeps its own number of snapshots (none set: all).
 */
export const offsiteSchema = z.strictObject({
  remote: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'the name of a remote (cairn remote add)'),
  retention: keepOptionsSchema.default({}),
});
export type Offsite = z.infer<typeof offsiteSchema>;

/**
 * A plan's encryption: the key by fingerprint (what its snapshots name) and the key file holding it, which a
 * headless run opens itself (no passphrase, or $CAIRN_PASSPHRASE); the app uses its unlocked key.
 */
export const planEncryptionSchema = z.strictObject({
  keyFingerprint: z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/, 'a key fingerprint (lower case, with colons)'),
  keyFile: path,
});
export type PlanEncryption = z.infer<typeof planEncryptionSchema>;

/** What a user says about a plan: everything but its id and bookkeeping. */
export const planInputSchema = z.strictObject({
  name,
  /** Folders and disk-image files, backed up together as one snapshot of the plan's group per run. */
  sources: sourcesSchema,
  store: path,
  excludes: z.array(z.string().min(1).max(1024)).max(1000).default([]),
  excludePresets: z.array(z.enum(presetNames)).default([]),
  schedule: scheduleSchema.default({ kind: 'daily', at: '12:00' }),
  /** Keep rules applied after each successful backup; none set keeps every snapshot. */
  retention: keepOptionsSchema.default({}),
  maintenance: maintenanceSchema.default({ gcEveryDays: 7, verifyNew: false, fullVerifyEveryDays: 30 }),
  conditions: conditionsSchema.default({ skipOnBattery: false, skipPushOnMetered: false }),
  offsite: offsiteSchema.optional(),
  encryption: planEncryptionSchema.optional(),
  notify: z.enum(NOTIFY_LEVELS).default('failures'),
  paused: z.boolean().default(false),
});
export type PlanInput = z.input<typeof planInputSchema>;

export const planSchema = planInputSchema.extend({
  /** Stable across renames: state and history are kept under it. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  /** The plan's group is `host/<groupId>`, derived from its name when the plan is made and kept across renames. */
  groupId: z.string().min(1).max(128),
  createdAt: z.number().int().nonnegative(),
  /** Sources the plan had before an edit: its group may hold their backups, and a run may move it on. */
  formerSources: z.array(path).default([]),
});
export type Plan = z.infer<typeof planSchema>;

/** The patterns a plan's backup excludes: its presets' and its own, presets first. */
export function planExcludes(plan: Pick<Plan, 'excludes' | 'excludePresets'>): string[] {
  return [...plan.excludePresets.flatMap((p) => EXCLUDE_PRESETS[p].patterns), ...plan.excludes];
}

/** What started a run: its schedule (once, however many slots were missed), a retry after a failure, or a user. */
export type RunTrigger = 'schedule' | 'retry' | 'manual';

/** One run of a plan, as kept in its history. */
export const planRunSchema = z.object({
  startedAt: z.number(),
  endedAt: z.number(),
  trigger: z.enum(['schedule', 'retry', 'manual']),
  status: z.enum(['succeeded', 'failed', 'cancelled']),
  /** The snapshot the backup made, `host/<id>/<time>`. */
  snapshot: z.string().optional(),
  files: z.number().optional(),
  bytes: z.number().optional(),
  newBytes: z.number().optional(),
  /** Snapshots the plan's retention removed after the backup. */
  pruned: z.number().optional(),
  /** Maintenance that ran after the backup. */
  gc: z.boolean().optional(),
  verify: z.enum(['ok', 'damaged']).optional(),
  warnings: z.number().optional(),
  /** Entries that are there but could not be backed up (unreadable): the snapshot lacks them. */
  leftOut: z.number().optional(),
  /** The first of them (at most LEFT_OUT_RECORDED), for the plan's card; the run's log names every one. */
  leftOutNamed: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
  /** The off-site push: how many snapshots it sent, or that it waited for an unmetered network. */
  offsite: z.enum(['pushed', 'deferred']).optional(),
  pushed: z.number().optional(),
  error: z.string().optional(),
});
export type PlanRun = z.infer<typeof planRunSchema>;

/** How many left-out entries a run's record names. */
export const LEFT_OUT_RECORDED = 5;

/**
 * Where a plan stands: paused; running; waiting for its store's drive or for mains power; failing (the last run
 * failed, a retry is due); overdue (no success for twice its usual interval); incomplete (the last run made its
 * snapshot but could not read some entries); ok; or never run yet.
 */
export type PlanState =
  'paused' | 'running' | 'waiting-store' | 'waiting-power' | 'failing' | 'overdue' | 'incomplete' | 'ok' | 'new';

/** The states the tray, the plans button and the dashboard point out: the user has something to do. */
export function needsAttention(state: PlanState): boolean {
  return state === 'failing' || state === 'overdue' || state === 'incomplete';
}

export interface PlanStatus {
  planId: string;
  state: PlanState;
  /** When the scheduler runs it next (epoch ms); none for paused and manual plans. */
  nextRunAt?: number;
  lastRun?: PlanRun;
  /** While incomplete: what the last run that made a snapshot could not read (how many, the first by name). */
  leftOut?: { count: number; named: { path: string; reason: string }[] };
  lastSuccessAt?: number;
  /** Failed runs since the last success. */
  failures: number;
  /** While "Pause all" holds: the state is then 'paused' (unless it runs) and the next run comes after it. */
  pauseAll?: PauseAll;
}

/** "Pause all": no plan starts by its schedule until `until` (epoch ms), or until resumed when absent. */
export interface PauseAll {
  until?: number;
}

/** A plan as the app lists it: its settings, where it stands, and its schedule in words. */
export interface PlanView {
  plan: Plan;
  status: PlanStatus;
  scheduleText: string;
}

/** One plan in full: also its last runs, its next run times and the patterns its backup excludes. */
export interface PlanDetails extends PlanView {
  runs: PlanRun[];
  nextRuns: number[];
  excludes: string[];
}

/** A schedule as the plan editor previews it. */
export interface SchedulePreview {
  text: string;
  nextRuns: number[];
}

/** Which scheduler runs the plans: this host's ('active'), another process's ('standby'), or none yet. */
export interface SchedulerInfo {
  role: 'active' | 'standby' | 'stopped';
  configDir: string;
  /** Set while "Pause all" holds ("Back up now" still runs). */
  pauseAll?: PauseAll;
}

/** A desktop notification about a plan (the host shows it natively, the browser as a Web Notification). */
export interface PlanNotice {
  planId: string;
  kind: 'failed' | 'recovered' | 'overdue' | 'succeeded' | 'damaged' | 'incomplete';
  title: string;
  body: string;
}
