import type { GroupRow, SnapshotRow } from '../../../contract/model.js';
import { plural } from '../../../contract/format.js';
import { useApp } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { KeepOrRemoveFooter, Modal } from './Modal.js';

/** What deleting the group does, in numbers: how many snapshots go, how many protected ones stay (and keep the group). */
function consequence(group: GroupRow, rows: SnapshotRow[]): string {
  if (group.snapshotCount === 0) return `${group.path} has no snapshots; deleting it removes the empty group.`;
  const snapshots = rows.filter((s) => s.type === group.type && s.id === group.id);
  if (snapshots.length !== group.snapshotCount) {
    // The table is still loading: the count is known, which of them are protected is not yet.
    return `The snapshots of ${group.path} (${plural(group.snapshotCount, 'snapshot')}) are removed now; protected ones stay, and the group with them.`;
  }
  const kept = snapshots.filter((s) => s.protected).length;
  const removed = snapshots.length - kept;
  const goes = `${plural(removed, 'snapshot')} of ${group.path} ${removed === 1 ? 'is' : 'are'} removed now`;
  const freed = ' Their data is freed by the next garbage collection, unless other snapshots share it.';
  if (kept === 0) return `${goes}, and the group with ${removed === 1 ? 'it' : 'them'}.${freed}`;
  return `${goes}; ${plural(kept, 'protected snapshot')} ${kept === 1 ? 'stays' : 'stay'}, and the group with ${kept === 1 ? 'it' : 'them'}.${removed > 0 ? freed : ''}`;
}

/** Asks before deleting a group (its safe answer first); the deletion is a job, shown in Tasks. */
export function DeleteGroupDialog({ group, onClose }: { group: GroupRow; onClose: () => void }) {
  const store = useApp((s) => s.store!.path);
  // The table's rows are this group's (the dialog opens from its pane); they say which snapshots are protected.
  const snapshots = useApp((s) => s.snapshots);
  const startJob = useApp((s) => s.startJob);
  const jobError = useOwnJobError();
  return (
    <Modal title={`Delete group ${group.path}?`} onClose={onClose}>
      <p>{consequence(group, snapshots)}</p>
      <ErrorNote error={jobError} />
      <KeepOrRemoveFooter
        remove="Delete group"
        onKeep={onClose}
        onRemove={async () => {
          if (await startJob({ kind: 'delete-group', store, group: { type: group.type, id: group.id } })) onClose();
        }}
      />
    </Modal>
  );
}
