import { Cron } from 'croner';
import { WEEKDAYS, type Schedule } from '../../contract/plans.js';
import { CairnError } from '../errors.js';

/**
 * When a plan's schedule falls due. Wall-clock schedules (daily, weekly, calendar) are cron patterns evaluated
 * by croner in the computer's time zone, which handles DST: a time that does not exist on the spring-forward
 * day runs at the first minute after the gap, an hour that happens twice in autumn runs once. Intervals count
 * from the start of the last run, so they neither drift nor burst.
 */

const MINUTE_MS = 60_000;

/** The cron pattern of a wall-clock schedule; undefined for manual and interval schedules. */
export function cronPattern(schedule: Schedule): string | undefined {
  switch (schedule.kind) {
    case 'daily':
      return `${minuteHour(schedule.at)} * * *`;
    case 'weekly':
      return `${minuteHour(schedule.at)} * * ${[...new Set(schedule.days)].join(',')}`;
    case 'calendar':
      return schedule.expression;
    default:
      return undefined;
  }
}

function minuteHour(at: string): string {
  const [hour, minute] = at.split(':').map(Number);
  return `${minute} ${hour}`;
}

/** Throws INVALID_ARGUMENT with croner's reason when a calendar expression is not a 5-field cron pattern. */
export function assertValidSchedule(schedule: Schedule): void {
  if (schedule.kind !== 'calendar') return;
  const fields = schedule.expression.trim().split(/\s+/);
  if (!schedule.expression.startsWith('@') && fields.length !== 5) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `the calendar expression "${schedule.expression}" has ${fields.length} fields; cron has 5: minute hour day-of-month month day-of-week (e.g. "30 2 * * 1-5")`,
    );
  }
  try {
    if (!compile(schedule.expression).nextRun()) throw new Error('it never falls due');
  } catch (err) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `the calendar expression "${schedule.expression}" is not valid: ${(err as Error).message}`,
    );
  }
}

function compile(pattern: string): Cron {
  return new Cron(pattern, { paused: true, mode: '5-part' });
}

const compiled = new Map<string, Cron>();
function cronOf(pattern: string): Cron {
  let cron = compiled.get(pattern);
  if (!cron) {
    cron = compile(pattern);
    compiled.set(pattern, cron);
  }
  return cron;
}

/** The first time the schedule falls due strictly after `after` (epoch ms); undefined for manual plans. */
export function nextSlotAfter(schedule: Schedule, after: number): number | undefined {
  if (schedule.kind === 'manual') return undefined;
  if (schedule.kind === 'interval') return after + intervalMs(schedule);
  const pattern = cronPattern(schedule);
  const next = pattern ? cronOf(pattern).nextRun(new Date(after)) : null;
  return next ? next.getTime() : undefined;
}

export function intervalMs(schedule: Extract<Schedule, { kind: 'interval' }>): number {
  return schedule.every * (schedule.unit === 'hours' ? 60 : 1) * MINUTE_MS;
}

/**
 * The usual time between two runs, for the overdue rule (a plan whose last success is older than twice this
 * is overdue): the longest gap between the next few slots, so a weekday schedule's weekend is not overdue.
 */
export function typicalGapMs(schedule: Schedule, now: number): number | undefined {
  if (schedule.kind === 'manual') return undefined;
  if (schedule.kind === 'interval') return intervalMs(schedule);
  let longest = 0;
  let slot = nextSlotAfter(schedule, now);
  for (let i = 0; i < 8 && slot !== undefined; i++) {
    const next = nextSlotAfter(schedule, slot);
    if (next === undefined) break;
    longest = Math.max(longest, next - slot);
    slot = next;
  }
  return longest || undefined;
}

/** The schedule in words, for lists and the plan editor: "every 30 minutes", "daily at 03:30", … */
export function describeSchedule(schedule: Schedule): string {
  switch (schedule.kind) {
    case 'manual':
      return 'only when started by hand';
    case 'interval':
      return `every ${schedule.every} ${schedule.every === 1 ? schedule.unit.slice(0, -1) : schedule.unit}`;
    case 'daily':
      return `daily at ${schedule.at}`;
    case 'weekly':
      return `${orderedDays(schedule.days).join(', ')} at ${schedule.at}`;
    case 'calendar':
      return `at "${schedule.expression}" (cron)`;
  }
}

function orderedDays(days: readonly string[]): string[] {
  return WEEKDAYS.filter((d) => days.includes(d)).map((d) => d[0]!.toUpperCase() + d.slice(1));
}
