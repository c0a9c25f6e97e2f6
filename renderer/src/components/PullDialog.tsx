import type { GroupRef, SnapshotRef } from '../../../contract/model.js';
import { useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

/** "Pull to this store": a remote snapshot (or a group's) into the open store, as a job in Tasks. */
export function PullDialog({
  remote,
  group,
  snapshot,
  what,
  onClose,
}: {
  remote: string;
  group?: GroupRef;
  snapshot?: SnapshotRef;
  /** The snapshot's or group's path, as the dialog names it. */
  what: string;
  onClose(): void;
}) {
  const { store, startJob } = useAppShallow((s) => ({
    store: s.store!.path,
    startJob: s.startJob,
  }));
  const jobError = useOwnJobError();
  const pull = async () => {
    const job = await startJob({ kind: 'pull', store, remote, ...(snapshot ? { snapshot } : group ? { group } : {}) });
    if (job) onClose();
  };
  return (
    <Modal title="Pull to this store" onClose={onClose}>
      <p>
        Pull <strong>{what}</strong> from <strong>{remote}</strong> into <span className="mono">{store}</span>? Only
        what this store lacks is downloaded, and every chunk is checked as it arrives. Snapshots the store has already
        are skipped.
      </p>
      <ErrorNote error={jobError} />
      <footer className="modal-footer">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => void pull()}>
          Pull
        </button>
      </footer>
    </Modal>
  );
}
