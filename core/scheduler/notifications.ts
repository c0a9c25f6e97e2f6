import { formatBytes, plural } from '../../contract/format.js';
import type { Plan, PlanRun } from '../../contract/plans.js';
import type { PlanRuntime } from '../plans/plan-runtime.js';

/** A desktop notification about a plan: one per change of its state, never one per tick. */
export interface PlanNotification {
  planId: string;
  kind: 'failed' | 'recovered' | 'overdue' | 'succeeded' | 'damaged' | 'incomplete';
  /** The state it tells of; the plan's `notified` becomes this, so the same state is not told again. */
  state?: 'failing' | 'overdue' | 'ok';
  /** The plan's `leftOutTold` becomes this: a run that left entries out was told (true), or the whole one after (false). */
  leftOutTold?: boolean;
  title: string;
  body: string;
}

/**
 * What a finished run tells the user, by the plan's level: 'failures' tells of the first failure after a
 * success, of the first run that left entries out, and of the recovery after either (or after being overdue);
 * 'all' also of every success; 'off' nothing. Retries that fail again, and runs that leave entries out again,
 * say nothing new.
 */
export function notificationFor(plan: Plan, runtime: PlanRuntime, run: PlanRun): PlanNotification | undefined {
  if (plan.notify === 'off' || run.status === 'cancelled') return undefined;
  const base = { planId: plan.id };
  if (run.status === 'failed') {
    if (runtime.notified === 'failing') return undefined;
    return {
      ...base,
      kind: 'failed',
      state: 'failing',
      title: `Backup "${plan.name}" failed`,
      body: `${asSentence(run.error ?? 'The run failed')} ${whenAgain(plan)}`,
    };
  }
  if (run.verify === 'damaged') {
    return {
      ...base,
      kind: 'damaged',
      title: `Verify found damage in "${plan.name}"`,
      body: `Snapshots of host/${plan.groupId} have damaged or missing chunks; the task's log names them. Verify the store, then back up again.`,
    };
  }
  const recovering = runtime.notified === 'failing' || runtime.notified === 'overdue';
  if (run.leftOut) {
    // Told once per stretch of such runs; one after failures is told again: it is the news that backups run.
    if (runtime.leftOutTold && !recovering && plan.notify !== 'all') return undefined;
    return { ...base, kind: 'incomplete', state: 'ok', leftOutTold: true, ...leftOutText(plan, run) };
  }
  if (recovering || runtime.leftOutTold) {
    return {
      ...base,
      kind: 'recovered',
      state: 'ok',
      leftOutTold: false,
      title: recovering ? `Backup "${plan.name}" works again` : `Backup "${plan.name}" is complete again`,
      body: runSummary(run),
    };
  }
  if (plan.notify !== 'all') return undefined;
  return { ...base, kind: 'succeeded', state: 'ok', title: `Backup "${plan.name}" finished`, body: runSummary(run) };
}

/** What happens next after a failed run: a plan that runs by itself is retried (plan-timing.ts), others not. */
function whenAgain(plan: Plan): string {
  if (plan.paused) return 'The plan is paused: it runs again when you resume it or back it up by hand.';
  return plan.schedule.kind === 'manual' ? 'It runs again when you start it.' : 'Cairn tries again later.';
}

/** The entries a run could not read, the first by name: "Could not read 2 entries (docs/a: permission denied, …)". */
function leftOutText(plan: Plan, run: PlanRun): { title: string; body: string } {
  const first = run.leftOutNamed?.[0];
  const example = first ? ` (${first.path}: ${first.reason}${run.leftOut! > 1 ? ', …' : ''})` : '';
  return {
    title: `Backup "${plan.name}" left files out`,
    body: `Could not read ${plural(run.leftOut!, 'entry', 'entries')}${example}; the snapshot holds everything else.`,
  };
}

function runSummary(run: PlanRun): string {
  const parts = [run.snapshot ? `Snapshot ${run.snapshot}` : 'Backed up'];
  if (run.files !== undefined) parts.push(plural(run.files, 'file'));
  if (run.newBytes !== undefined) parts.push(`${formatBytes(run.newBytes)} new`);
  return `${parts.join(', ')}.`;
}

/** An error message as a sentence of a notification: it ends with a full stop ("…: no such file or folder."). */
function asSentence(text: string): string {
  return /[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`;
}
