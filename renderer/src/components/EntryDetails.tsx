import type { EntryRow } from '../../../contract/model.js';
import { formatBytes, formatCount, formatIsoTime } from '../../../contract/format.js';

/** The chosen entry's path, kind, size, time, permissions, link target and digest; a file can be downloaded. */
export function EntryDetails({
  entry,
  onDownload,
}: {
  entry: EntryRow | undefined;
  onDownload: (e: EntryRow) => Promise<void>;
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
      {isFile && (
        <button type="button" onClick={() => void onDownload(entry)}>
          Download this file
        </button>
      )}
    </aside>
  );
}
