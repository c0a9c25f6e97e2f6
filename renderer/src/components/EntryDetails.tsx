import type { EntryRow } from '../../../contract/model.js';
import { formatBytes, formatCount, formatIsoTime } from '../../../contract/format.js';

/** The chosen entry's path, kind, size, time, permissions, link target and digest; its preview, history, restore. */
export function EntryDetails({
  entry,
  onDownload,
  onHistory,
  onPreview,
  onRestoreInPlace,
}: {
  entry: EntryRow | undefined;
  onDownload: (e: EntryRow) => Promise<void>;
  /** Absent (a remote's snapshot): no such button. */
  onHistory?(e: EntryRow): void;
  onPreview?(e: EntryRow): void;
  onRestoreInPlace?(e: EntryRow): void;
}) {
  if (!entry)
    return (
      <aside className="details muted" aria-label="Details">
        Choose a file or folder to see its details.
      </aside>
    );
  const isFile = entry.kind === 'file' || entry.kind === 'hardlink';
  return (
    <aside className="details" aria-label="Details">
      <h3>{entry.name}</h3>
      <div className="details-actions">
        {isFile && onPreview && (
          <button type="button" onClick={() => onPreview(entry)}>
            Preview
          </button>
        )}
        {isFile && (
          <button type="button" onClick={() => void onDownload(entry)}>
            Download this file
          </button>
        )}
        {onHistory && (
          <button type="button" onClick={() => onHistory(entry)}>
            History
          </button>
        )}
        {onRestoreInPlace && (
          <button type="button" title="Back where it was backed up from" onClick={() => onRestoreInPlace(entry)}>
            Restore in place…
          </button>
        )}
      </div>
      <dl>
        <dt>Path</dt>
        <dd>{entry.path}</dd>
        <dt>Kind</dt>
        <dd>{entry.kind}</dd>
        {isFile && (
          <>
            <dt>Size</dt>
            <dd>
              {formatBytes(entry.size)} ({formatCount(entry.size)} bytes)
            </dd>
          </>
        )}
        <dt>Modified</dt>
        <dd>{formatIsoTime(entry.mtime)}</dd>
        <dt>Permissions</dt>
        <dd>{entry.mode}</dd>
        {entry.target && (
          <>
            <dt>Target</dt>
            <dd>{entry.target}</dd>
          </>
        )}
        {entry.digest && (
          <>
            <dt>SHA-256</dt>
            <dd className="mono">{entry.digest}</dd>
          </>
        )}
      </dl>
    </aside>
  );
}
