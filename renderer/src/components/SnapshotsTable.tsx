import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useMemo, useRef, useState } from 'react';
import type { SnapshotRow } from '../../../contract/model.js';
import { formatBytes, formatCount, formatTime, plural } from '../../../contract/format.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { DeleteGroupDialog } from './DeleteGroupDialog.js';
import { ErrorNote } from './ErrorNote.js';
import { GroupNotes } from './GroupNotes.js';
import { movedIndex } from './list-keys.js';
import { PruneDialog } from './PruneDialog.js';
import { SnapshotActions } from './SnapshotActions.js';

const ROW_HEIGHT = 36;
/** The header row scrolls sideways with the rows (it is inside their scroll box) and stays on top (sticky). */
const HEAD_HEIGHT = ROW_HEIGHT;
/** What the size columns count, as their tooltips and the legend under the table say. */
const NEW_MEANS = 'Bytes this backup added to the store, compressed';
const DEDUP_MEANS = 'Bytes the store had already (shared chunks, unchanged files), not written again';
const COLUMNS: [string, string?][] = [
  ['Time'],
  ['Size', 'The content backed up: the files of a folder, or the whole image'],
  ['Files'],
  ['New', NEW_MEANS],
  ['Deduplicated', DEDUP_MEANS],
  ['Verify'],
  ['Protected'],
  ['Notes'],
];

/** The selected group's snapshots, newest first. Virtualized: 10,000 rows cost what 30 do. */
export function SnapshotsTable() {
  const { snapshots, error, loading, group, browse, setProtected, store, startJob, selected, selectSnapshot } =
    useAppShallow((s) => ({
      snapshots: s.snapshots,
      error: s.snapshotsError,
      loading: s.snapshotsLoading,
      group: s.selectedGroup,
      browse: s.browse,
      setProtected: s.setProtected,
      store: s.store!.path,
      startJob: s.startJob,
      selected: s.selectedSnapshot,
      selectSnapshot: s.selectSnapshot,
    }));
  const [dialog, setDialog] = useState<'prune' | 'delete'>();
  const groupRow = useApp((s) => (s.storeMissing ? undefined : s.groups.find((g) => g.path === s.selectedGroup)));
  const rows = useMemo(() => [...snapshots].reverse(), [snapshots]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const selectedIndex = rows.findIndex((r) => r.path === selected);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (i) => rows[i]!.path,
    scrollMargin: HEAD_HEIGHT,
    scrollPaddingStart: HEAD_HEIGHT,
  });

  // Keys move the selection from the row they were pressed on, found by its path.
  const onKey = useCallback(
    (path: string, key: string): boolean => {
      const to = movedIndex(
        key,
        rows.findIndex((r) => r.path === path),
        rows.length,
      );
      if (to === undefined) return false;
      const target = rows[to]!;
      selectSnapshot(target.path);
      virtualizer.scrollToIndex(to);
      requestAnimationFrame(() =>
        scrollRef.current?.querySelector<HTMLElement>(`[data-snapshot="${CSS.escape(target.path)}"]`)?.focus(),
      );
      return true;
    },
    [rows, selectSnapshot, virtualizer],
  );

  if (group === undefined)
    return (
      <section className="snapshots">
        <p className="muted">Choose a backup group.</p>
      </section>
    );
  return (
    <section className="snapshots" aria-labelledby="snapshots-title">
      <div className="pane-header">
        <h2 id="snapshots-title">Snapshots of {group}</h2>
        <span className="muted">{loading ? 'loading…' : plural(rows.length, 'snapshot')}</span>
        <span className="grow" />
        <button type="button" disabled={!groupRow} onClick={() => setDialog('prune')}>
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
        <button type="button" className="danger" disabled={!groupRow} onClick={() => setDialog('delete')}>
          Delete group…
        </button>
      </div>
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
      <div
        role="grid"
        aria-label={`Snapshots of ${group}`}
        aria-rowcount={rows.length + 1}
        className="grid snapshot-grid"
      >
        <div ref={scrollRef} className="grid-body" data-testid="snapshot-scroll">
          <div role="row" aria-rowindex={1} className="grid-row grid-head">
            {COLUMNS.map(([name, means]) => (
              <span key={name} role="columnheader" title={means} className={means ? 'explained' : undefined}>
                {name}
              </span>
            ))}
          </div>
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((item) => (
              <SnapshotLine
                key={item.key}
                row={rows[item.index]!}
                index={item.index}
                top={item.start - HEAD_HEIGHT}
                selected={item.index === selectedIndex}
                tabbable={item.index === Math.max(selectedIndex, 0)}
                onBrowse={browse}
                onProtect={setProtected}
                onSelect={selectSnapshot}
                onKey={onKey}
              />
            ))}
          </div>
        </div>
      </div>
      <p className="muted small legend" aria-label="What the sizes mean">
        New: {NEW_MEANS.toLowerCase()}. Deduplicated: {DEDUP_MEANS.toLowerCase()}.
      </p>
    </section>
  );
}

const SnapshotLine = memo(function SnapshotLine({
  row,
  index,
  top,
  selected,
  tabbable,
  onBrowse,
  onProtect,
  onSelect,
  onKey,
}: {
  row: SnapshotRow;
  index: number;
  top: number;
  selected: boolean;
  tabbable: boolean;
  onBrowse: (path: string) => void;
  onProtect: (row: SnapshotRow, value: boolean) => Promise<void>;
  onSelect: (path: string) => void;
  onKey: (path: string, key: string) => boolean;
}) {
  const canBrowse = row.finished && row.kind === 'folder';
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      tabIndex={tabbable ? 0 : -1}
      className={`grid-row${selected ? ' selected' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      data-snapshot={row.path}
      onFocus={() => onSelect(row.path)}
      onClick={() => onSelect(row.path)}
      onDoubleClick={() => canBrowse && onBrowse(row.path)}
      onKeyDown={(e) => {
        if (e.target !== e.currentTarget) return;
        if (e.key === 'Enter' && canBrowse) onBrowse(row.path);
        else if (onKey(row.path, e.key)) e.preventDefault();
      }}
    >
      <span role="gridcell">
        {formatTime(row.time)}
        {!row.finished && <em className="warn"> unfinished</em>}
      </span>
      <span role="gridcell">{formatBytes(row.size)}</span>
      <span role="gridcell">{formatCount(row.files)}</span>
      <span role="gridcell">{formatBytes(row.newBytes)}</span>
      <span role="gridcell">{formatBytes((row.dedupBytes ?? 0) + (row.reusedBytes ?? 0))}</span>
      <span role="gridcell">
        {row.verifyState === 'ok' ? '✔ ok' : row.verifyState === 'failed' ? '✘ failed' : 'not verified'}
      </span>
      <span role="gridcell">
        <label className="inline">
          <input
            type="checkbox"
            checked={row.protected}
            onChange={(e) => void onProtect(row, e.target.checked)}
            aria-label={`Protect snapshot ${row.path}`}
          />
          {row.protected ? ' protected' : ''}
        </label>
      </span>
      <span role="gridcell" className="ellipsis" title={row.notes}>
        {row.notes ?? ''}
      </span>
    </div>
  );
});
