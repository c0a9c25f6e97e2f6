import { useState } from 'react';
import type { KeyInfo } from '../../../contract/keys.js';
import { formatTime } from '../../../contract/format.js';
import { errorInfo } from '../api/client.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { KeyName } from './LockBadge.js';
import { PathField } from './PathField.js';

/** The header's "Keys" button: the encryption keys the host knows. */
export function KeysButton() {
  const openKeys = useApp((s) => s.openKeys);
  return (
    <button type="button" onClick={openKeys}>
      Keys
    </button>
  );
}

/**
 * The keys settings: every key file the host knows, whether its key is unlocked (for this session) or
 * remembered (in the system keychain), and what can be done: unlock, lock, forget, paper key, a new key, add one.
 */
export function KeysDialog() {
  const s = useAppShallow((st) => ({
    open: st.keysOpen,
    close: st.closeKeys,
    list: st.keyList,
    error: st.keysError,
    saved: st.paperKeySaved,
    newKey: st.openKeyWizard,
  }));
  if (!s.open) return null;
  const remember = s.list?.remember;
  return (
    <Modal title="Encryption keys" onClose={s.close} wide className="keys-dialog">
      <p className="muted small">
        Keys stay in Cairn's memory once unlocked, until it stops or you lock them; the app's windows never see a key.{' '}
        {remember && !remember.available && `Remembering is not offered here: ${remember.why}.`}
      </p>
      {s.list && s.list.keys.length === 0 && <p>No keys yet: make one to encrypt backups.</p>}
      {s.list && s.list.keys.length > 0 && <KeyTable keys={s.list.keys} />}
      {s.list?.missing.map((m) => (
        <p key={m.path} className="warn small">
          {m.path}: {m.problem}
        </p>
      ))}
      {s.saved && (
        <p className="note" role="status">
          Paper key saved as <span className="mono">{s.saved}</span>: open it and print it.
        </p>
      )}
      <ErrorNote error={s.error} />
      <AddKeyFile />
      <footer className="modal-footer">
        <button type="button" onClick={s.close}>
          Close
        </button>
        <button type="button" className="primary" onClick={() => void s.newKey()}>
          New key…
        </button>
      </footer>
    </Modal>
  );
}

function KeyTable({ keys }: { keys: KeyInfo[] }) {
  return (
    <table className="keys-table">
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">File</th>
          <th scope="col">Created</th>
          <th scope="col">State</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <KeyRow key={k.path} info={k} />
        ))}
      </tbody>
    </table>
  );
}

function KeyRow({ info }: { info: KeyInfo }) {
  const a = useAppShallow((s) => ({
    lock: s.lockKey,
    forget: s.forgetRememberedKey,
    paper: s.openPaperKey,
    ask: s.askToUnlock,
  }));
  const state = info.unlocked ? (info.remembered ? 'unlocked, remembered' : 'unlocked') : 'locked';
  return (
    <tr data-key={info.fingerprint}>
      <td>
        <KeyName short={info.short} />
      </td>
      <td className="mono ellipsis" title={info.path}>
        {info.isDefault ? 'default key' : info.path}
      </td>
      <td>{formatTime(info.created)}</td>
      <td className={info.unlocked ? 'ok' : 'muted'}>{state}</td>
      <td className="key-actions">
        {info.unlocked ? (
          <button type="button" onClick={() => void a.lock(info.fingerprint)} aria-label={`Lock ${info.short}`}>
            Lock
          </button>
        ) : (
          <button type="button" onClick={() => void a.ask(info.fingerprint)} aria-label={`Unlock ${info.short}`}>
            Unlock…
          </button>
        )}
        {info.remembered && (
          <button type="button" onClick={() => void a.forget(info.fingerprint)}>
            Forget on this computer
          </button>
        )}
        <button
          type="button"
          disabled={info.kdf === 'none'}
          title={info.kdf === 'none' ? 'This key file has no passphrase: its paper key would be the key itself' : ''}
          onClick={() => void a.paper(info.fingerprint)}
        >
          Paper key…
        </button>
      </td>
    </tr>
  );
}

/** An existing key file (cairn key create, Proxmox Backup) added to the list; its key stays locked. */
function AddKeyFile() {
  const { client, refresh } = useAppShallow((s) => ({ client: s.client, refresh: s.refreshKeys }));
  const [path, setPath] = useState('');
  const [error, setError] = useState<string>();
  return (
    <details className="add-key">
      <summary>Add a key file…</summary>
      <PathField label="Key file" value={path} onChange={setPath} pick="file" pickTitle="Key file" error={error} />
      <button
        type="button"
        disabled={path.trim() === ''}
        onClick={async () => {
          try {
            await client.addKey({ path });
            setPath('');
            setError(undefined);
            await refresh();
          } catch (err) {
            setError(errorInfo(err).message);
          }
        }}
      >
        Add
      </button>
    </details>
  );
}
