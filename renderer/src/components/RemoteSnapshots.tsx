import { useState } from 'react';
import { formatTime, plural } from '../../../contract/format.js';
import type { GroupRef } from '../../../contract/model.js';
import type { RemoteSnapshotRow } from '../../../contract/remotes.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { PullDialog } from './PullDialog.js';

function hereWords(missing: number): string {
  return missing === 0 ? 'all in this store too' : `${missing} not in this store`;
}

const KIND_WORDS: Record<RemoteSnapshotRow['kind'], string> = { folder: 'folder', image: 'disk image', other: 'other' };

/** A remote group's snapshots, newest first: where each is (here too, or only there), browse it, pull it. */
export function RemoteSnapshots({ remote, group, rows }: { remote: string; group: string; rows: RemoteSnapshotRow[] }) {
  const { state, refresh, browseRemote } = useAppShallow((s) => ({
    state: s.remoteListings[remote],
    refresh: s.refreshRemoteListing,
    browseRemote: s.browseRemote,
  }));
  const [pull, setPull] = useState<{ what: string; snapshot?: RemoteSnapshotRow }>();
  const [type, id] = group.split('/') as [GroupRef['type'], string];
  const missingHere = rows.filter((r) => r.finished && !r.local).length;
  return (
    <section className="snapshots remote-snapshots" aria-labelledby="remote-snapshots-title">
      <div className="pane-header">
        <h2 id="remote-snapshots-title">
          Snapshots of {group} on {remote}
        </h2>
        <span className="muted">
          {state?.loading ? 'listing…' : `${plural(rows.length, 'snapshot')}, ${hereWords(missingHere)}`}
        </span>
        <span className="grow" />
        <button type="button" onClick={() => void refresh(remote)}>
          Refresh
        </button>
        <button type="button" className="primary" disabled={missingHere === 0} onClick={() => setPull({ what: group })}>
          Pull group to this store…
        </button>
      </div>
      <ErrorNote error={state?.error} />
      <div className="runs-scroll">
        <table className="runs remote-table" aria-label={`Snapshots of ${group} on ${remote}`}>
          <thead>
            <tr>
              <th>Time</th>
              <th>Kind</th>
              <th>Where</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <RemoteSnapshotLine
                key={r.path}
                remote={remote}
                row={r}
                onBrowse={() => browseRemote(r.path)}
                onPull={() => setPull({ what: r.path, snapshot: r })}
              />
            ))}
          </tbody>
        </table>
      </div>
      {pull && (
        <PullDialog
          remote={remote}
          what={pull.what}
          {...(pull.snapshot
            ? { snapshot: { type: pull.snapshot.type, id: pull.snapshot.id, time: pull.snapshot.time } }
            : { group: { type, id } })}
          onClose={() => setPull(undefined)}
        />
      )}
    </section>
  );
}

/** One remote snapshot: its time and kind, where it is, Browse and Pull. */
function RemoteSnapshotLine(props: { remote: string; row: RemoteSnapshotRow; onBrowse(): void; onPull(): void }) {
  const { remote, row: r } = props;
  return (
    <tr data-snapshot={r.path}>
      <td>
        {formatTime(r.time)}
        {!r.finished && <em className="warn"> incomplete: a push was cut off (the next push finishes it)</em>}
      </td>
      <td>{KIND_WORDS[r.kind]}</td>
      <td>
        <span className={`where-badge ${r.local ? 'both' : 'remote'}`}>
          {r.local ? `here and on ${remote}` : `only on ${remote}`}
        </span>
      </td>
      <td className="remote-actions">
        <button
          type="button"
          disabled={!r.finished || r.kind !== 'folder'}
          title={r.kind !== 'folder' ? 'Only a folder snapshot has files to browse' : undefined}
          onClick={props.onBrowse}
        >
          Browse
        </button>
        <button
          type="button"
          disabled={!r.finished || r.local}
          title={r.local ? 'This store has it already' : undefined}
          onClick={props.onPull}
        >
          Pull to this store…
        </button>
      </td>
    </tr>
  );
}
