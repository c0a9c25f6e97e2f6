import type { JobSpec, RepairGroup } from '../contract/jobs.js';
import { runPlan, type PlanRunOutcome, type PlanRunPhase } from '../core/plans/plan-run.js';
import type { Plan } from '../contract/plans.js';
import { CairnError } from '../core/errors.js';
import { AppError } from './app-errors.js';
import type { JobContext } from './job-runners.js';
import { JobFailedAfterWork, type JobOutcome } from './job-outcome.js';
import { leftOutProblems } from './left-out-problems.js';
import type { LeftOutEntry } from '../core/archive/left-out.js';
import { backupProgress } from './job-progress.js';
import { keyFileProvider, planKeyLocked, type PlanKeyProvider } from '../core/plans/plan-key.js';
import { readKeyFile } from '../core/crypto/key-file.js';
import type { RemoteLookup } from '../core/remote/remote-book.js';
import { pushProgress } from './remote-progress.js';
import type { RemoteAccess } from './host-remotes.js';

/** What a plan's card says it is doing between backup progress reports. */
const PHASE_WORDS: Record<PlanRunPhase, string> = {
  backup: 'scanning',
  prune: 'applying the plan’s retention',
  push: 'sending the off-site copy',
  gc: 'collecting garbage',
  verify: 'verifying',
};

/**
 * The app's plan keys: the unlocked key the host handed the job, else the key file if it has no passphrase;
 * a locked key with a passphrase fails the run as "key locked" (the app never reads $CAIRN_PASSPHRASE).
 */
function appPlanKeys(ctx: JobContext): PlanKeyProvider {
  const fromFile = keyFileProvider({});
  return async (plan, encryption) => {
    const unlocked = ctx.keys?.find((k) => k.fingerprint() === encryption.keyFingerprint);
    if (unlocked) return unlocked;
    if (readKeyFile(encryption.keyFile).kdf !== null)
      throw planKeyLocked(plan, encryption, 'it is locked: unlock it in the app (Keys), or remember it there');
    return fromFile(plan, encryption);
  };
}

/**
 * The plan's remote as the host handed it (credentials sealed by the OS keychain reach the job only so); none
 * handed: the run looks in the config folder, as a headless run does.
 */
function handedRemote(ctx: JobContext): RemoteLookup | undefined {
  const access = ctx.remote;
  if (!access) return undefined;
  const same = (name: string): RemoteAccess => {
    if (name !== access.remote.name)
      throw new AppError('INTERNAL', `the run was handed the remote ${access.remote.name}, not ${name}`);
    return access;
  };
  return { get: (name) => same(name).remote, credentials: (name) => same(name).credentials };
}

/**
 * One run of a plan on the job's thread. A failed run fails the job with the run's error (its card and the
 * scheduler both read it there); a store that is not there fails it as STORE_MISSING, which the scheduler
 * takes as "wait for the drive", not as a failure.
 */
export async function runPlanJob(spec: Extract<JobSpec, { kind: 'plan-run' }>, ctx: JobContext): Promise<JobOutcome> {
  const outcome = await runPlan(spec.plan, {
    trigger: spec.trigger,
    runtime: {
      failures: 0,
      lastGcAt: spec.lastGcAt,
      lastFullVerifyAt: spec.lastFullVerifyAt,
      maintenanceFrom: spec.maintenanceFrom,
      lastAttemptAt: spec.lastAttemptAt,
    },
    signal: ctx.signal,
    log: ctx.log,
    onPhase: (phase) => ctx.onProgress({ phase: PHASE_WORDS[phase] }),
    onBackupProgress: (p) => ctx.onProgress(backupProgress(p)),
    onPushProgress: (p, requests) => ctx.onProgress(pushProgress(p, requests, PHASE_WORDS.push)),
    remotes: handedRemote(ctx),
    keys: appPlanKeys(ctx),
  });
  const { run } = outcome;
  if (outcome.storeMissing)
    throw new AppError('STORE_MISSING', run.error ?? `the store ${spec.plan.store} is not there`);
  if (run.status === 'cancelled') throw new CairnError('CANCELLED', 'cancelled');
  const done = planRunOutcome(spec.plan, outcome);
  // A run that fails after its backup (the off-site copy, a GC) keeps what it did: the snapshot and what it left out.
  if (run.status === 'failed')
    throw new JobFailedAfterWork(
      new AppError('INTERNAL', run.error ?? 'the run failed'),
      run.snapshot ? done : undefined,
    );
  return done;
}

function planRunOutcome(plan: Plan, { run, leftOut, gcAt, fullVerifyAt }: PlanRunOutcome): JobOutcome {
  return {
    result: {
      kind: 'plan-run',
      plan: plan.name,
      snapshot: run.snapshot,
      files: run.files,
      bytes: run.bytes,
      newBytes: run.newBytes,
      pruned: run.pruned,
      gc: run.gc,
      verify: run.verify,
      warnings: run.warnings,
      leftOut: run.leftOut,
      gcAt,
      fullVerifyAt,
      offsite: run.offsite,
      pushed: run.pushed,
    },
    ...runProblems(run.verify === 'damaged' ? damagedGroup(plan) : undefined, run.leftOut, leftOut),
  };
}

/** The plan's group as a verify that found it damaged names it, with the sources a new run backs up anew. */
function damagedGroup(plan: Plan): RepairGroup {
  return { group: `host/${plan.groupId}`, source: plan.sources.map((s) => s.path).join(', ') };
}

/**
 * What a run's card asks the user to act on: a group its verify found damaged (first: the graver), then the
 * entries it could not read (host-plans.ts's outcomeOfJob takes them from there).
 */
function runProblems(
  damaged: RepairGroup | undefined,
  leftOut: number | undefined,
  named: readonly LeftOutEntry[] | undefined,
): Omit<JobOutcome, 'result'> {
  const left = leftOutProblems(leftOut ?? 0, named);
  if (!damaged) return left;
  return {
    problems: [{ path: damaged.group, message: 'verify found damaged or missing chunks' }, ...(left.problems ?? [])],
    problemCount: 1 + (left.problemCount ?? 0),
    advice: { kind: 'verify', groups: [damaged], ...(left.advice ? { leftOut: true } : {}) },
  };
}
