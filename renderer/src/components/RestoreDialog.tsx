import { useState } from 'react';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';

/** Where to restore the chosen entries, and whether existing files may be replaced. */
export function RestoreDialog({ paths, onClose, onRestore }: {
  paths: string[]; onClose: () => void; onRestore: (target: string, overwrite: boolean) => Promise<void>;
}) {
  const home = useApp((s) => s.info?.homeDir ?? '');
  const jobError = useApp((s) => s.jobError);
  const [target, setTarget] = useState(`${home}/Restored`);
  const [overwrite, setOverwrite] = useState(false);
  return (
    <Modal title="Restore" onClose={onClose}>
      <form onSubmit={(e) => { e.preventDefault(); void onRestore(target, overwrite); }}>
        <p>{paths.length === 1 && paths[0] === '' ? 'Everything in this snapshot' : `${paths.length} selected item${paths.length === 1 ? '' : 's'}`}
          {' '}will be restored into the folder below. Folders arrive under their own names.</p>
        <ul className="small muted">{paths.slice(0, 8).map((p) => <li key={p}>{p || '(the whole snapshot)'}</li>)}{paths.length > 8 && <li>…</li>}</ul>
        <PathField label="Restore into folder" name="restore-target" value={target} onChange={setTarget} pickTitle="Restore into" />
        <label className="inline"><input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace existing files</label>
        <ErrorNote error={jobError} />
        <footer className="modal-footer">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={target.trim() === ''}>Restore</button>
        </footer>
      </form>
    </Modal>
  );
}
