import { useState } from 'react';
import type { EntryRow } from '../../../contract/model.js';
import { formatTime } from '../../../contract/format.js';
import type { RemoteSnapshotRow } from '../../../contract/remotes.js';
import { useFolderTree } from '../hooks/use-folder-tree.js';
import { useAppShallow } from '../state/use-app.js';
import { EntryDetails } from './EntryDetails.js';
import { ErrorNote } from './ErrorNote.js';
import { RestoreDialog, restorePaths, type RestoreRequest } from './RestoreDialog.js';
import { SnapshotTree } from './SnapshotTree.js';

/**
 * A remote folder snapshot as a lazy tree, read through the remote's cache (a folder's listing, never its files'
 * data): restore the selection, everything, or one file into a folder, as a job that fetches only what it needs.
 */
export function RemoteBrowser({ remote, snapshot }: { remote: string; snapshot: RemoteSnapshotRow }) {
  const { client, store, browseRemote } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    browseRemote: s.browseRemote,
  }));
  const tree = useFolderTree(client, store, snapshot, remote);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [active, setActive] = useState<EntryRow>();
  const [restoring, setRestoring] = useState<RestoreRequest>();
  const file = active && (active.kind === 'file' || active.kind === 'hardlink') ? active : undefined;
  const toggleSelected = (path: string) => {
    const next = new Set(selected);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setSelected(next);
  };
  const saveFile = async (entry: EntryRow) => setRestoring({ what: 'selected', paths: [entry.path] });
  return (
    <section className="browser" aria-labelledby="browser-title">
      <div className="pane-header">
        <button type="button" onClick={() => browseRemote(undefined)}>
          ← Snapshots on {remote}
        </button>
        <h2 id="browser-title">
          {snapshot.path} <span className="badge">on {remote}</span>
        </h2>
        <span className="muted">{formatTime(snapshot.time)}</span>
      </div>
      <div className="toolbar" role="toolbar" aria-label="Remote snapshot actions">
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
        <button type="button" disabled={!file} onClick={() => file && void saveFile(file)}>
          Download file to a folder…
        </button>
        <span className="muted small">Read from {remote}: only what you open is fetched.</span>
      </div>
      <ErrorNote error={tree.error} onDismiss={() => tree.setError(undefined)} />
      <div className="browser-body">
        <SnapshotTree
          label={`Files in ${snapshot.path} on ${remote}`}
          tree={tree}
          selected={selected}
          toggleSelected={toggleSelected}
          active={active}
          setActive={setActive}
        />
        <EntryDetails entry={active} onDownload={saveFile} />
      </div>
      {restoring && (
        <RemoteRestore
          remote={remote}
          snapshot={snapshot}
          request={restoring}
          onClose={() => setRestoring(undefined)}
        />
      )}
    </section>
  );
}

/** The restore dialog for a remote snapshot; it closes once the job has started. */
function RemoteRestore(props: {
  remote: string;
  snapshot: RemoteSnapshotRow;
  request: RestoreRequest;
  onClose(): void;
}) {
  const { startJob } = useAppShallow((s) => ({ startJob: s.startJob }));
  const { type, id, time } = props.snapshot;
  return (
    <RestoreDialog
      request={props.request}
      onClose={props.onClose}
      onRestore={async (target, overwrite, keepDamaged) => {
        const job = await startJob({
          kind: 'remote-restore',
          remote: props.remote,
          snapshot: { type, id, time },
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
