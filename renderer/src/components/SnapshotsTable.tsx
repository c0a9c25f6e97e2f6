import { useMemo, useState } from 'react';
import type { GroupRow } from '../../../contract/model.js';
import { plural } from '../../../contract/format.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { DeleteGroupDialog } from './DeleteGroupDialog.js';
import { ErrorNote } from './ErrorNote.js';
import { GroupNotes } from './GroupNotes.js';
import { GroupPlan } from './GroupPlan.js';
import { GroupRemotes } from './GroupRemotes.js';
import { PruneDialog } from './PruneDialog.js';
import { SizeLegend, SnapshotGrid } from './SnapshotGrid.js';
import { SnapshotActions } from './SnapshotActions.js';

/** The selected group's snapshots, newest first, with the group's actions and the chosen snapshot's. */
export function SnapshotsTable() {
  const { snapshots, error, loading, group, selected } = useAppShallow((s) => ({
    snapshots: s.snapshots,
    error: s.snapshotsError,
    loading: s.snapshotsLoading,
    group: s.selectedGroup,
    selected: s.selectedSnapshot,
  }));
  const [dialog, setDialog] = useState<'prune' | 'delete'>();
  const groupRow = useApp((s) => (s.storeMissing ? undefined : s.groups.find((g) => g.path === s.selectedGroup)));
  const rows = useMemo(() => [...snapshots].reverse(), [snapshots]);
  const selectedIndex = rows.findIndex((r) => r.path === selected);

  if (group === undefined)
    return (
      <section className="snapshots">
        <p className="muted">Choose a backup group.</p>
      </section>
    );
  return (
    <section className="snapshots" aria-labelledby="snapshots-title">
      <GroupHeader
        group={group}
        groupRow={groupRow}
        count={loading ? 'loading…' : plural(rows.length, 'snapshot')}
        onPrune={() => setDialog('prune')}
        onDelete={() => setDialog('delete')}
      />
      {groupRow && <GroupPlan group={groupRow} />}
      {groupRow && <GroupRemotes group={groupRow} />}
      {groupRow && <GroupNotes group={groupRow} />}
      {groupRow?.snapshotCount === 0 && (
        <p className="note">
          This group has no snapshots: a first backup that was cancelled or failed leaves one behind.{' '}
          <button type="button" className="danger" onClick={() => setDialog('delete')}>
            Delete group…
          </button>
        </p>
      )}
      <SnapshotActions row={rows[selectedIndex]} />
      <ErrorNote error={error} />
      {dialog === 'prune' && groupRow && <PruneDialog group={groupRow} onClose={() => setDialog(undefined)} />}
      {dialog === 'delete' && groupRow && <DeleteGroupDialog group={groupRow} onClose={() => setDialog(undefined)} />}
      <SnapshotGrid group={group} rows={rows} selectedIndex={selectedIndex} />
      <SizeLegend />
    </section>
  );
}

/** The pane's title and count, and the group's actions (disabled while the group is unknown or the store missing). */
function GroupHeader({
  group,
  groupRow,
  count,
  onPrune,
  onDelete,
}: {
  group: string;
  groupRow: GroupRow | undefined;
  count: string;
  onPrune(): void;
  onDelete(): void;
}) {
  const { store, startJob, openSearch } = useAppShallow((s) => ({
    store: s.store!.path,
    startJob: s.startJob,
    openSearch: s.openSearch,
  }));
  return (
    <div className="pane-header">
      <h2 id="snapshots-title">Snapshots of {group}</h2>
      <span className="muted">{count}</span>
      <span className="grow" />
      <button type="button" disabled={!groupRow} onClick={() => openSearch(undefined)}>
        Search files…
      </button>
      <button type="button" disabled={!groupRow} onClick={onPrune}>
        Prune…
      </button>
      <button
        type="button"
        disabled={!groupRow}
        onClick={() =>
          groupRow && void startJob({ kind: 'verify', store, group: { type: groupRow.type, id: groupRow.id } })
        }
      >
        Verify group
      </button>
      <button type="button" className="danger" disabled={!groupRow} onClick={onDelete}>
        Delete group…
      </button>
    </div>
  );
}
