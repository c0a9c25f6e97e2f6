import { useState } from 'react';
import type { SnapshotRow } from '../../../contract/model.js';
import { formatTime } from '../format.js';
import { useApp } from '../state/use-app.js';
import { Modal } from './Modal.js';

/** What can be done with the snapshot chosen in the table: browse, verify, notes, forget. */
export function SnapshotActions({ row }: { row: SnapshotRow | undefined }) {
  const store = useApp((s) => s.store!.path);
  const browse = useApp((s) => s.browse);
  const startJob = useApp((s) => s.startJob);
  const setSnapshotNotes = useApp((s) => s.setSnapshotNotes);
  const forgetSnapshot = useApp((s) => s.forgetSnapshot);
  const [dialog, setDialog] = useState<'notes' | 'forget'>();
  const [notes, setNotes] = useState('');
  if (!row) return <div className="toolbar muted small">Choose a snapshot in the table to act on it.</div>;
  const ref = { type: row.type, id: row.id, time: row.time };
  return (
    <div className="toolbar" role="toolbar" aria-label="Snapshot actions">
      <span className="small">Snapshot {formatTime(row.time)}:</span>
      <button type="button" disabled={!row.finished || row.kind !== 'folder'} onClick={() => browse(row.path)}>Browse</button>
      <button type="button" disabled={!row.finished} onClick={() => void startJob({ kind: 'verify', store, snapshot: ref })}>Verify</button>
      <button type="button" disabled={!row.finished} onClick={() => { setNotes(row.notes ?? ''); setDialog('notes'); }}>Notes…</button>
      <button type="button" className="danger" disabled={row.protected} title={row.protected ? 'Protected snapshots cannot be forgotten' : undefined}
        onClick={() => setDialog('forget')}>Forget…</button>
      {dialog === 'notes' && (
        <Modal title={`Notes for ${row.path}`} onClose={() => setDialog(undefined)}>
          <form onSubmit={async (e) => { e.preventDefault(); if (await setSnapshotNotes(row, notes)) setDialog(undefined); }}>
            <label className="field">Notes<textarea rows={4} value={notes} onChange={(e) => setNotes(e.target.value)} /></label>
            <footer className="modal-footer">
              <button type="button" onClick={() => setDialog(undefined)}>Cancel</button>
              <button type="submit" className="primary">Save notes</button>
            </footer>
          </form>
        </Modal>
      )}
      {dialog === 'forget' && (
        <Modal title="Forget snapshot?" onClose={() => setDialog(undefined)}>
          <p>Forget <strong>{row.path}</strong> ({formatTime(row.time)})? The snapshot is removed now; its data is freed
            by the next garbage collection, unless other snapshots share it.</p>
          <footer className="modal-footer">
            <button type="button" onClick={() => setDialog(undefined)}>Keep it</button>
            <button type="button" className="danger" onClick={async () => { setDialog(undefined); await forgetSnapshot(row); }}>
              Forget snapshot
            </button>
          </footer>
        </Modal>
      )}
    </div>
  );
}
