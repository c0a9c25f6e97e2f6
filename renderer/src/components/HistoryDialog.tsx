import { useEffect, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { PathHistory, PathVersionRow } from '../../../contract/find.js';
import { formatBytes, formatTime, plural } from '../../../contract/format.js';
import type { GroupRef } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { downloadEntry } from '../download.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

/** A version in words: what it is against the one before it. */
export function versionLabel(v: PathVersionRow, first: boolean): string {
  if (v.state === 'absent') return 'Not there';
  if (first) return 'First version';
  return v.changed ? 'Changed' : 'Back as before';
}

/** The snapshots a run spans: one time, or from–to with how many. */
function span(v: PathVersionRow): string {
  if (v.snapshots === 1) return formatTime(v.from.time);
  return `${formatTime(v.from.time)} – ${formatTime(v.to.time)} (${plural(v.snapshots, 'snapshot')}, unchanged)`;
}

/** Every version of a path across the group's snapshots, newest first; a version can be previewed, saved, restored. */
export function HistoryDialog({ path }: { path: string }) {
  const { client, store, group, openHistory } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    group: s.selectedGroup,
    openHistory: s.openHistory,
  }));
  const [history, setHistory] = useState<PathHistory>();
  const [error, setError] = useState<AppErrorInfo>();
  useEffect(() => {
    if (!group) return;
    const [type, id] = group.split('/') as [GroupRef['type'], string];
    let live = true;
    client.pathHistory({ store, group: { type, id }, path }).then(
      (h) => live && setHistory(h),
      (err: unknown) => live && setError(errorInfo(err)),
    );
    return () => {
      live = false;
    };
  }, [client, store, group, path]);
  const versions = history?.versions ?? [];
  const present = versions.filter((v) => v.state === 'present').length;
  return (
    <Modal title={`History of ${path}`} wide className="history-dialog" onClose={() => openHistory(undefined)}>
      <ErrorNote error={error} />
      {!history && !error && <p className="muted">Looking through the snapshots…</p>}
      {history && (
        <p className="muted">
          {plural(present, 'version')} in{' '}
          {plural(
            versions.reduce((n, v) => n + v.snapshots, 0),
            'snapshot',
          )}
          , newest first.
        </p>
      )}
      <ol className="history-list" aria-label="Versions">
        {versions
          .map((v, i) => ({ v, first: i === versions.findIndex((x) => x.state === 'present') }))
          .reverse()
          .map(({ v, first }) => (
            <VersionRow key={v.from.time} path={path} version={v} first={first} onError={setError} />
          ))}
      </ol>
      {history && history.unreadable.length > 0 && (
        <p className="note small">
          {plural(history.unreadable.length, 'snapshot')} could not be read: {history.unreadable[0]!.message}
        </p>
      )}
      <footer className="modal-footer">
        <button type="button" onClick={() => openHistory(undefined)}>
          Close
        </button>
      </footer>
    </Modal>
  );
}

function VersionRow(props: { path: string; version: PathVersionRow; first: boolean; onError(e: AppErrorInfo): void }) {
  const { version: v, path } = props;
  const { client, store, openPreview, openInPlace, nativeDialogs } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    openPreview: s.openPreview,
    openInPlace: s.openInPlace,
    nativeDialogs: s.info?.nativeDialogs ?? false,
  }));
  const label = versionLabel(v, props.first);
  const isFile = v.kind === 'file' || v.kind === 'hardlink';
  const target = { snapshot: v.to, path };
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (
    <li className={`version-row ${v.state}`} aria-label={`${label}: ${span(v)}`}>
      <div className="version-when">
        <span
          className={`version-badge ${v.state === 'absent' ? 'absent' : v.changed || props.first ? 'changed' : ''}`}
        >
          {label}
        </span>{' '}
        {span(v)}
      </div>
      <div className="muted small">
        {v.state === 'absent'
          ? 'Deleted, or not yet there, in these snapshots'
          : `${v.kind === 'directory' ? 'folder' : formatBytes(v.size)} · modified ${formatTime((v.mtime ?? 0) / 1000)}`}
      </div>
      {v.state === 'present' && (
        <div className="version-actions">
          {isFile && (
            <button type="button" onClick={() => openPreview(target)}>
              Preview
            </button>
          )}
          {isFile && (
            <button
              type="button"
              onClick={() =>
                downloadEntry(client, store, v.to, path, name).catch((e: unknown) => props.onError(errorInfo(e)))
              }
            >
              {nativeDialogs ? 'Save as…' : 'Download'}
            </button>
          )}
          <button type="button" onClick={() => openInPlace(target)}>
            Restore…
          </button>
        </div>
      )}
    </li>
  );
}
