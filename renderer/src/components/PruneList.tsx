import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { PruneRow } from '../../../contract/model.js';
import { formatTime } from '../../../contract/format.js';

/** The simulation, one line per snapshot: its time, keep or remove, and why. Virtualized. */
export function PruneList({ rows }: { rows: PruneRow[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 28,
    overscan: 10,
  });
  return (
    <div ref={scrollRef} className="prune-list" role="list" aria-label="Prune simulation">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const r = rows[item.index]!;
          return (
            <div
              key={item.key}
              role="listitem"
              className={`prune-row ${r.mark === 'remove' ? 'remove' : 'keep'}`}
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <span>{formatTime(r.time)}</span>
              <strong>{r.outcome === 'would-remove' ? 'remove' : r.outcome}</strong>
              <span className="muted ellipsis">{r.error ?? r.reason}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
