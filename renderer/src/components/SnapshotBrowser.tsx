import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { EntryRow, SnapshotRef, SnapshotRow } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatBytes, formatCount, formatIsoTime, formatTime } from '../../../contract/format.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { DiffView } from './DiffView.js';
import { ErrorNote } from './ErrorNote.js';
import { RestoreDialog, restorePaths, type RestoreRequest } from './RestoreDialog.js';

const ROW_HEIGHT = 30;

/** A visible line: an entry, or the end of a folder whose next page is not loaded yet. */
type TreeLine =
  | { kind: 'entry'; entry: EntryRow; depth: number }
  | { kind: 'more'; folder: string; depth: number; loaded: number; total: number };

interface LoadedFolder {
  entries: EntryRow[];
  total: number;
}

const PAGE = 2000;

function refOf(row: SnapshotRow): SnapshotRef {
  return { type: row.type, id: row.id, time: row.time };
}

/**
 * A folder snapshot as a lazy tree: a folder's entries are fetched when it is opened, the visible lines are
 * virtualized (a folder of 100,000 files scrolls like one of 100). Select entries to restore them; a file
 * can be downloaded; the snapshot can be compared with another one of its group.
 */
export function SnapshotBrowser({ snapshot }: { snapshot: SnapshotRow }) {
  const { client, store, snapshots, browse, info } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    snapshots: s.snapshots,
    browse: s.browse,
    info: s.info,
  }));
  const startJob = useApp((s) => s.startJob);
  const [children, setChildren] = useState<Map<string, LoadedFolder>>(new Map());
  const inFlight = useRef(new Set<string>());
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [active, setActive] = useState<EntryRow>();
  const [error, setError] = useState<AppErrorInfo>();
  const [restoring, setRestoring] = useState<RestoreRequest>();
  const [compareWith, setCompareWith] = useState<string>('');
  const scrollRef = useRef<HTMLDivElement>(null);
  const ref = refOf(snapshot);

  /** Loads a folder's next page (its first when none is loaded); one request per folder at a time. */
  const load = useCallback(
    async (path: string, offset: number) => {
      const key = `${path}\0${offset}`;
      if (inFlight.current.has(key)) return;
      inFlight.current.add(key);
      try {
        const page = await client.browseSnapshot({ store, snapshot: ref, path, offset, limit: PAGE });
        setChildren((m) => {
          const known = m.get(path)?.entries ?? [];
          if (known.length !== offset) return m; // an answer that no longer fits (reloaded meanwhile)
          return new Map(m).set(path, { entries: [...known, ...page.entries], total: page.total });
        });
        setError(undefined);
      } catch (err) {
        setError(errorInfo(err));
      } finally {
        inFlight.current.delete(key);
      }
    },
    [client, store, snapshot.path],
  ); // the snapshot by path: a new row object for the same snapshot is no reason to reload

  useEffect(() => {
    void load('', 0);
  }, [load]);

  const toggle = (entry: EntryRow) => {
    const next = new Set(expanded);
    if (next.has(entry.path)) next.delete(entry.path);
    else {
      next.add(entry.path);
      if (!children.has(entry.path)) void load(entry.path, 0);
    }
    setExpanded(next);
  };

  const lines = useMemo(() => {
    const out: TreeLine[] = [];
    const walk = (path: string, depth: number) => {
      const folder = children.get(path);
      if (!folder) return;
      for (const entry of folder.entries) {
        out.push({ kind: 'entry', entry, depth });
        if (entry.kind === 'directory' && expanded.has(entry.path)) walk(entry.path, depth + 1);
      }
      if (folder.entries.length < folder.total)
        out.push({ kind: 'more', folder: path, depth, loaded: folder.entries.length, total: folder.total });
    };
    walk('', 0);
    return out;
  }, [children, expanded]);

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

  const toggleSelected = (path: string) => {
    const next = new Set(selected);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setSelected(next);
  };

  const download = async (entry: EntryRow) => {
    const url = client.downloadUrl(store, ref, entry.path);
    if (url) {
      const a = document.createElement('a');
      a.href = url;
      a.download = entry.name;
      a.click();
      return;
    }
    try {
      await client.saveFile({ store, snapshot: ref, path: entry.path });
    } catch (err) {
      setError(errorInfo(err));
    }
  };

  const others = snapshots.filter((s) => s.path !== snapshot.path && s.finished && s.kind === 'folder');
  const compareRow = others.find((s) => s.path === compareWith);
  const activeIndex = active ? lines.findIndex((l) => l.kind === 'entry' && l.entry.path === active.path) : -1;

  return (
    <section className="browser" aria-labelledby="browser-title">
      <div className="pane-header">
        <button type="button" onClick={() => browse(undefined)}>
          ← Snapshots
        </button>
        <h2 id="browser-title">{snapshot.path}</h2>
        <span className="muted">{formatTime(snapshot.time)}</span>
      </div>
      <div className="toolbar" role="toolbar" aria-label="Snapshot actions">
        <button
          type="button"
          className="primary"
          disabled={selected.size === 0}
          onClick={() => setRestoring({ what: 'selected', paths: [...selected] })}
        >
          Restore selected ({selected.size})…
        </button>
        <button type="button" onClick={() => setRestoring({ what: 'everything' })}>
          Restore everything…
        </button>
        <button
          type="button"
          disabled={!active || (active.kind !== 'file' && active.kind !== 'hardlink')}
          onClick={() => active && void download(active)}
        >
          {info?.nativeDialogs ? 'Save file as…' : 'Download file'}
        </button>
        <label>
          Compare with{' '}
          <select value={compareWith} onChange={(e) => setCompareWith(e.target.value)}>
            <option value="">(choose a snapshot)</option>
            {others.map((s) => (
              <option key={s.path} value={s.path}>
                {formatTime(s.time)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={error} onDismiss={() => setError(undefined)} />
      {compareRow ? (
        <DiffView
          store={store}
          from={compareRow.time < snapshot.time ? compareRow : snapshot}
          to={compareRow.time < snapshot.time ? snapshot : compareRow}
          onClose={() => setCompareWith('')}
        />
      ) : (
        <div className="browser-body">
          <div
            ref={scrollRef}
            className="tree"
            role="tree"
            aria-label={`Files in ${snapshot.path}`}
            aria-multiselectable="true"
          >
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
                      onVisible={() => void load(line.folder, line.loaded)}
                    />
                  );
                }
                const { entry, depth } = line;
                const isDir = entry.kind === 'directory';
                const isOpen = expanded.has(entry.path);
                return (
                  <div
                    key={item.key}
                    role="treeitem"
                    aria-level={depth + 1}
                    aria-expanded={isDir ? isOpen : undefined}
                    aria-selected={selected.has(entry.path)}
                    data-path={entry.path}
                    tabIndex={item.index === Math.max(activeIndex, 0) ? 0 : -1}
                    className={`tree-row${active?.path === entry.path ? ' active' : ''}`}
                    style={{ transform: `translateY(${item.start}px)`, paddingLeft: 8 + depth * 18 }}
                    onClick={() => setActive(entry)}
                    onDoubleClick={() => isDir && toggle(entry)}
                    onKeyDown={(e) => {
                      if (e.target !== e.currentTarget) return;
                      if (e.key === 'ArrowDown') {
                        e.preventDefault();
                        moveFocus(item.index + 1);
                      } else if (e.key === 'ArrowUp') {
                        e.preventDefault();
                        moveFocus(item.index - 1);
                      } else if (e.key === 'Home') {
                        e.preventDefault();
                        moveFocus(0);
                      } else if (e.key === 'End') {
                        e.preventDefault();
                        moveFocus(lines.length - 1);
                      } else if (e.key === 'ArrowRight' && isDir && !isOpen) toggle(entry);
                      else if (e.key === 'ArrowLeft' && isDir && isOpen) toggle(entry);
                      else if (e.key === 'Enter') {
                        if (isDir) toggle(entry);
                        else setActive(entry);
                      } else if (e.key === ' ') {
                        e.preventDefault();
                        toggleSelected(entry.path);
                      }
                    }}
                  >
                    {isDir ? (
                      <button
                        type="button"
                        className="twisty"
                        tabIndex={-1}
                        aria-label={`${isOpen ? 'Close' : 'Open'} ${entry.name}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          toggle(entry);
                        }}
                      >
                        {isOpen ? '▾' : '▸'}
                      </button>
                    ) : (
                      <span className="twisty" />
                    )}
                    <input
                      type="checkbox"
                      tabIndex={-1}
                      checked={selected.has(entry.path)}
                      onChange={() => toggleSelected(entry.path)}
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
              })}
            </div>
            {children.get('')?.total === 0 && <p className="muted">This snapshot is empty.</p>}
          </div>
          <EntryDetails entry={active} onDownload={download} />
        </div>
      )}
      {restoring && (
        <RestoreDialog
          request={restoring}
          onClose={() => setRestoring(undefined)}
          onRestore={async (target, overwrite, keepDamaged) => {
            const job = await startJob({
              kind: 'restore',
              store,
              snapshot: ref,
              paths: restorePaths(restoring),
              target,
              overwrite,
              ...(keepDamaged ? { keepDamaged } : {}),
            });
            if (job) setRestoring(undefined);
          }}
        />
      )}
    </section>
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

function EntryDetails({
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
