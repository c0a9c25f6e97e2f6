import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useRef } from 'react';
import type { SnapshotRow } from '../../../contract/model.js';
import { movedIndex } from '../components/list-keys.js';

export const ROW_HEIGHT = 36;
/** The header row scrolls sideways with the rows (it is inside their scroll box) and stays on top (sticky). */
export const HEAD_HEIGHT = ROW_HEIGHT;

/**
 * The snapshot rows' virtual window in their scroll box, and the arrow keys: a key moves the selection from the row
 * it was pressed on (found by its path), scrolls the new row into view and focuses it.
 */
export function useSnapshotGrid(rows: SnapshotRow[], selectSnapshot: (path: string) => void) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (i) => rows[i]!.path,
    scrollMargin: HEAD_HEIGHT,
    scrollPaddingStart: HEAD_HEIGHT,
  });

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
  return { scrollRef, virtualizer, onKey };
}
