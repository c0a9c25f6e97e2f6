import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../contract/plans.js';
import {
  checkPlanForm,
  copyName,
  inputOfPlan,
  newPlanForm,
  planForm,
  retentionChoice,
  retentionFields,
  scheduleErrors,
} from '../../renderer/src/plan-form.js';
import { retentionText, stateBadge } from '../../renderer/src/plan-words.js';
import { plan } from '../support/plans.js';

/** The plan editor's fields and the PlanInput they make, checked by the contract's schema. */
describe('plan-form', () => {
  it("makes a saved plan's input again from its fields, for every kind of schedule", () => {
    const schedules: Schedule[] = [
      { kind: 'manual' },
      { kind: 'interval', every: 1, unit: 'minutes' },
      { kind: 'daily', at: '03:30' },
      { kind: 'weekly', days: ['sat', 'sun'], at: '10:00' },
      { kind: 'calendar', expression: '30 2 * * 1-5' },
    ];
    for (const schedule of schedules) {
      const p = plan({ schedule, retention: { keepLast: 3, keepMonthly: 6 }, notify: 'all', paused: true });
      expect(checkPlanForm(planForm(p))).toEqual({ input: inputOfPlan(p) });
    }
  });

  it('says what is wrong field by field, in words', () => {
    const form = {
      ...newPlanForm({ name: 'x'.repeat(81), source: '/a', store: '/s' }),
      scheduleKind: 'weekly' as const,
      days: [],
      at: '25:00',
      gcEveryDays: 'seven',
      retention: { ...retentionFields({}), keepDaily: '1.5' },
    };
    expect(checkPlanForm(form)).toEqual({
      errors: {
        name: 'Give the plan a name (one line, at most 80 characters).',
        days: 'Choose at least one day.',
        at: 'A time of day, HH:MM (24-hour).',
        keepDaily: 'A whole number of at least 1, or empty.',
        gcEveryDays: 'A whole number of days from 0 (never) to 366.',
      },
    });
    expect(scheduleErrors(form)).toEqual({ days: 'Choose at least one day.', at: 'A time of day, HH:MM (24-hour).' });
    const interval = { ...newPlanForm(), scheduleKind: 'interval' as const, every: '' };
    expect(scheduleErrors(interval)).toEqual({ every: 'A whole number from 1 to 10,000.' });
  });

  it('takes a time typed without its leading zero, also when the form is sent before the field is left', () => {
    const form = { ...newPlanForm({ name: 'Docs', source: '/a', store: '/s' }), scheduleKind: 'daily' as const };
    const checked = checkPlanForm({ ...form, at: ' 9:05 ' });
    expect('input' in checked && checked.input.schedule).toEqual({ kind: 'daily', at: '09:05' });
    expect(scheduleErrors({ ...form, at: '9:5' })).toEqual({ at: 'A time of day, HH:MM (24-hour).' });
  });

  it('leaves excludes out of a disk image plan', () => {
    const form = { ...newPlanForm({ name: 'VM', source: '/vm.img', store: '/s' }), sourceKind: 'image' as const };
    const result = checkPlanForm({ ...form, excludes: '*.tmp' });
    expect(result).toMatchObject({ input: { excludes: [], excludePresets: [] } });
  });

  it('round-trips a plan of several sources, and keeps excludes while one of them is a folder', () => {
    const p = plan({
      sources: [
        { kind: 'image', path: '/vm/a.img' },
        { kind: 'folder', path: '/home/ann/Music' },
        { kind: 'image', path: '/vm/b.img' },
      ],
    });
    const form = planForm(p);
    expect(form).toMatchObject({ sourceKind: 'image', source: '/vm/a.img', moreSources: p.sources.slice(1) });
    expect(checkPlanForm(form)).toEqual({ input: inputOfPlan(p) });
    const images = { ...form, moreSources: [{ kind: 'image' as const, path: '/vm/b.img' }] };
    expect(checkPlanForm(images)).toMatchObject({ input: { excludes: [], excludePresets: [] } });
    const twice = { ...form, moreSources: [{ kind: 'image' as const, path: ' /vm/a.img ' }] };
    expect(checkPlanForm(twice)).toEqual({ errors: { source: '/vm/a.img is given twice' } });
  });

  it('names a copy so no plan has its name, whatever the case', () => {
    expect(copyName('Documents', ['Documents'])).toBe('Documents (copy)');
    expect(copyName('Documents', ['Documents', 'documents (COPY)'])).toBe('Documents (copy 2)');
  });

  it('knows a retention preset by its rules, anything else is custom', () => {
    expect(retentionChoice(retentionFields({}))).toBe('all');
    const some = { keepLast: 3, keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6 };
    expect(retentionChoice(retentionFields(some))).toBe('some');
    // A plan saved with the rules an older version's preset had is custom now, and keeps its rules.
    expect(retentionChoice(retentionFields({ ...some, keepLast: undefined }))).toBe('custom');
    expect(retentionChoice(retentionFields({ keepLast: 3 }))).toBe('custom');
    expect(retentionText({ keepLast: 3, keepDaily: 7 })).toBe('Keep the last 3, 7 daily');
    expect(retentionText({})).toBe('Keep every snapshot');
  });

  it('words a failing state with its count', () => {
    expect(stateBadge({ planId: 'a', state: 'failing', failures: 1 }).text).toBe('Failing: 1 failed run');
    expect(stateBadge({ planId: 'a', state: 'waiting-store', failures: 0 })).toMatchObject({
      text: 'Waiting: drive not connected',
      tone: 'warn',
    });
  });
});
