import { formatAgo, formatIn, formatTime, plural } from '../../contract/format.js';
import { KEEP_RULES, type KeepOptions } from '../../contract/keep-rules.js';
import type { Plan, PlanRun, PlanStatus, RunTrigger } from '../../contract/plans.js';

/** How a state's badge looks: its words, its colour, and a sentence on what it means. */
export interface StateBadge {
  text: string;
  tone: 'ok' | 'busy' | 'danger' | 'warn' | 'quiet';
  title: string;
}

/** A plan's state in words, as its badge shows it. */
export function stateBadge(status: PlanStatus): StateBadge {
  switch (status.state) {
    case 'ok':
      return { text: 'OK', tone: 'ok', title: 'The last run succeeded.' };
    case 'running':
      return { text: 'Running…', tone: 'busy', title: 'A run is under way; its card is in Tasks.' };
    case 'failing':
      return {
        text: `Failing: ${plural(status.failures, 'failed run')}`,
        tone: 'danger',
        title: 'The last run failed; it is tried again after a few minutes, at most 2 hours later.',
      };
    case 'overdue':
      return {
        text: 'Overdue',
        tone: 'warn',
        title: 'No successful backup for twice the usual time between runs.',
      };
    case 'incomplete':
      return {
        text: `Incomplete: ${plural(status.leftOut?.count ?? 0, 'entry', 'entries')} left out`,
        tone: 'warn',
        title:
          'The last run made its snapshot, but could not read some files or folders: they are not in it. The card names them.',
      };
    case 'waiting-store':
      return {
        text: 'Waiting: drive not connected',
        tone: 'warn',
        title: 'The datastore is not there (an unplugged drive?); the plan runs as soon as it is back.',
      };
    case 'waiting-power':
      return {
        text: 'Waiting for mains power',
        tone: 'quiet',
        title: 'The plan skips scheduled runs on battery; it runs once the computer is plugged in.',
      };
    case 'paused':
      return { text: 'Paused', tone: 'quiet', title: 'Runs only when started with “Back up now”.' };
    case 'new':
      return { text: 'New: not run yet', tone: 'quiet', title: 'The plan has not run yet.' };
  }
}

const TRIGGERS: Record<RunTrigger, string> = { schedule: 'Schedule', retry: 'Retry', manual: 'By hand' };

export function triggerText(trigger: RunTrigger): string {
  return TRIGGERS[trigger];
}

export const RESULT_TEXT: Record<PlanRun['status'], string> = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What maintenance a run did after its backup: "GC, verified", "verify found damage", or nothing. */
export function maintenanceText(run: PlanRun): string {
  const parts: string[] = [];
  if (run.gc) parts.push('GC');
  if (run.verify) parts.push(run.verify === 'ok' ? 'verified' : 'verify found damage');
  return parts.join(', ');
}

/**
 * A moment relative to now and as a local time: "5 min ago (2026-11-24 21:03:07)", or for one to come "in 5 min".
 * The window's clock moves on in steps, so a past moment may look a little ahead of it: it is "just now" then.
 */
export function whenText(
  epochMs: number,
  now: number,
  direction: 'past' | 'future',
): { relative: string; absolute: string } {
  const relative = direction === 'past' ? formatAgo(Math.max(0, now - epochMs)) : formatIn(Math.max(0, epochMs - now));
  return { relative, absolute: formatTime(epochMs / 1000) };
}

/** The keep rules in words: "keep everything", or "last 3, 7 daily, 4 weekly". */
export function retentionText(keep: KeepOptions): string {
  const parts = KEEP_RULES.flatMap(({ rule, option }) => {
    const n = keep[option];
    return n ? [rule === 'last' ? `the last ${n}` : `${n} ${rule}`] : [];
  });
  return parts.length === 0 ? 'Keep every snapshot' : `Keep ${parts.join(', ')}`;
}

/** The plan's care of its store, in words. */
export function careText(plan: Plan): string {
  const m = plan.maintenance;
  return [
    m.gcEveryDays > 0 ? `Garbage collection every ${plural(m.gcEveryDays, 'day')}` : 'No garbage collection',
    m.verifyNew ? 'each new snapshot verified' : undefined,
    m.fullVerifyEveryDays > 0 ? `full verify every ${plural(m.fullVerifyEveryDays, 'day')}` : 'no full verify',
    plan.conditions.skipOnBattery ? 'waits for mains power' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
}

export const NOTIFY_TEXT: Record<Plan['notify'], string> = {
  off: 'Off',
  failures: 'Failures, recoveries and overdue',
  all: 'Every run',
};

/** Text that starts a line or a cell: its first letter upper case ("daily at 03:00" → "Daily at 03:00"). */
export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
