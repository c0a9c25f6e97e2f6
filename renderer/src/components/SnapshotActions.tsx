import { useState } from 'react';
import type { SnapshotRow } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatTime } from '../../../contract/format.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { ImageRestoreDialog, imageArchives } from './ImageRestoreDialog.js';
import { KeepOrRemoveFooter, Modal } from './Modal.js';
import { PushSnapshotButton } from './GroupRemotes.js';

type Dialog = 'notes' | 'forget' | 'restore-image';

/** What can be done with the snapshot chosen in the table: browse (a folder) or restore (an image), verify, notes, forget. */
export function SnapshotActions({ row }: { row: SnapshotRow | undefined }) {
  const store = useApp((s) => s.store!.path);
  const startJob = useApp((s) => s.startJob);
  const missing = useApp((s) => s.storeMissing !== undefined);
  const [dialog, setDialog] = useState<Dialog>();
  if (!row)
    return <div className="toolbar snapshot-actions muted small">Choose a snapshot in the table to act on it.</div>;
  const ref = { type: row.type, id: row.id, time: row.time };
  return (
    <div className="toolbar snapshot-actions" role="toolbar" aria-label="Snapshot actions">
      <span className="small">Snapshot {formatTime(row.time)}:</span>
      {row.kind !== 'image' && <BrowseAction row={row} />}
      {/* A plan's snapshot may hold disk images beside its folders (docs/PLANS.md): restored the same way. */}
      {imageArchives(row).length > 0 && <ImageActions row={row} restore={() => setDialog('restore-image')} />}
      <button
        type="button"
        disabled={!row.finished || missing}
        onClick={() => void startJob({ kind: 'verify', store, snapshot: ref })}
      >
        Verify
      </button>
      <button type="button" disabled={!row.finished} onClick={() => setDialog('notes')}>
        Notes…
      </button>
      <PushSnapshotButton row={row} />
      <button
        type="button"
        className="danger"
        disabled={row.protected}
        title={row.protected ? 'Protected snapshots cannot be forgotten' : undefined}
        onClick={() => setDialog('forget')}
      >
        Forget…
      </button>
      {row.kind === 'image' && (
        <span className="muted small" id="image-hint">
          A disk image has no files to browse: restore it to a file.
        </span>
      )}
      {dialog === 'restore-image' && <ImageRestoreDialog row={row} onClose={() => setDialog(undefined)} />}
      {dialog === 'notes' && <NotesDialog row={row} onClose={() => setDialog(undefined)} />}
      {dialog === 'forget' && <ForgetDialog row={row} onClose={() => setDialog(undefined)} />}
    </div>
  );
}

/** A folder snapshot opens in the browser; one Cairn cannot read as a folder says why it cannot. */
function BrowseAction({ row }: { row: SnapshotRow }) {
  const browse = useApp((s) => s.browse);
  const why = !row.finished
    ? 'An unfinished snapshot cannot be browsed'
    : row.kind !== 'folder'
      ? 'This snapshot has no folder archive to browse'
      : undefined;
  return (
    <button type="button" disabled={why !== undefined} title={why} onClick={() => browse(row.path)}>
      Browse
    </button>
  );
}

/** An image has no files: it is restored (or, with a native save dialog, saved) to one file; of several, the chosen one. */
function ImageActions({ row, restore }: { row: SnapshotRow; restore: () => void }) {
  const store = useApp((s) => s.store!.path);
  const client = useApp((s) => s.client);
  const applyJob = useApp((s) => s.applyJob);
  const nativeDialogs = useApp((s) => s.info?.nativeDialogs ?? false);
  const [error, setError] = useState<ReturnType<typeof errorInfo>>();
  const archives = imageArchives(row);
  const hint = row.kind === 'image' ? 'image-hint' : undefined;
  const saveAs = async () => {
    try {
      const job = await client.saveImage({
        store,
        snapshot: { type: row.type, id: row.id, time: row.time },
        ...(archives.length > 1 ? { archive: archives[0] } : {}),
      });
      if (job) applyJob(job);
      setError(undefined);
    } catch (err) {
      setError(errorInfo(err));
    }
  };
  return (
    <>
      <button
        type="button"
        className={row.kind === 'image' ? 'primary' : undefined}
        disabled={!row.finished}
        aria-describedby={hint}
        onClick={restore}
      >
        Restore image…
      </button>
      {nativeDialogs && (
        <button type="button" disabled={!row.finished} aria-describedby={hint} onClick={() => void saveAs()}>
          Save image as…
        </button>
      )}
      <ErrorNote error={error} onDismiss={() => setError(undefined)} />
    </>
  );
}

/** The snapshot's notes, to edit and save; the dialog stays open while saving fails. */
function NotesDialog({ row, onClose }: { row: SnapshotRow; onClose: () => void }) {
  const setSnapshotNotes = useApp((s) => s.setSnapshotNotes);
  const [notes, setNotes] = useState(row.notes ?? '');
  return (
    <Modal title={`Notes for ${row.path}`} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          if (await setSnapshotNotes(row, notes)) onClose();
        }}
      >
        <label className="field">
          Notes
          <textarea rows={4} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </label>
        <footer className="modal-footer">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Save notes
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** Forget the snapshot? "Keep it" first; its data is freed by the next garbage collection. */
function ForgetDialog({ row, onClose }: { row: SnapshotRow; onClose: () => void }) {
  const forgetSnapshot = useApp((s) => s.forgetSnapshot);
  return (
    <Modal title="Forget snapshot?" onClose={onClose}>
      <p>
        Forget <strong>{row.path}</strong> ({formatTime(row.time)})? The snapshot is removed now; its data is freed by
        the next garbage collection, unless other snapshots share it.
      </p>
      <KeepOrRemoveFooter
        remove="Forget snapshot"
        onKeep={onClose}
        onRemove={async () => {
          onClose();
          await forgetSnapshot(row);
        }}
      />
    </Modal>
  );
}
