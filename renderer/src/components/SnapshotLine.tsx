import { memo } from 'react';
import type { SnapshotRow } from '../../../contract/model.js';
import { formatBytes, formatCount, formatTime } from '../../../contract/format.js';
import { KeyBadge, LockMark } from './KeyBadge.js';

interface SnapshotLineProps {
  row: SnapshotRow;
  index: number;
  top: number;
  selected: boolean;
  tabbable: boolean;
  onBrowse: (path: string) => void;
  onProtect: (row: SnapshotRow, value: boolean) => Promise<void>;
  onSelect: (path: string) => void;
  onKey: (path: string, key: string) => boolean;
}

/** One snapshot's row: selected on focus or click, opened with a double click or Enter (a finished folder). */
export const SnapshotLine = memo(function SnapshotLine({
  row,
  index,
  top,
  selected,
  tabbable,
  onBrowse,
  onProtect,
  onSelect,
  onKey,
}: SnapshotLineProps) {
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
      <SnapshotCells row={row} onProtect={onProtect} />
    </div>
  );
});

/** The row's cells: time, sizes, files, verify state, the protect checkbox and the notes. */
function SnapshotCells({ row, onProtect }: Pick<SnapshotLineProps, 'row' | 'onProtect'>) {
  return (
    <>
      <span role="gridcell">
        {formatTime(row.time)}
        {!row.finished && <em className="warn"> unfinished</em>}
        {row.leftOut !== undefined && row.leftOut > 0 && (
          <em className="warn" title="The backup could not read these files or folders; the snapshot lacks them.">
            {' '}
            incomplete: {row.leftOut} left out
          </em>
        )}
        {row.encrypted && (
          <>
            {' '}
            <LockMark fingerprint={row.keyFingerprint} />
          </>
        )}
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
        {/* The space only between a badge and notes: a plain snapshot's cell is its notes exactly. */}
        {row.encrypted && (
          <>
            <KeyBadge fingerprint={row.keyFingerprint} />{' '}
          </>
        )}
        {row.notes ?? ''}
      </span>
    </>
  );
}
