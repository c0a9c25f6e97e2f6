import { formatTime } from '../contract/format.js';
import { jobFraction } from '../contract/job-fraction.js';
import type { JobState } from '../contract/jobs.js';
import { needsAttention, type PauseAll, type PlanView } from '../contract/plans.js';

/** What the tray shows: the plans, the running jobs, "Pause all", and why the plans cannot be read, if so. */
export interface TrayView {
  plans: PlanView[];
  running: JobState[];
  pauseAll?: PauseAll;
  problem?: string;
  now: number;
}

/** The tray icon's three looks. */
export type TrayState = 'idle' | 'running' | 'attention';

export interface TrayStatus {
  state: TrayState;
  /** The first line, at the head of the tray menu. */
  headline: string;
  tooltip: string;
}

/** Longer lines are cut: a tooltip has room for about 127 characters on Windows. */
const MAX_LINE = 60;

/** Running wins over attention (it is what happens now); a plan that needs attention still gets its line. */
export function trayStatus(view: TrayView): TrayStatus {
  const attention = attentionLine(view);
  const lines = [runningLine(view.running), attention].filter((l): l is string => l !== undefined);
  if (lines.length === 0) lines.push(idleLine(view));
  const state: TrayState = view.running.length > 0 ? 'running' : attention ? 'attention' : 'idle';
  const cut = lines.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE - 1)}…` : l));
  return { state, headline: cut[0]!, tooltip: ['Cairn', ...cut].join('\n') };
}

function runningLine(running: JobState[]): string | undefined {
  const job = running[0];
  if (!job) return undefined;
  const fraction = jobFraction(job);
  const percent = fraction === undefined ? '' : `: ${Math.floor(fraction * 100)}%`;
  const more = running.length > 1 ? ` (+${running.length - 1} more)` : '';
  return `${job.title}${percent}${more}`;
}

function attentionLine(view: TrayView): string | undefined {
  if (view.problem) return view.problem;
  const needy = view.plans.filter((p) => needsAttention(p.status.state));
  if (needy.length > 1) return `${needy.length} plans need attention`;
  const plan = needy[0];
  if (!plan) return undefined;
  const name = `“${plan.plan.name}”`;
  if (plan.status.state === 'failing') return `${name} failed`;
  return plan.status.state === 'overdue' ? `${name} is overdue` : `${name} left files out`;
}

function idleLine(view: TrayView): string {
  if (view.pauseAll) return pauseLine(view.pauseAll, view.now);
  if (view.plans.length === 0) return 'No backup plans';
  const next = view.plans
    .filter((p) => p.status.nextRunAt !== undefined)
    .sort((a, b) => a.status.nextRunAt! - b.status.nextRunAt!)[0];
  return next ? `Next: “${next.plan.name}” ${at(next.status.nextRunAt!, view.now)}` : 'Idle';
}

export function pauseLine(pause: PauseAll, now: number): string {
  return pause.until === undefined ? 'All plans paused' : `All plans paused until ${clock(pause.until, now)}`;
}

/** A plan's state in a few words, for its line in the tray menu. */
export function planWords(view: PlanView, now: number): string {
  const { status } = view;
  switch (status.state) {
    case 'running':
      return 'backing up now';
    case 'paused':
      return status.pauseAll ? 'paused (all plans)' : 'paused';
    case 'waiting-store':
      return 'waiting for its drive';
    case 'waiting-power':
      return 'waiting for mains power';
    case 'failing':
      return status.failures > 1 ? `failed ${status.failures} times` : 'last run failed';
    case 'overdue':
      return 'overdue';
    case 'incomplete':
      return 'last run left files out';
    case 'ok':
    case 'new':
      if (status.nextRunAt !== undefined) return `next ${at(status.nextRunAt, now)}`;
      return view.plan.schedule.kind === 'manual' ? 'by hand' : status.state === 'new' ? 'not run yet' : 'up to date';
  }
}

/** A time to come: "at 14:00" today, "at 2026-12-03 14:00" later, "now" when due. */
function at(ms: number, now: number): string {
  return ms <= now ? 'now' : `at ${clock(ms, now)}`;
}

/** Local time, with the date unless it is today. */
function clock(ms: number, now: number): string {
  const text = formatTime(ms / 1000).slice(0, 16);
  return text.slice(0, 10) === formatTime(now / 1000).slice(0, 10) ? text.slice(11) : text;
}
