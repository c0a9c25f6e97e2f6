import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatTime } from '../../contract/format.js';
import { planRunDetails } from '../../contract/plan-summary.js';
import { planExcludes, type Plan, type PlanInput, type PlanStatus } from '../../contract/plans.js';
import { CairnError } from '../errors.js';
import { cairnConfigDir } from '../plans/config-dir.js';
import { PlanBook } from '../plans/plan-book.js';
import type { PlanRunOutcome } from '../plans/plan-run.js';
import { PlanRuntimeFile, type PlanRuntime } from '../plans/plan-runtime.js';
import { RunHistory } from '../plans/run-history.js';
import { pausedStatus, planStatus, upcomingRuns } from '../scheduler/plan-timing.js';
import { recordRun } from '../scheduler/record-run.js';
import { applyChanges, changesAnything, parsePlanFlags, pauseDurationMs, type PlanFlags } from './plan-options.js';
import { PlansPause } from '../plans/plans-pause.js';
import { indent, nextRunText, planTable, planTitle, runTable, settingRows, statusRows } from './plan-text.js';
import { need, type CommandContext } from './store-commands.js';
import { UsageError } from './usage-error.js';
import { leftOutExit } from './left-out-exit.js';

/**
 * `cairn plan add|list|show|edit|remove|run`: the backup plans in the user's config folder (cairnConfigDir,
 * $CAIRN_CONFIG_DIR in tests), the same file the app and the scheduler read. `plan run` runs a plan in this
 * process and records the run exactly as the scheduler does (recordRun).
 */

export interface PlanCommandContext extends Omit<CommandContext, 'values'> {
  values: PlanFlags & { json?: boolean };
}

type PlanCommand = (args: string[], ctx: PlanCommandContext) => Promise<number>;

interface PlanFiles {
  book: PlanBook;
  runtime: PlanRuntimeFile;
  history: RunHistory;
}

function planFiles(): PlanFiles {
  const dir = cairnConfigDir();
  return { book: new PlanBook(dir), runtime: new PlanRuntimeFile(dir), history: new RunHistory(dir) };
}

/** Exactly `count` arguments: a name with spaces typed without quotes would otherwise lose its tail. */
function exactly(args: string[], count: number, what: string): void {
  if (args.length > count)
    throw new UsageError(`unexpected ${JSON.stringify(args[count])} after ${what} (quote a name with spaces)`);
}

function statusOf(files: PlanFiles, plan: Plan, runtime: PlanRuntime, now: number): PlanStatus {
  const status = planStatus(plan, runtime, files.history.runs(plan.id), now, false);
  const pause = new PlansPause(cairnConfigDir()).current(now);
  return pause ? pausedStatus(status, pause) : status;
}

/** The settings and where the plan stands, after add and edit. */
function planReport(verb: string, plan: Plan, status: PlanStatus, now: number): string {
  return `${verb} plan ${planTitle(plan)}\n${indent([...settingRows(plan), ['next run', nextRunText(status.nextRunAt, now)]])}`;
}

/** What a plan's paths look like now: not refused (a drive may be unplugged), but said. */
function warnAboutPaths(plan: Plan, ctx: PlanCommandContext): void {
  if (!existsSync(join(plan.store, '.chunks')))
    ctx.warn(
      `there is no datastore at ${plan.store} (yet): 'cairn init ${plan.store}' makes one; on a drive that is not plugged in, runs wait for it`,
    );
  for (const source of plan.sources)
    if (!existsSync(source.path)) ctx.warn(`${source.path} does not exist: the plan's runs fail until it does`);
}

const add: PlanCommand = async (args, ctx) => {
  const name = need(args, 0, '<name>');
  exactly(args, 1, 'the plan name');
  const changes = parsePlanFlags(ctx.values);
  const { sources, store } = changes.input;
  if (!sources)
    throw new UsageError('plan add needs --source <folder> (or --source <file> --image, or --source-image <file>)');
  if (store === undefined) throw new UsageError('plan add needs --store <store>');
  const files = planFiles();
  const input: PlanInput = { ...applyChanges(changes), name, sources, store };
  const plan = files.book.add(input);
  warnAboutPaths(plan, ctx);
  const now = Date.now();
  const status = statusOf(files, plan, { failures: 0 }, now);
  ctx.print({ plan, status }, planReport('Added', plan, status, now));
  return 0;
};

const edit: PlanCommand = async (args, ctx) => {
  const ref = need(args, 0, '<plan>');
  exactly(args, 1, 'the plan');
  const changes = parsePlanFlags(ctx.values);
  if (!changesAnything(changes))
    throw new UsageError('plan edit needs a setting to change, e.g. --daily 03:00, --keep-last 7 or --pause');
  const files = planFiles();
  const before = files.book.get(ref);
  const plan = files.book.edit(before.id, (old) => applyChanges(changes, old));
  if (changes.input.sources || changes.input.store) warnAboutPaths(plan, ctx);
  warnAboutMovedSource(before, plan, ctx);
  const now = Date.now();
  const status = statusOf(files, plan, files.runtime.get(plan.id), now);
  ctx.print({ plan, status }, planReport('Changed', plan, status, now));
  return 0;
};

/**
 * The group records the sources it backs up. Sources changed through the plan count as the same data moved
 * (the plan keeps the former ones in formerSources): say that the next run moves the group on.
 */
function warnAboutMovedSource(before: Plan, after: Plan, ctx: PlanCommandContext): void {
  const [was, now] = [pathsText(before), pathsText(after)];
  if (before.sources.length === 0 || was === now || before.store !== after.store) return;
  ctx.warn(
    `the next run backs up ${now} into host/${after.groupId}, whose snapshots so far are of ${was} (they stay); ` +
      `if that is other data, not the same moved, give it a plan of its own instead`,
  );
}

/** A plan's source paths in words, sorted: the order they are listed in does not matter. */
function pathsText(plan: Plan): string {
  return plan.sources
    .map((s) => s.path)
    .sort()
    .join(', ');
}

const list: PlanCommand = async (args, ctx) => {
  exactly(args, 0, 'plan list');
  const files = planFiles();
  const plans = files.book.list();
  const runtimes = files.runtime.all();
  const now = Date.now();
  const entries = plans.map((plan) => ({
    plan,
    status: statusOf(files, plan, runtimes[plan.id] ?? { failures: 0 }, now),
  }));
  ctx.print(
    entries,
    entries.length === 0
      ? `No backup plans yet (${files.book.file}); 'cairn plan add' makes one.`
      : planTable(entries, now),
  );
  return 0;
};

const SHOWN_RUNS = 10;

const show: PlanCommand = async (args, ctx) => {
  const ref = need(args, 0, '<plan>');
  exactly(args, 1, 'the plan');
  const files = planFiles();
  const plan = files.book.get(ref);
  const runtime = files.runtime.get(plan.id);
  const runs = files.history.runs(plan.id);
  const now = Date.now();
  const status = planStatus(plan, runtime, runs, now, false);
  const nextRuns = upcomingRuns(plan, runtime, now, 3);
  const excludes = planExcludes(plan);
  const rows = [
    ...settingRows(plan),
    ...(excludes.length > 0 ? [['excluded', excludes.join(' ')]] : []),
    ['created', formatTime(plan.createdAt / 1000)],
    ...statusRows(status, now).filter(([key]) => key !== 'next run'),
    ['next runs', nextRuns.length === 0 ? '-' : nextRuns.map((t) => nextRunText(t, now)).join(', ')],
  ];
  const history =
    runs.length === 0
      ? 'No runs yet.'
      : `Last runs (newest first${runs.length > SHOWN_RUNS ? `, ${SHOWN_RUNS} of ${runs.length}` : ''}):\n${runTable(runs.slice(0, SHOWN_RUNS))}`;
  ctx.print(
    { plan, status, excludes, nextRuns, runtime, runs },
    `Plan ${planTitle(plan)}\n${indent(rows)}\n${history}`,
  );
  return 0;
};

const remove: PlanCommand = async (args, ctx) => {
  const ref = need(args, 0, '<plan>');
  exactly(args, 1, 'the plan');
  const files = planFiles();
  const plan = files.book.remove(ref);
  files.runtime.remove(plan.id);
  files.history.remove(plan.id);
  const group = `host/${plan.groupId}`;
  ctx.print(
    { removed: plan, store: plan.store, group, snapshotsKept: true },
    `Removed plan ${planTitle(plan)}, its schedule state and its run history.\n` +
      `Its snapshots stay in ${plan.store} (group ${group}): 'cairn delete-group ${plan.store} ${group}' removes them.`,
  );
  return 0;
};

const run: PlanCommand = async (args, ctx) => {
  const ref = need(args, 0, '<plan>');
  exactly(args, 1, 'the plan');
  const files = planFiles();
  const plan = files.book.get(ref);
  const slot = Date.now();
  const { runPlan } = await import('../plans/plan-run.js');
  const { keyFileProvider } = await import('../plans/plan-key.js');
  const outcome = await runPlan(plan, {
    trigger: 'manual',
    keys: keyFileProvider(process.env),
    runtime: files.runtime.get(plan.id),
    signal: ctx.signal,
    log: { info: () => {}, warn: ctx.warn },
    onPhase: (phase) => {
      if (phase !== 'backup') ctx.progress.status(PHASE_WORDS[phase]);
    },
    onBackupProgress: (p) => ctx.progress.bytes(p, 'phase' in p ? folderLabel(p) : undefined),
  });
  ctx.progress.done();
  recordRun(files, plan, outcome, slot);
  return report(plan, outcome, ctx);
};

const PHASE_WORDS = {
  prune: 'applying retention',
  push: 'sending the off-site copy',
  gc: 'garbage collection',
  verify: 'verifying',
} as const;

function folderLabel(p: { phase: string; filesDone: number; filesTotal: number; currentPath: string }): string {
  return p.phase === 'scanning'
    ? `scanning: ${p.filesTotal} files`
    : `${p.filesDone}/${p.filesTotal} files  ${p.currentPath}`;
}

/**
 * The run's result: a line on success (exit code 3 if it left entries out); on failure a one-line error (exit
 * code 1; 130 when cancelled).
 */
function report(plan: Plan, outcome: PlanRunOutcome, ctx: PlanCommandContext): number {
  const { run } = outcome;
  if (outcome.storeMissing)
    throw new CairnError(
      'NOT_FOUND',
      `the store of plan "${plan.name}" is not there: ${run.error ?? plan.store} (an unplugged drive? 'cairn init' makes a new store)`,
    );
  if (run.status === 'succeeded') {
    ctx.print(run, `Plan "${plan.name}" backed up: ${planRunDetails(run)}`);
    return leftOutExit(run.leftOut ?? 0, ctx);
  }
  if (ctx.values.json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  throw new CairnError(
    run.status === 'cancelled' ? 'CANCELLED' : 'IO',
    `plan "${plan.name}" ${run.status === 'cancelled' ? 'was cancelled' : 'failed'}: ${run.error ?? 'no reason given'}`,
  );
}

const pauseAll: PlanCommand = async (args, ctx) => {
  exactly(args, 0, 'plan pause-all');
  const forText = (ctx.values as { for?: string }).for;
  const until = forText === undefined ? undefined : Date.now() + pauseDurationMs(forText);
  const pause = new PlansPause(cairnConfigDir()).pause(until);
  ctx.print(
    { pause },
    until === undefined
      ? "No plan starts by its schedule until 'cairn plan resume-all' (runs started by hand still run)."
      : `No plan starts by its schedule until ${formatTime(until / 1000)} (runs started by hand still run).`,
  );
  return 0;
};

const resumeAll: PlanCommand = async (args, ctx) => {
  exactly(args, 0, 'plan resume-all');
  new PlansPause(cairnConfigDir()).resume();
  ctx.print({ pause: null }, 'Plans run by their schedules again (a plan that was due runs now).');
  return 0;
};

/** Sub-command → handler, for `cairn plan <sub-command>`. */
export const PLAN_COMMANDS: ReadonlyMap<string, PlanCommand> = new Map([
  ['add', add],
  ['list', list],
  ['show', show],
  ['edit', edit],
  ['remove', remove],
  ['run', run],
  ['pause-all', pauseAll],
  ['resume-all', resumeAll],
]);
