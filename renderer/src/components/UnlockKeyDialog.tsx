import { useId, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { errorInfo } from '../api/client.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { KeyBadge, shortKey } from './KeyBadge.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';

/**
 * Asks for the key an action needs (it answered KEY_REQUIRED): the key's passphrase, or its key file when the app
 * knows none that holds it. Once unlocked, the action that asked runs again.
 */
export function UnlockKeyDialog() {
  const { prompt, ring } = useAppShallow((s) => ({ prompt: s.keyPrompt, ring: s.keyRing }));
  if (!prompt) return null;
  const known = ring?.keys.find((k) => k.fingerprint !== undefined && k.fingerprint === prompt.fingerprint);
  return <UnlockForm key={prompt.fingerprint ?? ''} knownPath={known?.path} hint={known?.hint} kdf={known?.kdf} />;
}

function UnlockForm({ knownPath, hint, kdf }: { knownPath?: string; hint?: string; kdf?: string }) {
  const { prompt, ring, unlockKey } = useAppShallow((s) => ({
    prompt: s.keyPrompt!,
    ring: s.keyRing,
    unlockKey: s.unlockKey,
  }));
  const [passphrase, setPassphrase] = useState('');
  const [keyFile, setKeyFile] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<AppErrorInfo>();
  const [busy, setBusy] = useState(false);
  const passId = useId();
  const short = shortKey(prompt.fingerprint);
  const needsFile = ring !== undefined && knownPath === undefined;
  const cancel = () => prompt.resolve(false);

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const by = needsFile ? { path: keyFile } : { fingerprint: prompt.fingerprint };
      const row = await unlockKey({ ...by, passphrase: passphrase || undefined, remember: remember || undefined });
      if (prompt.fingerprint && row.fingerprint !== prompt.fingerprint) {
        setError({ code: 'WRONG_KEY', message: `${row.path} holds the key ${row.short}, not ${short}` });
        return;
      }
      prompt.resolve(true);
    } catch (err) {
      setError(errorInfo(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Unlock the encryption key" onClose={cancel} className="unlock-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p>
          This backup is encrypted with the key <KeyBadge fingerprint={prompt.fingerprint} />. Unlock it to go on; it
          stays unlocked until you lock it or Cairn stops.
        </p>
        {needsFile ? (
          <PathField
            label="Key file"
            name="unlock-key-file"
            value={keyFile}
            onChange={setKeyFile}
            pickTitle="The key file"
            pick="file"
          />
        ) : (
          <p className="muted small mono">{knownPath}</p>
        )}
        {kdf !== 'none' && (
          <div className="field">
            <label htmlFor={passId}>Passphrase</label>
            <input
              id={passId}
              type="password"
              autoComplete="off"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
            />
            {hint && <span className="muted small">Hint: {hint}</span>}
          </div>
        )}
        <RememberChoice remember={remember} onChange={setRemember} />
        <ErrorNote error={error} />
        <footer className="modal-footer">
          <button type="button" onClick={cancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || (needsFile && keyFile.trim() === '')}>
            Unlock
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** "Remember on this computer" where the host can seal keys (the desktop app's keychain); else why not. */
function RememberChoice({ remember, onChange }: { remember: boolean; onChange(value: boolean): void }) {
  const { ring } = useAppShallow((s) => ({ ring: s.keyRing }));
  if (!ring) return null;
  if (!ring.remember.available) return <p className="muted small remember-why">Not remembered: {ring.remember.why}.</p>;
  return (
    <label className="inline">
      <input type="checkbox" checked={remember} onChange={(e) => onChange(e.target.checked)} />
      Remember on this computer (sealed by the system keychain; unlocked when Cairn starts)
    </label>
  );
}
