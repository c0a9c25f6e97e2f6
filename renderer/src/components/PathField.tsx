import { useId } from 'react';
import { useApp } from '../state/use-app.js';

/** A path typed in, or chosen with the native dialog (Electron) or the in-app folder browser (browser mode). */
export function PathField({ label, value, onChange, pickTitle, placeholder, name }: {
  label: string; value: string; onChange: (path: string) => void; pickTitle: string; placeholder?: string; name?: string;
}) {
  const id = useId();
  const pickFolder = useApp((s) => s.pickFolder);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="path-field">
        <input id={id} name={name} type="text" value={value} placeholder={placeholder} spellCheck={false}
          onChange={(e) => onChange(e.target.value)} />
        <button type="button" onClick={async () => {
          const picked = await pickFolder(pickTitle, value);
          if (picked) onChange(picked);
        }}>Browse…</button>
      </div>
    </div>
  );
}
