import { useId, useState } from 'react';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { toBackupId } from '../paths.js';
import { useApp } from '../state/use-app.js';
import { FieldError, TextField } from './FormFields.js';
import { MoreSources } from './MoreSources.js';
import { PathField } from './PathField.js';

/** The plan's name (and the group it gives), its sources (folders and disk images) and its datastore. */
export function PlanWhatFields({ form, set, errors, groupId }: EditorPart & { groupId?: string }) {
  const group = groupId ?? toBackupId(form.name);
  return (
    <fieldset className="editor-section">
      <legend>What and where</legend>
      <TextField
        label="Plan name"
        value={form.name}
        onChange={(v) => set('name', v)}
        error={errors.name}
        placeholder="Documents"
        hint={
          groupId
            ? `Its snapshots go into host/${groupId} (kept when the plan is renamed).`
            : group
              ? `Its snapshots go into host/${group}.`
              : 'Its snapshots go into a group named after it.'
        }
      />
      <SourceKind form={form} set={set} />
      <PathField
        label={form.sourceKind === 'image' ? 'Disk image file' : 'Folder to back up'}
        value={form.source}
        onChange={(v) => set('source', v)}
        pickTitle={form.sourceKind === 'image' ? 'Disk image to back up' : 'Folder to back up'}
        pick={form.sourceKind === 'image' ? 'file' : 'folder'}
        error={errors.source}
      />
      <MoreSources form={form} set={set} errors={errors} />
      <StoreField value={form.store} onChange={(v) => set('store', v)} error={errors.store} />
    </fieldset>
  );
}

function SourceKind({ form, set }: Pick<EditorPart, 'form' | 'set'>) {
  return (
    <div className="field" role="radiogroup" aria-label="What to back up">
      <span className="field-label">Back up</span>
      <div className="row tight">
        <label className="inline">
          <input
            type="radio"
            name="source-kind"
            checked={form.sourceKind === 'folder'}
            onChange={() => set('sourceKind', 'folder')}
          />
          a folder
        </label>
        <label className="inline">
          <input
            type="radio"
            name="source-kind"
            checked={form.sourceKind === 'image'}
            onChange={() => set('sourceKind', 'image')}
          />
          a disk image file
        </label>
      </div>
    </div>
  );
}

const OTHER = '\0other';

/** The datastore: one of the recent ones (and the plan's own), or another folder typed or picked. */
function StoreField({ value, onChange, error }: { value: string; onChange(v: string): void; error?: string }) {
  const recent = useApp((s) => s.recent);
  const choices = [...new Set([value, ...recent].filter((p) => p !== ''))];
  const [other, setOther] = useState(choices.length === 0);
  const id = useId();
  if (other)
    return (
      <PathField
        label="Datastore"
        value={value}
        onChange={onChange}
        pickTitle="Datastore to back up into"
        error={error}
        hint={choices.length > 0 ? undefined : 'The folder of an existing datastore (create one on the start page).'}
      />
    );
  return (
    <div className="field">
      <label htmlFor={id}>Datastore</label>
      <select
        id={id}
        className="wide-select"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-error`}
        onChange={(e) => {
          if (e.target.value === OTHER) {
            setOther(true);
            onChange('');
          } else onChange(e.target.value);
        }}
      >
        {value === '' && (
          <option value="" disabled>
            Choose a datastore…
          </option>
        )}
        {choices.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
        <option value={OTHER}>Another datastore…</option>
      </select>
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}
