import { useId } from 'react';
import { WEEKDAYS, type Schedule, type Weekday } from '../../../contract/plans.js';
import { useNow } from '../hooks/use-now.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { useSchedulePreview } from '../hooks/use-schedule-preview.js';
import { formSchedule, paddedTime, scheduleErrors } from '../plan-form.js';
import { ErrorNote } from './ErrorNote.js';
import { FieldError, NumberField, TextField } from './FormFields.js';
import { When } from './PlanBits.js';

const KINDS: [Schedule['kind'], string][] = [
  ['daily', 'Every day'],
  ['weekly', 'On chosen days of the week'],
  ['interval', 'Every few minutes or hours'],
  ['calendar', 'A cron expression (advanced)'],
  ['manual', 'Only when started by hand'],
];

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

/**
 * When the plan runs: the kind, its fields, and the host's preview of it as it is typed. `neverRan`: the plan is
 * new or has not run yet, so an interval schedule's first run is when it is saved.
 */
export function ScheduleFields({ neverRan, ...part }: EditorPart & { neverRan: boolean }) {
  const { form, set } = part;
  const id = useId();
  return (
    <fieldset className="editor-section">
      <legend>When</legend>
      <div className="field">
        <label htmlFor={id}>Runs</label>
        <select id={id} value={form.scheduleKind} onChange={(e) => set('scheduleKind', e.target.value as never)}>
          {KINDS.map(([kind, label]) => (
            <option key={kind} value={kind}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <KindFields {...part} />
      <SchedulePreviewBox {...part} firstAtOnce={neverRan && form.scheduleKind === 'interval' && !form.paused} />
    </fieldset>
  );
}

function KindFields({ form, set, errors }: EditorPart) {
  switch (form.scheduleKind) {
    case 'interval':
      return (
        <div className="row tight">
          <NumberField
            before="Every"
            value={form.every}
            onChange={(v) => set('every', v)}
            min={1}
            error={errors.every}
          />
          <select aria-label="Unit" value={form.unit} onChange={(e) => set('unit', e.target.value as 'minutes')}>
            <option value="minutes">minutes</option>
            <option value="hours">hours</option>
          </select>
          <span className="muted small">counted from the start of the last run</span>
        </div>
      );
    case 'daily':
      return <TimeField form={form} set={set} errors={errors} />;
    case 'weekly':
      return (
        <>
          <DaysField form={form} set={set} errors={errors} />
          <TimeField form={form} set={set} errors={errors} />
        </>
      );
    case 'calendar':
      return (
        <TextField
          label="Cron expression"
          value={form.expression}
          onChange={(v) => set('expression', v)}
          error={errors.expression}
          mono
          hint="minute hour day-of-month month day-of-week, e.g. 30 2 * * 1-5 (2:30 on weekdays), or @daily"
        />
      );
    case 'manual':
      return <p className="muted small">The plan runs when you click “Back up now”, or with cairn plan run.</p>;
  }
}

function TimeField({ form, set, errors }: EditorPart) {
  const id = useId();
  return (
    <div className="number-field">
      <div className="row tight">
        <label className="inline">
          At
          {/* Text, not type="time": the browser's time field shows "12:00 PM" in some locales, and the app says
              every time in 24-hour form (the plan's card says "daily at 12:00"). */}
          <input
            type="text"
            className="time-input"
            inputMode="numeric"
            placeholder="HH:MM"
            maxLength={5}
            size={5}
            value={form.at}
            required
            aria-invalid={errors.at ? true : undefined}
            aria-describedby={`${id}-hint ${id}-error`}
            onChange={(e) => set('at', e.target.value)}
            onBlur={(e) => set('at', paddedTime(e.target.value))}
          />
        </label>
        <span id={`${id}-hint`} className="muted small">
          24-hour, this computer&apos;s local time
        </span>
      </div>
      <FieldError id={`${id}-error`} error={errors.at} />
    </div>
  );
}

function DaysField({ form, set, errors }: EditorPart) {
  const id = useId();
  const toggle = (day: Weekday, on: boolean) =>
    set(
      'days',
      WEEKDAYS.filter((d) => (d === day ? on : form.days.includes(d))),
    );
  return (
    <fieldset className="days" aria-describedby={`${id}-error`}>
      <legend>Days</legend>
      {WEEKDAYS.map((day) => (
        <label key={day} className="inline">
          <input
            type="checkbox"
            checked={form.days.includes(day)}
            aria-invalid={errors.days ? true : undefined}
            onChange={(e) => toggle(day, e.target.checked)}
          />
          {DAY_NAMES[day]}
        </label>
      ))}
      <FieldError id={`${id}-error`} error={errors.days} />
    </fieldset>
  );
}

/** The schedule in words and its next three runs, or why it is not valid. */
function SchedulePreviewBox({ form, firstAtOnce }: EditorPart & { firstAtOnce: boolean }) {
  const now = useNow(10_000);
  const problem = Object.values(scheduleErrors(form))[0];
  const state = useSchedulePreview(formSchedule(form), problem);
  if (state.kind === 'error') return <ErrorNote error={state.error} />;
  return (
    <div className="preview schedule-preview" aria-label="Schedule preview" aria-live="polite">
      {state.kind === 'waiting' ? (
        <span className="muted">Working out the next runs…</span>
      ) : (
        <>
          <strong>Runs {state.preview.text}.</strong>
          {state.preview.nextRuns.length > 0 && (
            <ol className="next-runs">
              {firstAtOnce && <li>as soon as the plan is saved</li>}
              {state.preview.nextRuns.slice(0, firstAtOnce ? 2 : 3).map((t) => (
                <li key={t}>
                  <When at={t} now={now} future />
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </div>
  );
}
