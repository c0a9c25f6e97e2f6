import { useId } from 'react';
import { NOTIFY_LEVELS, type NotifyLevel } from '../../../contract/plans.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { Check, NumberField } from './FormFields.js';

const NOTIFY_LABELS: Record<NotifyLevel, string> = {
  off: 'Off',
  failures: 'When something is wrong (and when it works again)',
  all: 'After every run',
};

/** Looking after the store after a run: GC, verify of the new snapshot, a full verify now and then. */
export function PlanCareFields({ form, set, errors }: EditorPart) {
  return (
    <fieldset className="editor-section">
      <legend>Look after the store</legend>
      <NumberField
        before="Garbage collection every"
        after="days"
        value={form.gcEveryDays}
        onChange={(v) => set('gcEveryDays', v)}
        max={366}
        error={errors.gcEveryDays}
      />
      <Check
        label="Verify each new snapshot"
        checked={form.verifyNew}
        onChange={(v) => set('verifyNew', v)}
        hint="Reads the snapshot back right after its backup."
      />
      <NumberField
        before="Verify all of the group every"
        after="days"
        value={form.fullVerifyEveryDays}
        onChange={(v) => set('fullVerifyEveryDays', v)}
        max={366}
        error={errors.fullVerifyEveryDays}
      />
      <p className="muted small">0 days: never by this plan.</p>
    </fieldset>
  );
}

/** When scheduled runs wait, what the plan tells the user, and whether it is paused. */
export function PlanRunFields({ form, set }: EditorPart) {
  const id = useId();
  return (
    <fieldset className="editor-section">
      <legend>Running</legend>
      <Check
        label="Not on battery"
        checked={form.skipOnBattery}
        onChange={(v) => set('skipOnBattery', v)}
        hint="Scheduled runs wait until the computer is plugged in; “Back up now” runs anyway."
      />
      <div className="field">
        <label htmlFor={id}>Notifications</label>
        <select id={id} value={form.notify} onChange={(e) => set('notify', e.target.value as NotifyLevel)}>
          {NOTIFY_LEVELS.map((level) => (
            <option key={level} value={level}>
              {NOTIFY_LABELS[level]}
            </option>
          ))}
        </select>
      </div>
      <Check
        label="Paused"
        checked={form.paused}
        onChange={(v) => set('paused', v)}
        hint="A paused plan runs only with “Back up now”."
      />
    </fieldset>
  );
}
