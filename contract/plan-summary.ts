import { formatBytes, formatDuration, plural } from './format.js';
import type { PlanRun, PlanState } from './plans.js';

/**
 * A plan's runs and states in words, for the scheduler's log, `cairn plan` and the app: one copy of the wording.
 */

/** A finished run in one line: "succeeded in 3 s: host/Docs/2026-…, 12 files (1.2 MiB), 4 KiB new" or why not. */
export function describePlanRun(run: PlanRun): string {
  const took = formatDuration((run.endedAt - run.startedAt) / 1000);
  if (run.status !== 'succeeded') return `${run.status} after ${took}${run.error ? `: ${run.error}` : ''}`;
  return `succeeded in ${took}: ${planRunDetails(run)}`;
}

/** What a successful run made and did after the backup. */
export function planRunDetails(run: PlanRun): string {
  const parts = [run.snapshot ?? 'no snapshot'];
  if (run.files !== undefined)
    parts.push(`${plural(run.files, 'file')}${run.bytes !== undefined ? ` (${formatBytes(run.bytes)})` : ''}`);
  else if (run.bytes !== undefined) parts.push(formatBytes(run.bytes));
  if (run.newBytes !== undefined) parts.push(`${formatBytes(run.newBytes)} new`);
  if (run.pruned) parts.push(`${plural(run.pruned, 'old snapshot')} pruned`);
  if (run.gc) parts.push('garbage collected');
  if (run.verify) parts.push(run.verify === 'ok' ? 'verified' : 'VERIFY FOUND DAMAGE');
  if (run.leftOut) parts.push(leftOutWords(run.leftOut));
  if (run.warnings) parts.push(plural(run.warnings, 'warning'));
  return parts.join(', ');
}

/** "2 entries could not be read (not in the snapshot)": a run's or a backup's left-out entries, one wording. */
export function leftOutWords(count: number): string {
  return `${plural(count, 'entry', 'entries')} could not be read (not in the snapshot)`;
}

export const PLAN_STATE_WORDS: Record<PlanState, string> = {
  paused: 'paused',
  running: 'running',
  'waiting-store': 'waiting for its store',
  'waiting-power': 'waiting for mains power',
  failing: 'failing',
  overdue: 'overdue',
  incomplete: 'incomplete',
  ok: 'ok',
  new: 'not run yet',
};
