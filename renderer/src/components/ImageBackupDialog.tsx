import { useState } from 'react';
import { formatBytes } from '../../../contract/format.js';
import { baseName, toBackupId } from '../paths.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';
import { SourceMismatchNote, useSourceConfirmation } from './SourceCheck.js';

/** The group id a file suggests: its name without the extension ("laptop-disk.img" → "laptop-disk"), as the CLI derives it. */
function imageId(path: string): string {
  return toBackupId(baseName(path).replace(/\.[^.]+$/, ''));
}

/** Back up one disk image (or another large file): its path, typed or chosen, and the group id. */
export function ImageBackupDialog() {
  const { close, startJob, store, jobError } = useAppShallow((s) => ({
    close: s.closeBackupDialog,
    startJob: s.startJob,
    store: s.store,
    jobError: s.jobError,
  }));
  const groups = useApp((s) => s.groups);
  const [source, setSource] = useState('');
  // The id follows the file's name until the user types one of their own.
  const [typedId, setTypedId] = useState<string>();
  const id = typedId ?? imageId(source);
  const sourceCheck = useSourceConfirmation('image');
  const mismatch = sourceCheck.pending(id, source);
  if (!store) return null;
  const existing = groups.some((g) => g.type === 'host' && g.id === id);

  return (
    <Modal title="Back up a disk image" onClose={close}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const go = await sourceCheck.mayStart(store.path, source, id);
          if (!go) return;
          const job = await startJob({ kind: 'backup-image', store: store.path, source, id, ...go });
          if (job) close();
        }}
      >
        <PathField
          label="Disk image file"
          name="image-source"
          value={source}
          onChange={setSource}
          pickTitle="Disk image to back up"
          pick="file"
          placeholder="/home/you/vm/disk.img"
          hint={`A disk image or another large file (.img, .raw, .iso…), stored in chunks of ${formatBytes(store.chunkSize)}; unchanged chunks are stored once.`}
        />
        <div className="field">
          <label htmlFor="image-id">Backup group id</label>
          <input id="image-id" type="text" value={id} onChange={(e) => setTypedId(e.target.value)} spellCheck={false} />
          <span className="muted small">
            {id === ''
              ? `Taken from the file's name; letters, digits, “_”, “.” and “-”.`
              : existing
                ? `Adds a snapshot to host/${id}.`
                : `Creates the group host/${id}.`}
          </span>
        </div>
        {mismatch ? (
          <SourceMismatchNote
            check={mismatch}
            id={id}
            what="image"
            chooseId={(other) => {
              setTypedId(other);
              sourceCheck.clear();
            }}
          />
        ) : (
          <ErrorNote error={sourceCheck.error ?? jobError} />
        )}
        <footer className="modal-footer">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={source.trim() === '' || id === ''}>
            {mismatch ? `Back up into host/${id} anyway` : 'Start image backup'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
