import { useEffect, useState } from 'react';
import { formatTime } from '../../../contract/format.js';
import type { RemoteInfo } from '../../../contract/remotes.js';
import { remoteGroups, whereWords } from '../remote-groups.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { PushDialogLoader } from './lazy-remotes.js';

/** Push and pull jobs and plan runs that ended: each is a reason to list the remotes again. */
function useFinishedTransfers(): number {
  return useApp(
    (s) =>
      s.jobOrder.filter((id) => {
        const job = s.jobs[id];
        return (
          job && job.status !== 'running' && (job.kind === 'push' || job.kind === 'pull' || job.kind === 'plan-run')
        );
      }).length,
  );
}

/** Under the store's groups, each remote's groups ("Remote: NAME"): choosing one shows its snapshots there. */
export function RemoteGroups() {
  const { remotes, loaded, store, refreshAll, openRemotes } = useAppShallow((s) => ({
    remotes: s.remotes,
    loaded: s.remotesLoaded,
    store: s.store?.path,
    refreshAll: s.refreshRemoteListings,
    openRemotes: s.openRemotes,
  }));
  const finished = useFinishedTransfers();
  useEffect(() => {
    if (store) void refreshAll();
  }, [store, finished, refreshAll]);
  if (!loaded) return null;
  if (remotes.length === 0)
    return (
      <div className="remote-hint">
        <p className="muted small">Keep copies off site, in an S3 bucket.</p>
        <button type="button" onClick={openRemotes}>
          Add a remote…
        </button>
      </div>
    );
  return (
    <>
      {remotes.map((r) => (
        <RemoteSection key={r.name} remote={r} />
      ))}
    </>
  );
}

function RemoteSection({ remote }: { remote: RemoteInfo }) {
  const { state, choice, refresh, openGroup } = useAppShallow((s) => ({
    state: s.remoteListings[remote.name],
    choice: s.remoteChoice?.remote === remote.name ? s.remoteChoice.group : undefined,
    refresh: s.refreshRemoteListing,
    openGroup: s.openRemoteGroup,
  }));
  const groups = state?.listing ? remoteGroups(state.listing.snapshots) : [];
  const titleId = `remote-${remote.name}-title`;
  const [pushing, setPushing] = useState(false);
  return (
    <section className="remote-groups" aria-labelledby={titleId}>
      <div className="row">
        <h3 id={titleId} className="grow">
          Remote: {remote.name}
        </h3>
        <button
          type="button"
          className="link"
          disabled={state?.loading}
          onClick={() => void refresh(remote.name)}
          aria-label={`List ${remote.name} again`}
          title="List the remote again"
        >
          {state?.loading ? '…' : '↻'}
        </button>
      </div>
      <button type="button" className="remote-push-store" onClick={() => setPushing(true)}>
        Push this store…
      </button>
      {pushing && (
        <PushDialogLoader
          request={{ remote: remote.name, what: 'every group of this store' }}
          onClose={() => setPushing(false)}
        />
      )}
      {state?.error && <ErrorNote error={state.error} />}
      {state?.listing && groups.length === 0 && <p className="muted small">Nothing pushed there yet.</p>}
      <ul role="listbox" aria-label={`Groups on ${remote.name}`} className="group-list">
        {groups.map((g) => (
          <li
            key={g.path}
            role="option"
            aria-selected={choice === g.path}
            tabIndex={0}
            className={choice === g.path ? 'selected' : undefined}
            onClick={() => openGroup(remote.name, g.path)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter' && e.key !== ' ') return;
              e.preventDefault();
              openGroup(remote.name, g.path);
            }}
          >
            <span className="group-name">
              <span className="badge">{g.type}</span> {g.id}
            </span>
            <span className="group-meta">{whereWords(g)}</span>
            {g.last !== undefined && (
              <span className="group-meta">
                last <span className="nowrap">{formatTime(g.last)}</span>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
