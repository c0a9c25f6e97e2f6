import { EXCLUDE_PRESETS, planExcludes, type ExcludePreset } from '../../../contract/plans.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { firstFolder, patternLines } from '../plan-form.js';
import { ExcludesField } from './ExcludesField.js';
import { FieldError } from './FormFields.js';

const PRESETS = Object.entries(EXCLUDE_PRESETS) as [ExcludePreset, (typeof EXCLUDE_PRESETS)[ExcludePreset]][];

/** What the folders' backup leaves out: presets, own patterns, and a preview of both on the first folder. */
export function PlanExcludeFields({ form, set, errors }: EditorPart) {
  // Images are backed up whole: only folders have something to leave out.
  const folder = firstFolder(form);
  if (folder === undefined) return null;
  const toggle = (preset: ExcludePreset, on: boolean) =>
    set(
      'presets',
      PRESETS.map(([key]) => key).filter((key) => (key === preset ? on : form.presets.includes(key))),
    );
  const own = patternLines(form.excludes);
  return (
    <fieldset className="editor-section">
      <legend>Leave out</legend>
      <div className="preset-checks">
        {PRESETS.map(([key, preset]) => (
          <label key={key} className="inline" title={preset.patterns.join('  ')}>
            <input
              type="checkbox"
              checked={form.presets.includes(key)}
              onChange={(e) => toggle(key, e.target.checked)}
            />
            {preset.label}
          </label>
        ))}
      </div>
      {/* A preview is of the patterns it was asked for: new presets or another folder drop it. */}
      <ExcludesField
        key={`${form.presets.join()}|${folder}`}
        label="Own patterns (one .gitignore pattern per line)"
        excludes={form.excludes}
        onChange={(v) => set('excludes', v)}
        source={folder}
        patterns={planExcludes({ excludePresets: form.presets, excludes: own })}
      />
      <FieldError id="plan-excludes-error" error={errors.excludes} />
    </fieldset>
  );
}
