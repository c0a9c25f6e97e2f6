import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { shortKeyFingerprint, type KeyInfo } from '../../../contract/keys.js';
import { errorInfo } from '../api/client.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PassphraseField, RememberChoice } from './PassphraseField.js';
import { KeyName } from './LockBadge.js';
import { PathField } from './PathField.js';

/** Whether two fingerprints name the same key (PBS reads any case, with or without colons). */
export function sameKey(a: string, b: string): boolean {
  return a.replaceAll(':', '').toLowerCase() === b.replaceAll(':', '').toLowerCase();
}

/**
 * Asked whenever an action needs a locked key (api/unlocking-client.ts): the key's short fingerprint, its
 * passphrase and, where the system keychain can keep it, "remember". Unlocked, the waiting action runs again.
 * A key no known file holds asks for its key file first.
 */
export function UnlockPrompt() {
  const { request, keyList, finish, client, refreshKeys } = useAppShallow((s) => ({
    request: s.unlockRequest,
    keyList: s.keyList,
    finish: s.finishUnlock,
    client: s.client,
    refreshKeys: s.refreshKeys,
  }));
  const [passphrase, setPassphrase] = useState('');
  const [remember, setRemember] = useState(false);
  const [keyFile, setKeyFile] = useState('');
  const [error, setError] = useState<AppErrorInfo>();
  const [busy, setBusy] = useState(false);
  if (!request) return null;
  const short = shortKeyFingerprint(request.fingerprint);
  const key = keyList?.keys.find((k) => sameKey(k.fingerprint, request.fingerprint));
  const offer = keyList?.remember;

  const unlock = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await client.unlockKey({
        fingerprint: request.fingerprint,
        ...(key?.kdf === 'none' ? {} : { passphrase }),
        ...(remember && offer?.available ? { remember } : {}),
      });
      setPassphrase('');
      finish(true);
    } catch (err) {
      setError(errorInfo(err));
    } finally {
      setBusy(false);
    }
  };
  const addFile = async () => {
    try {
      const added = await client.addKey({ path: keyFile });
      if (!sameKey(added.fingerprint, request.fingerprint))
        setError({ code: 'WRONG_KEY', message: `${keyFile} holds the key ${added.short}, not ${short}` });
      await refreshKeys();
    } catch (err) {
      setError(errorInfo(err));
    }
  };

  return (
    <Modal title="Unlock the encryption key" onClose={() => finish(false)} className="unlock-prompt">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void unlock();
        }}
      >
        <p>
          This needs the key <KeyName short={short} />
          {key ? (
            <>
              {' '}
              from <span className="mono">{key.path}</span>.
            </>
          ) : (
            '.'
          )}
        </p>
        {key ? (
          <UnlockFields info={key} passphrase={passphrase} setPassphrase={setPassphrase} />
        ) : (
          <PathField
            label="Key file"
            value={keyFile}
            onChange={setKeyFile}
            pick="file"
            pickTitle="Key file"
            hint="No key file Cairn knows holds this key: choose it (made by cairn key create or by Proxmox Backup)."
          />
        )}
        {key && <RememberChoice offer={offer} checked={remember} onChange={setRemember} />}
        <ErrorNote error={error} />
        <footer className="modal-footer">
          <button type="button" onClick={() => finish(false)}>
            Cancel
          </button>
          {key ? (
            <button type="submit" className="primary" disabled={busy || (key.kdf !== 'none' && passphrase === '')}>
              {busy ? 'Unlocking…' : 'Unlock'}
            </button>
          ) : (
            <button type="button" className="primary" disabled={keyFile.trim() === ''} onClick={() => void addFile()}>
              Add key file
            </button>
          )}
        </footer>
      </form>
    </Modal>
  );
}

function UnlockFields(p: { info: KeyInfo; passphrase: string; setPassphrase(v: string): void }) {
  if (p.info.kdf === 'none') return <p className="muted small">This key file has no passphrase.</p>;
  return (
    <>
      <PassphraseField
        label="Passphrase"
        value={p.passphrase}
        onChange={p.setPassphrase}
        autoComplete="current-password"
      />
      {p.info.hint && <p className="muted small">Hint: {p.info.hint}</p>}
    </>
  );
}
