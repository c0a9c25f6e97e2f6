import type { EntryRow, SnapshotRow } from '../../../contract/model.js';
import { formatTime } from '../../../contract/format.js';
import type { RestoreRequest } from './RestoreDialog.js';

interface SnapshotToolbarProps {
  selectedCount: number;
  selectedPaths: () => string[];
  onRestore(request: RestoreRequest): void;
  active: EntryRow | undefined;
  nativeDialogs: boolean;
  onDownload(entry: EntryRow): void;
  /** Finished folder snapshots of the group to compare with, and the one chosen ('' for none). */
  others: SnapshotRow[];
  compareWith: string;
  onCompare(path: string): void;
  /** Search this snapshot's names; put everything back where it was backed up from. */
  onSearch(): void;
  onRestoreInPlace(): void;
}

/** The browser's actions: restore the selection or everything (to a folder, or in place), save a file, search, compare. */
export function SnapshotToolbar(p: SnapshotToolbarProps) {
  const file = p.active && (p.active.kind === 'file' || p.active.kind === 'hardlink') ? p.active : undefined;
  return (
    <div className="toolbar" role="toolbar" aria-label="Snapshot actions">
      <button
        type="button"
        className="primary"
        disabled={p.selectedCount === 0}
        onClick={() => p.onRestore({ what: 'selected', paths: p.selectedPaths() })}
      >
        Restore selected ({p.selectedCount})…
      </button>
      <button type="button" onClick={() => p.onRestore({ what: 'everything' })}>
        Restore everything…
      </button>
      <button type="button" title="Back where it was backed up from" onClick={p.onRestoreInPlace}>
        Restore everything in place…
      </button>
      <button type="button" disabled={!file} onClick={() => file && p.onDownload(file)}>
        {p.nativeDialogs ? 'Save file as…' : 'Download file'}
      </button>
      <button type="button" onClick={p.onSearch}>
        Search…
      </button>
      <label>
        Compare with{' '}
        <select value={p.compareWith} onChange={(e) => p.onCompare(e.target.value)}>
          <option value="">(choose a snapshot)</option>
          {p.others.map((s) => (
            <option key={s.path} value={s.path}>
              {formatTime(s.time)}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
