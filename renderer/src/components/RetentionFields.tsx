import { useId, useState } from 'react';
import type { KeepOptions } from '../../../contract/keep-rules.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { RULES } from '../hooks/use-prune-simulator.js';
import { RETENTION_PRESETS, retentionChoice, retentionFields, type RetentionChoice } from '../plan-form.js';
import { retentionText } from '../plan-words.js';
import { FieldError } from './FormFields.js';

/** How many snapshots the plan keeps: a preset in one click, or PBS's keep rules one by one. */
export function RetentionFields({ form, set, errors }: EditorPart) {
  const id = useId();
  const matching = retentionChoice(form.retention);
  const [custom, setCustom] = useState(matching === 'custom');
  const choice: RetentionChoice = custom ? 'custom' : matching;
  const choose = (key: RetentionChoice) => {
    setCustom(key === 'custom');
    const preset = RETENTION_PRESETS.find((p) => p.key === key);
    if (preset) set('retention', retentionFields(preset.keep));
  };
  return (
    <fieldset className="editor-section">
      <legend>Keep</legend>
      <div className="field">
        <label htmlFor={id}>Snapshots to keep</label>
        <select id={id} value={choice} onChange={(e) => choose(e.target.value as RetentionChoice)}>
          {RETENTION_PRESETS.map((p) => (
            <option key={p.key} value={p.key}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom rules…</option>
        </select>
        {!custom && <span className="muted small">{presetText(matching)}</span>}
      </div>
      {custom && <KeepRuleFields form={form} set={set} errors={errors} />}
      <p className="muted small">
        Applied to this plan&apos;s group after each successful backup. Protected snapshots are always kept.
      </p>
    </fieldset>
  );
}

function presetText(choice: RetentionChoice): string {
  const preset = RETENTION_PRESETS.find((p) => p.key === choice);
  if (!preset || preset.key === 'all') return 'Nothing is removed: every snapshot stays until you prune by hand.';
  return `${retentionText(preset.keep)}.`;
}

/** One number per keep rule, as in the prune dialog (empty: the rule is not used). */
function KeepRuleFields({ form, set, errors }: EditorPart) {
  const setRule = (key: keyof KeepOptions, value: string) => set('retention', { ...form.retention, [key]: value });
  const error = RULES.map(([key]) => errors[key]).find(Boolean);
  return (
    <>
      <div className="row tight">
        {RULES.map(([key, label]) => (
          <label key={key} className="keep-field">
            {label}
            <input
              type="number"
              min={1}
              value={form.retention[key]}
              aria-invalid={errors[key] ? true : undefined}
              onChange={(e) => setRule(key, e.target.value)}
            />
          </label>
        ))}
      </div>
      <FieldError id="keep-rules-error" error={error} />
      <span className="muted small">{retentionText(keepOf(form.retention))}; empty fields are not used.</span>
    </>
  );
}

function keepOf(fields: EditorPart['form']['retention']): KeepOptions {
  return Object.fromEntries(RULES.flatMap(([k]) => (Number(fields[k]) >= 1 ? [[k, Number(fields[k])]] : [])));
}
