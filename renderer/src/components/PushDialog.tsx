import { useId, useState } from 'react';
import type { GroupRef, SnapshotRef } from '../../../contract/model.js';
import { remotePlace } from '../remote-words.js';
import { useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

export interface PushRequest {
  /** The remote to push to; unset: the user chooses. */
  remote?: string;
  group?: GroupRef;
  snapshot?: SnapshotRef;
  /** What is pushed, as the dialog names it ("host/Documents", "every group of the store"). */
  what: string;
}

/** "Push to remote…": a snapshot, a group's snapshots or the whole store, as a job in Tasks. */
export function PushDialog({ request, onClose }: { request: PushRequest; onClose(): void }) {
  const { store, remotes, startJob } = useAppShallow((s) => ({
    store: s.store!.path,
    remotes: s.remotes,
    startJob: s.startJob,
  }));
  const jobError = useOwnJobError();
  const [remote, setRemote] = useState(request.remote ?? remotes[0]?.name ?? '');
  const id = useId();
  const chosen = remotes.find((r) => r.name === remote);
  const push = async () => {
    const which = request.snapshot ? { snapshot: request.snapshot } : request.group ? { group: request.group } : {};
    const job = await startJob({ kind: 'push', store, remote, ...which });
    if (job) onClose();
  };
  return (
    <Modal title="Push to remote" onClose={onClose}>
      {request.remote === undefined && (
        <div className="field">
          <label htmlFor={id}>Remote</label>
          <select id={id} value={remote} onChange={(e) => setRemote(e.target.value)}>
            {remotes.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <p>
        Push <strong>{request.what}</strong> to <strong>{remote}</strong>
        {chosen && <span className="muted"> ({remotePlace(chosen)})</span>}? Only what the remote lacks is sent;
        snapshots it has already are skipped. Unfinished snapshots stay here.
      </p>
      <ErrorNote error={jobError} />
      <footer className="modal-footer">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!chosen} onClick={() => void push()}>
          Push
        </button>
      </footer>
    </Modal>
  );
}
