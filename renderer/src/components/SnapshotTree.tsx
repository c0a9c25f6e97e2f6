import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { EntryRow } from '../../../contract/model.js';
import { formatBytes, formatCount } from '../../../contract/format.js';
import type { FolderTree } from '../hooks/use-folder-tree.js';

const ROW_HEIGHT = 30;

interface SnapshotTreeProps {
  label: string;
  tree: FolderTree;
  selected: ReadonlySet<string>;
  toggleSelected(path: string): void;
  active: EntryRow | undefined;
  setActive(entry: EntryRow): void;
}

/**
 * The tree of a snapshot's files, its visible lines virtualized (a folder of 100,000 files scrolls like one of
 * 100); arrows, Home and End move, Enter and the right and left arrows open and close, space selects.
 */
export function SnapshotTree({ label, tree, selected, toggleSelected, active, setActive }: SnapshotTreeProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { lines } = tree;
  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
    getItemKey: (i) => {
      const line = lines[i]!;
      return line.kind === 'entry' ? line.entry.path : `${line.folder}\0more`;
    },
  });

  const moveFocus = (index: number) => {
    let i = Math.max(0, Math.min(lines.length - 1, index));
    if (lines[i]?.kind === 'more') i = index > i ? i - 1 : Math.max(0, i - 1);
    const line = lines[i];
    if (!line || line.kind !== 'entry') return;
    setActive(line.entry);
    virtualizer.scrollToIndex(i);
    requestAnimationFrame(() =>
      scrollRef.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(line.entry.path)}"]`)?.focus(),
    );
  };

  const activeIndex = active ? lines.findIndex((l) => l.kind === 'entry' && l.entry.path === active.path) : -1;
  // An entry chosen from outside (a search hit) is scrolled to once its line is there.
  useEffect(() => {
    if (activeIndex >= 0) virtualizer.scrollToIndex(activeIndex, { align: 'auto' });
  }, [active?.path, activeIndex >= 0]);
  return (
    <div ref={scrollRef} className="tree" role="tree" aria-label={label} aria-multiselectable="true">
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const line = lines[item.index]!;
          if (line.kind === 'more') {
            return (
              <MoreEntries
                key={item.key}
                top={item.start}
                depth={line.depth}
                loaded={line.loaded}
                total={line.total}
                onVisible={() => tree.loadMore(line.folder, line.loaded)}
              />
            );
          }
          const { entry } = line;
          const onKey = rowKeys(entry, tree.expanded.has(entry.path), {
            move: (by) => moveFocus(by === 'first' ? 0 : by === 'last' ? lines.length - 1 : item.index + by),
            toggle: () => tree.toggle(entry),
            activate: () => setActive(entry),
            select: () => toggleSelected(entry.path),
          });
          return (
            <TreeRow
              key={item.key}
              entry={entry}
              depth={line.depth}
              top={item.start}
              open={tree.expanded.has(entry.path)}
              selected={selected.has(entry.path)}
              active={active?.path === entry.path}
              tabbable={item.index === Math.max(activeIndex, 0)}
              onActivate={() => setActive(entry)}
              onToggle={() => tree.toggle(entry)}
              onSelect={() => toggleSelected(entry.path)}
              onKeyDown={onKey}
            />
          );
        })}
      </div>
      {tree.empty && <p className="muted">This snapshot is empty.</p>}
    </div>
  );
}

interface RowActions {
  move(by: 1 | -1 | 'first' | 'last'): void;
  toggle(): void;
  activate(): void;
  select(): void;
}

/** A row's keys: what each does to the tree. */
function rowKeys(entry: EntryRow, open: boolean, act: RowActions) {
  const isDir = entry.kind === 'directory';
  const moves: Record<string, 1 | -1 | 'first' | 'last'> = { ArrowDown: 1, ArrowUp: -1, Home: 'first', End: 'last' };
  return (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget) return;
    const move = moves[e.key];
    if (move !== undefined) {
      e.preventDefault();
      act.move(move);
    } else if (e.key === 'ArrowRight' && isDir && !open) act.toggle();
    else if (e.key === 'ArrowLeft' && isDir && open) act.toggle();
    else if (e.key === 'Enter') {
      if (isDir) act.toggle();
      else act.activate();
    } else if (e.key === ' ') {
      e.preventDefault();
      act.select();
    }
  };
}

interface TreeRowProps {
  entry: EntryRow;
  depth: number;
  top: number;
  open: boolean;
  selected: boolean;
  active: boolean;
  tabbable: boolean;
  onActivate(): void;
  onToggle(): void;
  onSelect(): void;
  onKeyDown(e: KeyboardEvent): void;
}

/** One entry of the tree: its twisty (a folder's), its checkbox, name and size. */
function TreeRow({ entry, depth, top, open, selected, active, tabbable, ...on }: TreeRowProps) {
  const isDir = entry.kind === 'directory';
  return (
    <div
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={isDir ? open : undefined}
      aria-selected={selected}
      data-path={entry.path}
      tabIndex={tabbable ? 0 : -1}
      className={`tree-row${active ? ' active' : ''}`}
      style={{ transform: `translateY(${top}px)`, paddingLeft: 8 + depth * 18 }}
      onClick={on.onActivate}
      onDoubleClick={() => isDir && on.onToggle()}
      onKeyDown={on.onKeyDown}
    >
      {isDir ? (
        <button
          type="button"
          className="twisty"
          tabIndex={-1}
          aria-label={`${open ? 'Close' : 'Open'} ${entry.name}`}
          onClick={(e) => {
            e.stopPropagation();
            on.onToggle();
          }}
        >
          {open ? '▾' : '▸'}
        </button>
      ) : (
        <span className="twisty" />
      )}
      <input
        type="checkbox"
        tabIndex={-1}
        checked={selected}
        onChange={on.onSelect}
        onClick={(e) => e.stopPropagation()}
        aria-label={`Select ${entry.path}`}
      />
      <span className="tree-name">
        {entry.name}
        {isDir ? '/' : ''}
        {entry.kind === 'symlink' ? ` → ${entry.target ?? ''}` : ''}
      </span>
      <span className="tree-size muted">{isDir ? '' : formatBytes(entry.size)}</span>
    </div>
  );
}

/** The end of what is loaded of a big folder: shown means scrolled to, which loads the next page. */
function MoreEntries({
  top,
  depth,
  loaded,
  total,
  onVisible,
}: {
  top: number;
  depth: number;
  loaded: number;
  total: number;
  onVisible: () => void;
}) {
  useEffect(() => {
    onVisible();
  }, [loaded]); // once per page: `loaded` grows when the page arrives
  return (
    <div
      className="tree-row muted"
      role="treeitem"
      aria-level={depth + 1}
      aria-busy="true"
      style={{ transform: `translateY(${top}px)`, paddingLeft: 30 + depth * 18 }}
    >
      loading… ({formatCount(loaded)} of {formatCount(total)} shown)
    </div>
  );
}
