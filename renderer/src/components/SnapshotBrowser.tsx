import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { EntryRow, SnapshotRef, SnapshotRow } from '../../../contract/model.js';
import { formatTime } from '../../../contract/format.js';
import { errorInfo } from '../api/client.js';
import { useFolderTree } from '../hooks/use-folder-tree.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { DiffView } from './DiffView.js';
import { EntryDetails } from './EntryDetails.js';
import { ErrorNote } from './ErrorNote.js';
import { RestoreDialog, restorePaths, type RestoreRequest } from './RestoreDialog.js';
import { SnapshotToolbar } from './SnapshotToolbar.js';
import { SnapshotTree } from './SnapshotTree.js';

function refOf(row: SnapshotRow): SnapshotRef {
  return { type: row.type, id: row.id, time: row.time };
}

/**
 * A folder snapshot as a lazy tree (useFolderTree, SnapshotTree). Select entries to restore them; a file can be
 * downloaded; the snapshot can be compared with another one of its group.
 */
export function SnapshotBrowser({ snapshot }: { snapshot: SnapshotRow }) {
  const { client, store, snapshots, info } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    snapshots: s.snapshots,
    info: s.info,
  }));
  const tree = useFolderTree(client, store, snapshot);
  const find = useAppShallow((s) => ({
    reveal: s.reveal,
    revealed: s.revealed,
    openSearch: s.openSearch,
    openHistory: s.openHistory,
    openPreview: s.openPreview,
    openInPlace: s.openInPlace,
  }));
  const [selected, toggleSelected] = useSelection();
  const [active, setActive] = useState<EntryRow>();
  const [restoring, setRestoring] = useState<RestoreRequest>();
  const [compareWith, setCompareWith] = useState<string>('');
  const ref = refOf(snapshot);
  // Opened at a search hit: its folders opened, the hit chosen.
  useEffect(() => {
    const at = find.reveal;
    if (at?.snapshot !== snapshot.path) return;
    find.revealed();
    void tree.reveal(at.path).then((entry) => entry && setActive(entry));
  }, [find.reveal]);

  const download = useDownload(store, ref, tree.setError);
  const others = snapshots.filter((s) => s.path !== snapshot.path && s.finished && s.kind === 'folder');
  const compareRow = others.find((s) => s.path === compareWith);
  return (
    <section className="browser" aria-labelledby="browser-title">
      <BrowserHeader snapshot={snapshot} />
      <SnapshotToolbar
        selectedCount={selected.size}
        selectedPaths={() => [...selected]}
        onRestore={setRestoring}
        active={active}
        nativeDialogs={info?.nativeDialogs ?? false}
        onDownload={(entry) => void download(entry)}
        others={others}
        compareWith={compareWith}
        onCompare={setCompareWith}
        onSearch={() => find.openSearch(snapshot.path)}
        onRestoreInPlace={() => find.openInPlace({ snapshot: ref, path: '' })}
      />
      <ErrorNote error={tree.error} onDismiss={() => tree.setError(undefined)} />
      {compareRow ? (
        <DiffView
          store={store}
          from={compareRow.time < snapshot.time ? compareRow : snapshot}
          to={compareRow.time < snapshot.time ? snapshot : compareRow}
          onClose={() => setCompareWith('')}
        />
      ) : (
        <div className="browser-body">
          <SnapshotTree
            label={`Files in ${snapshot.path}`}
            tree={tree}
            selected={selected}
            toggleSelected={toggleSelected}
            active={active}
            setActive={setActive}
          />
          <EntryDetails
            entry={active}
            onDownload={download}
            onHistory={(e) => find.openHistory(e.path)}
            onPreview={(e) => find.openPreview({ snapshot: ref, path: e.path })}
            onRestoreInPlace={(e) => find.openInPlace({ snapshot: ref, path: e.path })}
          />
        </div>
      )}
      {restoring && (
        <SnapshotRestore store={store} snapshot={ref} request={restoring} onClose={() => setRestoring(undefined)} />
      )}
    </section>
  );
}

/** Back to the snapshots (or to the search this browser was opened from), and which snapshot this is. */
function BrowserHeader({ snapshot }: { snapshot: SnapshotRow }) {
  const { browse, hasSearch, searchSnapshot, openSearch } = useAppShallow((s) => ({
    browse: s.browse,
    hasSearch: s.search !== undefined,
    searchSnapshot: s.search?.snapshot,
    openSearch: s.openSearch,
  }));
  // The table the focus was in is gone: it starts on the browser's title (a screen reader reads where it is).
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), []);
  return (
    <div className="pane-header">
      <button type="button" onClick={() => browse(undefined)}>
        ← Snapshots
      </button>
      {hasSearch && (
        <button type="button" onClick={() => openSearch(searchSnapshot)}>
          ← Search results
        </button>
      )}
      <h2 id="browser-title" ref={title} tabIndex={-1}>
        {snapshot.path}
      </h2>
      <span className="muted">{formatTime(snapshot.time)}</span>
    </div>
  );
}

/** The ticked entries, and a toggle for one. */
function useSelection(): [Set<string>, (path: string) => void] {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const toggle = (path: string) => {
    const next = new Set(selected);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setSelected(next);
  };
  return [selected, toggle];
}

/** A file saved from the snapshot: a download in browser mode, the native save dialog in the desktop app. */
function useDownload(store: string, snapshot: SnapshotRef, setError: (error: AppErrorInfo | undefined) => void) {
  const client = useApp((s) => s.client);
  return async (entry: EntryRow) => {
    const url = client.downloadUrl(store, snapshot, entry.path);
    if (url) {
      const a = document.createElement('a');
      a.href = url;
      a.download = entry.name;
      a.click();
      return;
    }
    try {
      await client.saveFile({ store, snapshot, path: entry.path });
    } catch (err) {
      setError(errorInfo(err));
    }
  };
}

/** The restore dialog for what the browser chose; it closes once the job has started. */
function SnapshotRestore(props: { store: string; snapshot: SnapshotRef; request: RestoreRequest; onClose(): void }) {
  const startJob = useApp((s) => s.startJob);
  const client = useApp((s) => s.client);
  const { store, snapshot, request } = props;
  const preview = useCallback(
    (target: string) => client.previewRestore({ store, snapshot, paths: restorePaths(request), target }),
    [client, store, snapshot, request],
  );
  return (
    <RestoreDialog
      request={props.request}
      onClose={props.onClose}
      preview={preview}
      onRestore={async (target, overwrite, keepDamaged) => {
        const job = await startJob({
          kind: 'restore',
          store: props.store,
          snapshot: props.snapshot,
          paths: restorePaths(props.request),
          target,
          overwrite,
          ...(keepDamaged ? { keepDamaged } : {}),
        });
        if (job) props.onClose();
      }}
    />
  );
}
