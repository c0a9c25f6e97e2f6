import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { DiffResult, SnapshotRow } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatBytes, formatCount, formatTime } from '../../../contract/format.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';

const SIGN = { added: '+', removed: '−', changed: '~' } as const;

/** What changed from one snapshot to a later one: counts, bytes, and every entry (virtualized). */
export function DiffView({
  store,
  from,
  to,
  onClose,
}: {
  store: string;
  from: SnapshotRow;
  to: SnapshotRow;
  onClose: () => void;
}) {
  const { diff, error } = useDiff(store, from, to);
  return (
    <div className="diff" aria-label="Differences">
      <div className="row">
        <strong>
          From {formatTime(from.time)} to {formatTime(to.time)}
        </strong>
        <button type="button" onClick={onClose}>
          Close comparison
        </button>
      </div>
      <ErrorNote error={error} />
      {!diff && !error && <p className="muted">Comparing…</p>}
      {diff && (
        <>
          <p className="diff-summary">
            {diff.added} added, {diff.removed} removed, {diff.changed} changed · +{formatBytes(diff.bytesAdded)} −
            {formatBytes(diff.bytesRemoved)}
            {diff.entries.length < diff.added + diff.removed + diff.changed && (
              <span className="muted"> (the first {formatCount(diff.entries.length)} are listed)</span>
            )}
          </p>
          <DiffList entries={diff.entries} />
        </>
      )}
    </div>
  );
}

/** The host's comparison of the two snapshots, asked again when either changes; an answer for others is dropped. */
function useDiff(store: string, from: SnapshotRow, to: SnapshotRow): { diff?: DiffResult; error?: AppErrorInfo } {
  const client = useApp((s) => s.client);
  const [diff, setDiff] = useState<DiffResult>();
  const [error, setError] = useState<AppErrorInfo>();
  useEffect(() => {
    let live = true;
    setDiff(undefined);
    setError(undefined); // an error was about the comparison before
    client
      .diffSnapshots({
        store,
        from: { type: from.type, id: from.id, time: from.time },
        to: { type: to.type, id: to.id, time: to.time },
      })
      .then(
        (d) => {
          if (live) setDiff(d);
        },
        (err: unknown) => {
          if (live) setError(errorInfo(err));
        },
      );
    return () => {
      live = false;
    };
  }, [client, store, from.path, to.path]); // snapshots by path, not by row identity
  return { diff, error };
}

/** Every changed entry, one row each with its sign, path and size; only the rows in view are drawn. */
function DiffList({ entries }: { entries: DiffResult['entries'] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 28,
    overscan: 10,
  });
  return (
    <div ref={scrollRef} className="diff-list" role="list" aria-label="Changed entries">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const e = entries[item.index]!;
          return (
            <div
              key={item.key}
              role="listitem"
              className={`diff-row ${e.change}`}
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <span className="diff-sign" aria-label={e.change}>
                {SIGN[e.change]}
              </span>
              <span className="tree-name">
                {e.path}
                {e.kind === 'directory' ? '/' : ''}
              </span>
              <span className="muted">
                {e.change === 'changed' ? `${e.what?.join(', ')} ` : ''}
                {e.change === 'removed' ? formatBytes(e.sizeBefore) : formatBytes(e.sizeAfter)}
              </span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
