import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { SearchHit } from '../../../contract/find.js';
import { formatBytes, formatTime } from '../../../contract/format.js';
import { useApp } from '../state/use-app.js';

const ROW_HEIGHT = 54; // an estimate: rows are measured

/** The matches so far, virtualized (a search may send thousands): name, folder, snapshot, size, mtime. */
export function SearchResults({ hits }: { hits: SearchHit[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: hits.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (i) => hits[i]!.path,
  });
  return (
    <div ref={scrollRef} className="search-results" role="list" aria-label="Matches">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => (
          <HitRow
            key={item.key}
            hit={hits[item.index]!}
            top={item.start}
            index={item.index}
            measure={virtualizer.measureElement}
          />
        ))}
      </div>
    </div>
  );
}

/** A row's height is measured: in a narrow pane its details take a second line. */
function HitRow(props: { hit: SearchHit; top: number; index: number; measure(el: Element | null): void }) {
  const { hit, top } = props;
  const showInSnapshot = useApp((s) => s.showInSnapshot);
  const openHistory = useApp((s) => s.openHistory);
  const slash = hit.path.lastIndexOf('/');
  const name = hit.path.slice(slash + 1);
  const folder = slash < 0 ? '' : hit.path.slice(0, slash);
  const isDir = hit.kind === 'directory';
  return (
    <div
      ref={props.measure}
      data-index={props.index}
      role="listitem"
      aria-label={hit.path}
      className="hit-row"
      style={{ transform: `translateY(${top}px)` }}
    >
      <div className="hit-path" title={hit.path}>
        <strong>
          {name}
          {isDir ? '/' : ''}
        </strong>
        {folder && <span className="muted"> in {folder}</span>}
      </div>
      <div className="hit-meta muted small">
        <span>snapshot {formatTime(hit.snapshot.time)}</span>
        {!isDir && <span>{formatBytes(hit.size)}</span>}
        <span>modified {formatTime(hit.mtime / 1000)}</span>
      </div>
      <div className="hit-actions">
        <button type="button" onClick={() => showInSnapshot(hit)} aria-label={`Show ${hit.path} in its snapshot`}>
          Show
        </button>
        <button type="button" onClick={() => openHistory(hit.path)} aria-label={`History of ${hit.path}`}>
          History
        </button>
      </div>
    </div>
  );
}
