import type { SnapshotRow } from '../../../contract/model.js';
import { HEAD_HEIGHT, useSnapshotGrid } from '../hooks/use-snapshot-grid.js';
import { useAppShallow } from '../state/use-app.js';
import { SnapshotLine } from './SnapshotLine.js';

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

/** The group's snapshots as a grid, newest first. Virtualized: 10,000 rows cost what 30 do. */
export function SnapshotGrid({
  group,
  rows,
  selectedIndex,
}: {
  group: string;
  rows: SnapshotRow[];
  selectedIndex: number;
}) {
  const { browse, setProtected, selectSnapshot } = useAppShallow((s) => ({
    browse: s.browse,
    setProtected: s.setProtected,
    selectSnapshot: s.selectSnapshot,
  }));
  const { scrollRef, virtualizer, onKey } = useSnapshotGrid(rows, selectSnapshot);
  return (
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
  );
}

/** The legend under the grid: what New and Deduplicated count. */
export function SizeLegend() {
  return (
    <p className="muted small legend" aria-label="What the sizes mean">
      New: {NEW_MEANS.toLowerCase()}. Deduplicated: {DEDUP_MEANS.toLowerCase()}.
    </p>
  );
}
