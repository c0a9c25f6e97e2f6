import { useId } from 'react';
import { useApp } from '../state/use-app.js';
import { FieldError } from './FormFields.js';

/**
 * A path typed in, or chosen with the native dialog (Electron) or the in-app folder browser (browser mode):
 * a folder, or with `pick="file"` a file (a disk image).
 */
export function PathField({
  label,
  value,
  onChange,
  pickTitle,
  placeholder,
  name,
  pick = 'folder',
  hint,
  error,
}: {
  label: string;
  value: string;
  onChange: (path: string) => void;
  pickTitle: string;
  placeholder?: string;
  name?: string;
  pick?: 'folder' | 'file';
  hint?: string;
  /** What is wrong with the path, under it (the input is marked invalid). */
  error?: string;
}) {
  const id = useId();
  const pickPath = useApp((s) => (pick === 'file' ? s.pickFile : s.pickFolder));
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="path-field">
        <input
          id={id}
          name={name}
          type="text"
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          aria-describedby={hint || error ? `${id}-hint ${id}-error` : undefined}
          aria-invalid={error ? true : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
        <button
          type="button"
          onClick={async () => {
            const picked = await pickPath(pickTitle, value);
            if (picked) onChange(picked);
          }}
        >
          Browse…
        </button>
      </div>
      {hint && (
        <span id={`${id}-hint`} className="muted small">
          {hint}
        </span>
      )}
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}
