import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { RemoteCheckResult, RemoteInfo } from '../../../contract/remotes.js';
import { errorInfo } from '../api/client.js';
import { CREDENTIALS_WORDS, remotePlace } from '../remote-words.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { KeepOrRemoveFooter, Modal } from './Modal.js';
import { RemoteCheckList } from './RemoteCheckList.js';
import { RemoteForm } from './RemoteForm.js';

/** Settings › Remotes: the S3 buckets snapshots are pushed to, each with a check, an edit and a remove. */
export function RemotesView() {
  const { remotes, loaded, error, close } = useAppShallow((s) => ({
    remotes: s.remotes,
    loaded: s.remotesLoaded,
    error: s.remotesError,
    close: s.closeRemotes,
  }));
  const [editing, setEditing] = useState<RemoteInfo | 'new'>();
  return (
    <main className="remotes-view" aria-labelledby="remotes-title">
      <div className="row">
        <h2 id="remotes-title" className="grow">
          Remotes
        </h2>
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          Add a remote…
        </button>
        <button type="button" onClick={close}>
          Close
        </button>
      </div>
      <p className="muted">
        A remote is a bucket on an S3-compatible service (AWS S3, Backblaze B2, Wasabi, Ceph, MinIO) that keeps off-site
        copies of your snapshots. Push a group or a snapshot there from its pane, or let a plan push after each backup;
        the remote’s snapshots are listed under the store’s groups. Credentials are sent to Cairn once and never shown
        again.
      </p>
      <ErrorNote error={error} />
      {loaded && remotes.length === 0 && <p className="muted">No remotes yet.</p>}
      <ul className="remote-list" aria-label="Remotes">
        {remotes.map((r) => (
          <RemoteLine key={r.name} remote={r} onEdit={() => setEditing(r)} />
        ))}
      </ul>
      {editing && <RemoteForm remote={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
    </main>
  );
}

/** One remote: where it is, where its credentials are kept; Check, Edit, Remove. */
function RemoteLine({ remote, onEdit }: { remote: RemoteInfo; onEdit(): void }) {
  const { checkRemote } = useAppShallow((s) => ({ checkRemote: s.checkRemote }));
  const [check, setCheck] = useState<RemoteCheckResult>();
  const [error, setError] = useState<AppErrorInfo>();
  const [checking, setChecking] = useState(false);
  const [removing, setRemoving] = useState(false);
  // Listing its snapshots failed (for the open store): said here too, not only beside the groups.
  const listingError = useApp((s) => s.remoteListings[remote.name]?.error);
  const runCheck = async () => {
    setChecking(true);
    setError(undefined);
    try {
      setCheck(await checkRemote({ name: remote.name }));
    } catch (err) {
      setError(errorInfo(err));
    } finally {
      setChecking(false);
    }
  };
  return (
    <li className="remote-line" aria-label={`Remote ${remote.name}`}>
      <div className="row">
        <div className="grow">
          <strong>{remote.name}</strong> <span className="mono small">{remotePlace(remote)}</span>
          <div className={`small ${remote.credentials === 'missing' ? 'warn' : 'muted'}`}>
            {remote.region} · {remote.pathStyle ? 'path style' : 'virtual-host style'} ·{' '}
            {CREDENTIALS_WORDS[remote.credentials]}
          </div>
        </div>
        <div className="key-actions">
          <button type="button" disabled={checking} onClick={() => void runCheck()}>
            {checking ? 'Checking…' : 'Check'}
          </button>
          <button type="button" onClick={onEdit}>
            Edit…
          </button>
          <button type="button" className="danger" onClick={() => setRemoving(true)}>
            Remove…
          </button>
        </div>
      </div>
      {check && <RemoteCheckList result={check} />}
      {!check && listingError && (
        <p className="small warn">
          Its snapshots could not be listed: {listingError.message}. “Check” tells what works.
        </p>
      )}
      <ErrorNote error={error} onDismiss={() => setError(undefined)} />
      {removing && <RemoveRemote remote={remote} onClose={() => setRemoving(false)} />}
    </li>
  );
}

/** Remove the remote? "Keep it" first; its bucket is not touched. */
function RemoveRemote({ remote, onClose }: { remote: RemoteInfo; onClose(): void }) {
  const { removeRemote } = useAppShallow((s) => ({ removeRemote: s.removeRemote }));
  return (
    <Modal title="Remove remote?" onClose={onClose}>
      <p>
        Remove <strong>{remote.name}</strong> ({remotePlace(remote)})? Cairn forgets its settings and credentials on
        this computer. Nothing in the bucket is touched: add the remote again to use its snapshots.
      </p>
      <KeepOrRemoveFooter
        remove="Remove remote"
        onKeep={onClose}
        onRemove={async () => {
          onClose();
          await removeRemote(remote.name);
        }}
      />
    </Modal>
  );
}
