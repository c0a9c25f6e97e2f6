// Wall-clock schedules in a zone with DST; set before any Date is made in this file's process.
process.env.TZ = 'Europe/Berlin';
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../../contract/plans.js';
import { assertValidSchedule, describeSchedule, nextSlotAfter, typicalGapMs } from '../../../core/plans/schedule.js';

const local = (s: string) => new Date(s).getTime(); // "2026-03-28T12:00" is local time (Europe/Berlin)
const HOUR = 3_600_000;

function slots(schedule: Schedule, from: string, n: number): string[] {
  const out: string[] = [];
  let t = local(from);
  for (let i = 0; i < n; i++) {
    t = nextSlotAfter(schedule, t)!;
    out.push(new Date(t).toString().slice(0, 24));
  }
  return out;
}

describe('schedules', () => {
  it('daily at a time that does not exist on the spring-forward day runs once, just after the gap', () => {
    expect(slots({ kind: 'daily', at: '02:30' }, '2026-03-28T12:00', 3)).toEqual([
      'Sun Mar 29 2026 03:00:00',
      'Mon Mar 30 2026 02:30:00',
      'Tue Mar 31 2026 02:30:00',
    ]);
  });

  it('daily at an hour that happens twice in autumn runs once that night', () => {
    const times = [local('2026-10-24T12:00')];
    for (let i = 0; i < 3; i++) times.push(nextSlotAfter({ kind: 'daily', at: '02:30' }, times.at(-1)!)!);
    const gaps = times.slice(1).map((t, i) => (t - times[i]!) / HOUR);
    // 14.5 h to the first 02:30 (still summer time), then 25 h over the change, then 24 h.
    expect(gaps).toEqual([14.5, 25, 24]);
  });

  it('weekly on chosen days, in weekday order', () => {
    const s: Schedule = { kind: 'weekly', days: ['wed', 'mon'], at: '09:00' };
    expect(slots(s, '2026-12-02T10:00', 3)).toEqual([
      'Mon Dec 07 2026 09:00:00',
      'Wed Dec 09 2026 09:00:00',
      'Mon Dec 14 2026 09:00:00',
    ]);
    expect(describeSchedule(s)).toBe('Mon, Wed at 09:00');
    // Overdue counts against the longest gap (Wed → Mon: 5 days), not the shortest.
    expect(typicalGapMs(s, local('2026-12-02T10:00'))).toBe(5 * 24 * HOUR);
  });

  it('intervals count from the anchor and ignore the wall clock', () => {
    const s: Schedule = { kind: 'interval', every: 90, unit: 'minutes' };
    expect(nextSlotAfter(s, 1_000)).toBe(1_000 + 90 * 60_000);
    expect(describeSchedule({ kind: 'interval', every: 1, unit: 'hours' })).toBe('every 1 hour');
  });

  it('calendar expressions are cron (5 fields), checked with a reason', () => {
    expect(slots({ kind: 'calendar', expression: '15 */6 * * 1-5' }, '2026-12-04T19:00', 3)).toEqual([
      'Mon Dec 07 2026 00:15:00',
      'Mon Dec 07 2026 06:15:00',
      'Mon Dec 07 2026 12:15:00',
    ]);
    expect(() => assertValidSchedule({ kind: 'calendar', expression: '0 0 3 * * *' })).toThrow(
      /has 6 fields; cron has 5/,
    );
    expect(() => assertValidSchedule({ kind: 'calendar', expression: '61 * * * *' })).toThrow(/not valid: .*minute/);
    expect(() => assertValidSchedule({ kind: 'calendar', expression: '0 0 30 2 *' })).toThrow(/not valid/);
    expect(() => assertValidSchedule({ kind: 'calendar', expression: '@daily' })).not.toThrow();
  });

  it('manual plans never fall due', () => {
    expect(nextSlotAfter({ kind: 'manual' }, 0)).toBeUndefined();
    expect(typicalGapMs({ kind: 'manual' }, 0)).toBeUndefined();
  });
});
