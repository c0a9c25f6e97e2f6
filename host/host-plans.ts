import type { JobState } from '../contract/jobs.js';
import {
  LEFT_OUT_RECORDED,
  planExcludes,
  type Plan,
  type PlanDetails,
  type PlanEncryption,
  type PlanInput,
  type PlanRun,
  type PlanView,
  type RunTrigger,
  type Schedule,
  type SchedulePreview,
  type SchedulerInfo,
} from '../contract/plans.js';
import type { PlanRunOutcome } from '../core/plans/plan-run.js';
import type { LeftOutEntry } from '../core/archive/left-out.js';
import type { PlanRuntime } from '../core/plans/plan-runtime.js';
import { assertValidSchedule, describeSchedule, nextSlotAfter } from '../core/plans/schedule.js';
import { upcomingRuns } from '../core/scheduler/plan-timing.js';
import { SchedulerService } from '../core/scheduler/scheduler-service.js';
import type { PlanNotification } from '../core/scheduler/notifications.js';
import type { Logger } from '../core/log.js';
import { AppError } from './app-errors.js';
import type { JobEngine } from './job-engine.js';
import { CryptConfig } from '../core/blob/crypt-config.js';
import { shortFingerprint } from '../core/crypto/fingerprint.js';
import { readKeyFile } from '../core/crypto/key-file.js';
import type { PathPolicy } from './path-policy.js';
import type { RemoteAccess } from './host-remotes.js';

export interface HostPlansOptions {
  configDir: string;
  engine: JobEngine;
  policy: PathPolicy;
  /** "the desktop app", "browser mode": who holds the scheduler lock, as other schedulers are told. */
  where: string;
  onChange(): void;
  onNotice(notification: PlanNotification): void;
  onBattery?: () => boolean;
  log?: Logger;
  /** The raw bytes of an unlocked key of the host's key ring, for the run of a plan that encrypts with it. */
  unlockedKey?: (fingerprint: string) => Buffer | undefined;
  /** The remote a plan pushes to, with its credentials (sealed ones reach the run's thread only so). */
  remoteAccess?: (name: string) => RemoteAccess | undefined;
}

/**
 * The app's side of backup plans: the plans file through the host's path policy, the user's scheduler (active
 * here, or on standby while another process runs it), and plan runs as jobs, so each shows as a task card with
 * progress and ends in the plan's history.
 */
export class HostPlans {
  readonly service: SchedulerService;

  constructor(private readonly options: HostPlansOptions) {
    this.service = new SchedulerService({
      configDir: options.configDir,
      where: options.where,
      runPlan: (plan, trigger, runtime, signal) => this.runAsJob(plan, trigger, runtime, signal),
      notify: (n) => options.onNotice(n),
      onChange: () => options.onChange(),
      onRole: () => options.onChange(),
      onBattery: options.onBattery,
      log: options.log,
    });
  }

  start(): void {
    this.service.start();
  }

  /**
   * A key was unlocked: a plan that encrypts with it and waits to retry a failed run (most likely failed for
   * want of the key) retries now, under the scheduler's usual rules (pause, battery, the store being there; a
   * manual plan is never retried). Only where this host runs the schedule.
   */
  keyUnlocked(fingerprint: string): void {
    if (this.service.currentRole !== 'active') return;
    const now = Date.now();
    try {
      for (const plan of this.service.book.list()) {
        if (plan.encryption?.keyFingerprint.toLowerCase() !== fingerprint.toLowerCase()) continue;
        if ((this.service.runtime.get(plan.id).retryAt ?? 0) <= now) continue;
        this.service.runtime.update(plan.id, (r) => (r.retryAt === undefined ? r : { ...r, retryAt: now }));
      }
    } catch (err) {
      this.options.log?.warn(`could not bring the plans' retries forward: ${(err as Error).message}`);
    }
    this.service.scheduler.wake();
  }

  stop(): Promise<void> {
    return this.service.stop();
  }

  list(): PlanView[] {
    const statuses = new Map(this.service.scheduler.status().map((s) => [s.planId, s]));
    return this.service.book.list().map((plan) => ({
      plan,
      status: statuses.get(plan.id) ?? { planId: plan.id, state: 'new', failures: 0 },
      scheduleText: describeSchedule(plan.schedule),
    }));
  }

  get(planId: string): PlanDetails {
    const view = this.view(planId);
    return {
      ...view,
      runs: this.service.history.runs(view.plan.id).slice(0, 100),
      nextRuns: upcomingRuns(view.plan, this.service.runtime.get(view.plan.id), Date.now(), 3),
      excludes: planExcludes(view.plan),
    };
  }

  save(input: PlanInput, planId?: string): PlanView {
    const checked = this.checkPaths(input);
    const plan = planId ? this.service.book.edit(planId, checked) : this.service.book.add(checked);
    this.changed();
    return this.view(plan.id);
  }

  remove(planId: string): void {
    const plan = this.service.book.remove(planId);
    this.service.scheduler.cancel(plan.id);
    this.service.runtime.prune(this.service.book.list().map((p) => p.id));
    this.service.history.remove(plan.id);
    this.changed();
  }

  /** "Back up now": queued on the scheduler here, or run at once when another process runs the schedule. */
  runNow(planId: string): void {
    if (this.service.currentRole === 'active') {
      this.service.scheduler.runNow(planId);
      return;
    }
    void this.service.scheduler
      .runDirect(planId, new AbortController().signal)
      .catch((err: unknown) => this.options.log?.warn(`plan run failed: ${(err as Error).message}`))
      .finally(() => this.options.onChange());
  }

  previewSchedule(schedule: Schedule): SchedulePreview {
    try {
      assertValidSchedule(schedule);
    } catch (err) {
      throw new AppError('INVALID_ARGUMENT', (err as Error).message);
    }
    const runs: number[] = [];
    for (
      let t = nextSlotAfter(schedule, Date.now());
      t !== undefined && runs.length < 3;
      t = nextSlotAfter(schedule, t)
    )
      runs.push(t);
    return { text: describeSchedule(schedule), nextRuns: runs };
  }

  info(): SchedulerInfo {
    const pauseAll = this.service.scheduler.pauseAt();
    return { role: this.service.currentRole, configDir: this.options.configDir, ...(pauseAll && { pauseAll }) };
  }

  /** "Pause all" for `minutes`, or until resumed. */
  pauseAll(minutes?: number): SchedulerInfo {
    this.service.pause.pause(minutes === undefined ? undefined : Date.now() + minutes * 60_000);
    this.changed();
    return this.info();
  }

  resumeAll(): SchedulerInfo {
    this.service.pause.resume();
    this.changed();
    return this.info();
  }

  /** How many plans there are (the plans file only: no states, no history). */
  count(): number {
    return this.service.book.list().length;
  }

  /** Look at the plans now: after a resume from sleep or a change of power source. */
  wake(): void {
    this.service.wake();
  }

  private view(planId: string): PlanView {
    const view = this.list().find((v) => v.plan.id === planId);
    if (!view) throw new AppError('NOT_FOUND', `no plan ${planId}`);
    return view;
  }

  /** The store and the source must be where the app may go, as for a backup started by hand. */
  private checkPaths(input: PlanInput): PlanInput {
    return {
      ...input,
      store: this.options.policy.check(input.store, 'datastore'),
      sources: input.sources.map((s) => ({
        ...s,
        path: this.options.policy.check(s.path, s.kind === 'image' ? 'disk image to back up' : 'folder to back up'),
      })),
      ...(input.encryption ? { encryption: this.checkedEncryption(input.encryption) } : {}),
    };
  }

  /**
   * A plan's key file in an allowed place, holding the plan's key: a wrong pairing is said when the plan is
   * saved, not at its first run hours later.
   */
  private checkedEncryption(encryption: PlanEncryption): PlanEncryption {
    const keyFile = this.options.policy.check(encryption.keyFile, 'key file');
    const config = readKeyFile(keyFile);
    const held = config.fingerprint ?? (config.kdf === null ? new CryptConfig(config.data).fingerprint() : undefined);
    const wanted = encryption.keyFingerprint.toLowerCase();
    if (held !== undefined && held !== wanted)
      throw new AppError(
        'WRONG_KEY',
        `${keyFile} holds the key ${shortFingerprint(held)}, not ${shortFingerprint(wanted)}: choose the key again`,
      );
    return { keyFingerprint: wanted, keyFile };
  }

  private changed(): void {
    this.service.wake();
    this.options.onChange();
  }

  private async runAsJob(
    plan: Plan,
    trigger: RunTrigger,
    runtime: PlanRuntime,
    signal: AbortSignal,
  ): Promise<PlanRunOutcome> {
    const spec = { kind: 'plan-run' as const, plan, trigger, ...maintenanceTimes(runtime) };
    // Locked: the run opens the key file itself if it can (no passphrase), else it fails as "key locked".
    const key = plan.encryption && this.options.unlockedKey?.(plan.encryption.keyFingerprint);
    const remote = plan.offsite && this.options.remoteAccess?.(plan.offsite.remote);
    const job = this.options.engine.start(
      spec,
      `Plan “${plan.name}”: backup of ${plan.sources.map((s) => s.path).join(', ')}`,
      plan.store,
      key ? [key] : undefined,
      remote || undefined,
    );
    signal.addEventListener('abort', () => this.options.engine.cancel(job.id), { once: true });
    return outcomeOfJob(await this.options.engine.whenDone(job.id), trigger);
  }
}

type MaintenanceTimes = Pick<PlanRuntime, 'lastGcAt' | 'lastFullVerifyAt' | 'maintenanceFrom' | 'lastAttemptAt'>;

function maintenanceTimes(runtime: PlanRuntime): MaintenanceTimes {
  const { lastGcAt, lastFullVerifyAt, maintenanceFrom, lastAttemptAt } = runtime;
  return { lastGcAt, lastFullVerifyAt, maintenanceFrom, lastAttemptAt };
}

/**
 * The run a finished plan-run job stands for, as the scheduler records it. A run that failed after its backup
 * keeps the snapshot and what it left out, as a headless run records them.
 */
export function outcomeOfJob(job: JobState, trigger: RunTrigger): PlanRunOutcome {
  const times = { startedAt: job.startedAt, endedAt: job.endedAt ?? Date.now(), trigger };
  if (job.status === 'cancelled') return { run: { ...times, status: 'cancelled' }, storeMissing: false };
  const failed = job.status === 'failed' || job.result?.kind !== 'plan-run';
  const error = failed ? { error: job.error?.message ?? 'the run failed' } : {};
  const run: PlanRun = { ...times, status: failed ? 'failed' : 'succeeded', ...error };
  if (job.result?.kind !== 'plan-run') return { run, storeMissing: job.error?.code === 'STORE_MISSING' };
  const { kind: _kind, plan: _plan, gcAt, fullVerifyAt, ...fields } = job.result;
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) Object.assign(run, { [key]: value });
  const leftOut = leftOutOfJob(job);
  if (leftOut.length > 0) run.leftOutNamed = leftOut.slice(0, LEFT_OUT_RECORDED);
  return { run, storeMissing: false, leftOut, gcAt, fullVerifyAt };
}

/** The entries a plan-run job could not read: its problems, after the damage a verify found (runProblems). */
function leftOutOfJob(job: JobState): LeftOutEntry[] {
  if (job.result?.kind !== 'plan-run' || !job.result.leftOut) return [];
  const problems = job.problems ?? [];
  return problems.slice(job.result.verify === 'damaged' ? 1 : 0).map((p) => ({ path: p.path, reason: p.message }));
}
