import { shortFingerprint } from '../crypto/fingerprint.js';
import { formatAgo, formatTime, plural } from '../../contract/format.js';
import { KEEP_RULES, type KeepOptions } from '../../contract/keep-rules.js';
import { describePlanRun, PLAN_STATE_WORDS } from '../../contract/plan-summary.js';
import {
  planExcludes,
  type Maintenance,
  type NotifyLevel,
  type Plan,
  type PlanRun,
  type PlanStatus,
} from '../../contract/plans.js';
import { describeSchedule } from '../plans/schedule.js';
import { table } from './format.js';

/** How `cairn plan` shows plans: their settings, where they stand, their runs. */

export function planTitle(plan: Plan): string {
  return `"${plan.name}" (id ${plan.id})`;
}

/** Every setting of a plan, one row each. */
export function settingRows(plan: Plan): string[][] {
  const sources = plan.sources.map((s) => `${s.kind === 'image' ? 'disk image' : 'folder'} ${s.path}`);
  return [
    // One row per source, the label on the first.
    ...(sources.length > 0 ? sources : ['-']).map((s, i) => [
      i > 0 ? '' : sources.length > 1 ? 'sources' : 'source',
      s,
    ]),
    ['store', plan.store],
    ['group', `host/${plan.groupId}`],
    ['schedule', `${describeSchedule(plan.schedule)}${plan.paused ? ' (paused)' : ''}`],
    ['excludes', excludesText(plan)],
    ['retention', retentionText(plan.retention)],
    ['maintenance', maintenanceText(plan.maintenance)],
    ['battery', plan.conditions.skipOnBattery ? 'scheduled runs wait for mains power' : 'runs on battery too'],
    ['off-site', offsiteText(plan)],
    ['encryption', encryptionText(plan)],
    ['notify', NOTIFY_WORDS[plan.notify]],
  ];
}

function offsiteText(plan: Plan): string {
  if (!plan.offsite) return 'none (--push-to REMOTE sends each backup off site)';
  const metered = plan.conditions.skipPushOnMetered ? ', waits while the network is metered' : '';
  return `pushed to ${plan.offsite.remote} after each backup (there: ${retentionText(plan.offsite.retention)})${metered}`;
}

function encryptionText(plan: Plan): string {
  if (!plan.encryption) return 'none (--keyfile FILE or --encrypt encrypts its backups)';
  return `with the key ${shortFingerprint(plan.encryption.keyFingerprint)} (${plan.encryption.keyFile})`;
}

/** Where the plan stands: its state, last success, failures and next run. */
export function statusRows(status: PlanStatus, now: number): string[][] {
  const rows = [
    ['state', PLAN_STATE_WORDS[status.state]],
    ['last success', status.lastSuccessAt === undefined ? 'never' : timeAndAgo(status.lastSuccessAt, now)],
  ];
  if (status.failures > 0) rows.push(['failures', `${status.failures} since the last success`]);
  rows.push(['next run', nextRunText(status.nextRunAt, now)]);
  return rows;
}

/** The plans as a table: one row each. */
export function planTable(entries: { plan: Plan; status: PlanStatus }[], now: number): string {
  const rows = [['NAME', 'ID', 'SOURCE', 'STORE', 'SCHEDULE', 'STATE', 'LAST SUCCESS', 'NEXT RUN']];
  for (const { plan, status } of entries) {
    rows.push([
      plan.name,
      plan.id,
      plan.sources.map((s) => s.path).join(', ') || '-',
      plan.store,
      describeSchedule(plan.schedule),
      PLAN_STATE_WORDS[status.state],
      status.lastSuccessAt === undefined ? 'never' : formatTime(status.lastSuccessAt / 1000),
      nextRunText(status.nextRunAt, now),
    ]);
  }
  return table(rows);
}

/** A plan's runs, newest first. */
export function runTable(runs: PlanRun[]): string {
  return indent([
    ['STARTED', 'TRIGGER', 'RESULT'],
    ...runs.map((r) => [formatTime(r.startedAt / 1000), r.trigger, describePlanRun(r)]),
  ]);
}

export function nextRunText(at: number | undefined, now: number): string {
  if (at === undefined) return '-';
  return at <= now ? 'due now' : formatTime(at / 1000);
}

export function indent(rows: string[][]): string {
  return table(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function timeAndAgo(at: number, now: number): string {
  return `${formatTime(at / 1000)} (${formatAgo(now - at)})`;
}

function excludesText(plan: Plan): string {
  const parts = [];
  if (plan.excludePresets.length > 0) parts.push(`presets ${plan.excludePresets.join(', ')}`);
  if (plan.excludes.length > 0) parts.push(`patterns ${plan.excludes.join(' ')}`);
  if (parts.length === 0) return 'none (.cairnignore files still apply)';
  return `${parts.join('; ')} (${plural(planExcludes(plan).length, 'pattern')} in all)`;
}

function retentionText(keep: KeepOptions): string {
  const rules = KEEP_RULES.filter(({ option }) => (keep[option] ?? 0) > 0).map(
    ({ rule, option }) => `${rule} ${keep[option]}`,
  );
  return rules.length === 0 ? 'every snapshot is kept' : `keep ${rules.join(', ')}`;
}

function maintenanceText(m: Maintenance): string {
  return [
    m.gcEveryDays > 0 ? `GC every ${days(m.gcEveryDays)}` : 'no GC',
    m.fullVerifyEveryDays > 0 ? `full verify every ${days(m.fullVerifyEveryDays)}` : 'no full verify',
    m.verifyNew ? 'each new snapshot verified' : 'new snapshots not verified at once',
  ].join(', ');
}

function days(n: number): string {
  return n === 1 ? 'day' : `${n} days`;
}

const NOTIFY_WORDS: Record<NotifyLevel, string> = {
  off: 'never',
  failures: 'when it fails and when it works again',
  all: 'after every run',
};
