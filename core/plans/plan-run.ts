import { readdirSync } from 'node:fs';
import { isSealed } from '../datastore/group-source.js';
import { LEFT_OUT_RECORDED, planExcludes, type Plan, type PlanRun, type RunTrigger } from '../../contract/plans.js';
import { KEEP_RULES } from '../../contract/keep-rules.js';
import type { FolderBackupProgress } from '../archive/folder-backup.js';
import { groupPath, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { describeSource } from '../datastore/group-source.js';
import { Datastore } from '../datastore/datastore.js';
import { CairnError, isCairnError } from '../errors.js';
import { collectGarbage } from '../gc/garbage-collection.js';
import type { ImageTransferProgress } from '../image/image-backup.js';
import { silentLogger, type Logger } from '../log.js';
import { pruneGroup } from '../prune/prune.js';
import { verify } from '../verify/verify.js';
import { RemoteBook, type RemoteLookup } from '../remote/remote-book.js';
import type { PushProgress } from '../remote/push.js';
import { backupPlanSources } from './plan-backup.js';
import { cairnConfigDir } from './config-dir.js';
import { isNetworkMetered } from './metered-network.js';
import { collectPlanOffsite, pushPlanOffsite } from './plan-offsite.js';
import type { PlanRuntime } from './plan-runtime.js';
import { keyFileProvider, type PlanKeyProvider } from './plan-key.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { LeftOutEntry } from '../archive/left-out.js';

const DAY_MS = 86_400_000;

export type PlanRunPhase = 'backup' | 'prune' | 'push' | 'gc' | 'verify';

export interface PlanRunOptions {
  trigger: RunTrigger;
  /** The plan's state before the run: when GC and the full verify last ran. */
  runtime: PlanRuntime;
  signal?: AbortSignal;
  log?: Logger;
  onPhase?: (phase: PlanRunPhase) => void;
  onBackupProgress?: (progress: FolderBackupProgress | ImageTransferProgress) => void;
  /** Chunk writer threads for the backup (as for a backup by hand). */
  workers?: number;
  now?: () => number;
  /** Where the plan's remote and its credentials are found (default: the user's config folder). */
  remotes?: RemoteLookup;
  /** The off-site copy's progress, with the requests sent so far. */
  onPushProgress?: (progress: PushProgress, requests: number) => void;
  /** Whether the network is metered now (for the condition skipPushOnMetered); unknown counts as not. */
  metered?: () => boolean;
  /** The key of a plan with encryption (default: its key file, as a headless run opens it). */
  keys?: PlanKeyProvider;
}

/** A run's end: its history record, and whether the store was missing (a waiting state, not a failure). */
export interface PlanRunOutcome {
  run: PlanRun;
  storeMissing: boolean;
  /** The first entries the backup could not take (the run records how many: `leftOut`). */
  leftOut?: LeftOutEntry[];
  /** Maintenance that ran, for the plan's state. */
  gcAt?: number;
  fullVerifyAt?: number;
}

/**
 * One run of a plan: the backup of its source into its group, then its retention, then the maintenance that is
 * due (GC every gcEveryDays, a verify of the new snapshot, a full verify of the group every fullVerifyEveryDays).
 * A store that is not there (an unplugged drive) ends the run as storeMissing before anything is touched.
 */
export async function runPlan(plan: Plan, options: PlanRunOptions): Promise<PlanRunOutcome> {
  return new PlanRunJob(plan, options).run();
}

class PlanRunJob {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly startedAt: number;
  private readonly record: Partial<PlanRun> = {};
  private gcAt: number | undefined;
  private fullVerifyAt: number | undefined;
  private snapshot: SnapshotRef | undefined;
  private leftOut: LeftOutEntry[] | undefined;
  private crypt: CryptConfig | undefined;

  constructor(
    private readonly plan: Plan,
    private readonly options: PlanRunOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
    this.startedAt = this.now();
  }

  async run(): Promise<PlanRunOutcome> {
    let store: Datastore;
    try {
      store = Datastore.open(this.plan.store, { log: this.log });
    } catch (err) {
      if (!isCairnError(err, 'NOT_FOUND') && !isCairnError(err, 'NOT_A_DATASTORE')) return this.failed(err);
      // An empty folder is a drive's mount point with the drive away; one with other things in it is no store,
      // and waiting for it would wait forever: that run fails (recorded, and told).
      if (isCairnError(err, 'NOT_A_DATASTORE') && folderHasEntries(this.plan.store)) return this.failed(err);
      return { run: this.end('failed', (err as Error).message), storeMissing: true };
    }
    try {
      await this.backup(store);
      this.prune(store);
      await this.offsite(store);
      await this.maintain(store);
      return this.outcome(this.end('succeeded'));
    } catch (err) {
      return this.failed(err);
    }
  }

  private async backup(store: Datastore): Promise<void> {
    this.options.onPhase?.('backup');
    if (this.plan.sources.length === 0)
      throw new CairnError('INVALID_ARGUMENT', `the plan "${this.plan.name}" has no source`);
    const encryption = this.plan.encryption;
    if (encryption) this.crypt = await (this.options.keys ?? keyFileProvider())(this.plan, encryption);
    const result = await backupPlanSources(store, this.plan.sources, {
      id: this.plan.groupId,
      crypt: this.crypt,
      excludes: planExcludes(this.plan),
      allowOtherSource: this.movedByThePlan(store),
      signal: this.options.signal,
      log: this.log,
      onProgress: this.options.onBackupProgress,
      workers: this.options.workers,
    }).catch((err: unknown) => {
      throw isCairnError(err, 'SOURCE_MISMATCH') ? this.foreignGroup(store) : err;
    });
    this.snapshot = result.snapshot;
    Object.assign(this.record, {
      snapshot: snapshotPath(result.snapshot),
      bytes: result.bytes,
      files: result.files,
      newBytes: result.newBytes,
      warnings: result.warnings,
      leftOut: result.leftOut?.count || undefined,
      leftOutNamed: result.leftOut?.count ? result.leftOut.named.slice(0, LEFT_OUT_RECORDED) : undefined,
    });
    this.leftOut = result.leftOut?.named;
  }

  /** The group records a source this plan had before its source was edited: the user moved the plan on. */
  private movedByThePlan(store: Datastore): boolean {
    let recorded: string[] | undefined;
    try {
      const source = store.groupSource({ type: 'host', id: this.plan.groupId });
      // A sealed (encrypted) record does not say its paths: the user confirms a move there.
      recorded = source && !isSealed(source) ? source.paths : undefined;
    } catch {
      return false; // a damaged record: the backup itself says what is wrong
    }
    return recorded !== undefined && recorded.every((p) => this.plan.formerSources.includes(p));
  }

  private prune(store: Datastore): void {
    const keep = this.plan.retention;
    if (!KEEP_RULES.some(({ option }) => (keep[option] ?? 0) > 0)) return;
    this.options.onPhase?.('prune');
    const outcomes = pruneGroup(store, { type: 'host', id: this.plan.groupId }, keep, { log: this.log });
    this.record.pruned = outcomes.filter((o) => o.outcome === 'removed').length;
  }

  /** The off-site copy; a failure fails the run (the local snapshot stays), and the next run catches up. */
  private async offsite(store: Datastore): Promise<void> {
    if (!this.plan.offsite) return;
    this.options.onPhase?.('push');
    try {
      const outcome = await pushPlanOffsite(store, this.plan, {
        remotes: this.remotes(),
        signal: this.options.signal,
        log: this.log,
        metered: this.options.metered ?? isNetworkMetered,
        onProgress: this.options.onPushProgress,
      });
      Object.assign(this.record, { offsite: outcome?.outcome, pushed: outcome?.pushed });
    } catch (err) {
      if (isCairnError(err, 'CANCELLED')) throw err;
      throw new CairnError(
        isCairnError(err) ? err.code : 'IO',
        `backed up to ${this.record.snapshot ?? 'the store'}, but the off-site copy failed: ${(err as Error).message}`,
      );
    }
  }

  private remotes(): RemoteLookup {
    return this.options.remotes ?? new RemoteBook(cairnConfigDir());
  }

  private async maintain(store: Datastore): Promise<void> {
    const { maintenance } = this.plan;
    const { runtime } = this.options;
    if (isDue(maintenance.gcEveryDays, runtime.lastGcAt ?? gcCountedFrom(runtime), this.now())) {
      this.options.onPhase?.('gc');
      await collectGarbage(store, { signal: this.options.signal, log: this.log });
      await collectPlanOffsite(this.plan, {
        remotes: this.remotes(),
        signal: this.options.signal,
        log: this.log,
      }).catch((err: unknown) => this.log.warn(`the remote GC failed: ${(err as Error).message}`));
      this.gcAt = this.now();
      this.record.gc = true;
    }
    // Unlike GC, a full verify that never ran is due at once: a plan may take over a group with older snapshots.
    const fullVerify = isDue(maintenance.fullVerifyEveryDays, runtime.lastFullVerifyAt ?? 0, this.now());
    if (!fullVerify && !maintenance.verifyNew) return;
    this.options.onPhase?.('verify');
    const group = { type: 'host' as const, id: this.plan.groupId };
    const target = fullVerify || !this.snapshot ? { group } : { snapshot: this.snapshot };
    const keys = this.crypt ? [this.crypt] : undefined;
    const result = await verify(store, target, { keys, signal: this.options.signal, log: this.log });
    if (fullVerify) this.fullVerifyAt = this.now();
    this.record.verify = result.ok ? 'ok' : 'damaged';
  }

  private failed(err: unknown): PlanRunOutcome {
    const cancelled = isCairnError(err, 'CANCELLED') || this.options.signal?.aborted === true;
    return this.outcome(this.end(cancelled ? 'cancelled' : 'failed', (err as Error).message));
  }

  /** The refusal in a plan's words: the group holds backups this plan did not make. */
  private foreignGroup(store: Datastore): CairnError {
    const group = { type: 'host' as const, id: this.plan.groupId };
    const recorded = store.groupSource(group);
    return new CairnError(
      'SOURCE_MISMATCH',
      `${groupPath(group)} holds backups of ${recorded ? describeSource(recorded) : 'another source'}, which the plan "${this.plan.name}" never backed up: to keep both, make a plan with another name for ${this.plan.sources.map((s) => s.path).join(', ')}`,
    );
  }

  private end(status: PlanRun['status'], error?: string): PlanRun {
    const run: PlanRun = { startedAt: this.startedAt, endedAt: this.now(), trigger: this.options.trigger, status };
    for (const [key, value] of Object.entries(this.record))
      if (value !== undefined) Object.assign(run, { [key]: value });
    if (error !== undefined) run.error = error;
    return run;
  }

  private outcome(run: PlanRun): PlanRunOutcome {
    return { run, storeMissing: false, leftOut: this.leftOut, gcAt: this.gcAt, fullVerifyAt: this.fullVerifyAt };
  }
}

/** Maintenance every `days` is due that long after `since`; never when there is no `since`. */
function isDue(days: number, since: number | undefined, now: number): boolean {
  return days > 0 && since !== undefined && now - since >= days * DAY_MS;
}

/**
 * A GC that never ran counts from the plan's first run (maintenanceFrom), so that run does none; a plan that ran
 * before its first run was recorded has it due; a plan's first run has nothing to count from.
 */
function gcCountedFrom(runtime: PlanRuntime): number | undefined {
  return runtime.maintenanceFrom ?? (runtime.lastAttemptAt === undefined ? undefined : 0);
}

function folderHasEntries(path: string): boolean {
  try {
    return readdirSync(path).length > 0;
  } catch {
    return false;
  }
}
