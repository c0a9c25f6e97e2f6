import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { MIN_PASSPHRASE_BYTES, type KeyInfo } from '../../../contract/keys.js';
import { errorInfo } from '../api/client.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PassphraseField, RememberChoice } from './PassphraseField.js';
import { KeyName } from './LockBadge.js';
import { StrengthMeter } from './StrengthMeter.js';

/**
 * A new encryption key in two steps: its passphrase (twice, with a strength meter), then "save the paper key now"
 * (the printable page: the key encrypted under that passphrase), since a lost key file means lost backups.
 */
export function KeyWizard() {
  const { wizard, finish } = useAppShallow((s) => ({ wizard: s.keyWizard, finish: s.finishKeyWizard }));
  const [created, setCreated] = useState<KeyInfo>();
  if (!wizard) return null;
  const close = () => {
    setCreated(undefined);
    finish(created);
  };
  return (
    <Modal title={created ? 'Save the paper key now' : 'New encryption key'} onClose={close} className="key-wizard">
      {created ? <PaperKeyStep created={created} onDone={close} /> : <PassphraseStep onCreated={setCreated} />}
    </Modal>
  );
}

function PassphraseStep({ onCreated }: { onCreated(key: KeyInfo): void }) {
  const { client, keyList } = useAppShallow((s) => ({ client: s.client, keyList: s.keyList }));
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [hint, setHint] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<AppErrorInfo>();
  const [busy, setBusy] = useState(false);
  const tooShort = new TextEncoder().encode(passphrase).length < MIN_PASSPHRASE_BYTES;
  const mismatch = repeat !== '' && repeat !== passphrase;
  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onCreated(
        await client.createKey({
          passphrase,
          ...(hint.trim() ? { hint: hint.trim() } : {}),
          ...(remember && keyList?.remember.available ? { remember } : {}),
        }),
      );
    } catch (err) {
      setError(errorInfo(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
    >
      <p className="muted small">
        Backups encrypted with this key open only with it. The key is kept in{' '}
        <span className="mono">{keyList?.defaultPath ?? 'the keys folder'}</span>, encrypted with the passphrase.
      </p>
      <PassphraseField label="Passphrase" value={passphrase} onChange={setPassphrase} autoComplete="new-password" />
      <StrengthMeter passphrase={passphrase} userInputs={['cairn', 'backup', hint]} />
      <PassphraseField
        label="Passphrase again"
        value={repeat}
        onChange={setRepeat}
        autoComplete="new-password"
        error={mismatch ? 'The two passphrases differ.' : undefined}
      />
      <div className="field">
        <label htmlFor="key-hint">Hint (optional)</label>
        <input
          id="key-hint"
          type="text"
          value={hint}
          maxLength={200}
          aria-describedby="key-hint-note"
          onChange={(e) => setHint(e.target.value)}
        />
        <span id="key-hint-note" className="muted small">
          Shown when a passphrase given is wrong. Anyone with the key file can read it: never the passphrase itself.
        </span>
      </div>
      <RememberChoice offer={keyList?.remember} checked={remember} onChange={setRemember} />
      <ErrorNote error={error} />
      <footer className="modal-footer">
        <button type="submit" className="primary" disabled={busy || tooShort || repeat !== passphrase}>
          {busy ? 'Creating the key…' : 'Create key'}
        </button>
      </footer>
    </form>
  );
}

function PaperKeyStep({ created, onDone }: { created: KeyInfo; onDone(): void }) {
  const { openPaperKey, saved, error } = useAppShallow((s) => ({
    openPaperKey: s.openPaperKey,
    saved: s.paperKeySaved,
    error: s.keysError,
  }));
  const desktop = useApp((s) => s.info?.host === 'electron');
  return (
    <div>
      <p>
        The key <KeyName short={created.short} /> is made and unlocked. If its file is lost, so are the backups made
        with it: print its paper key now and keep it somewhere safe. The page holds the key encrypted with your
        passphrase, as text and as a QR code; it needs the passphrase to be of use.
      </p>
      <p className="muted small">
        Key file: <span className="mono">{created.path}</span>
      </p>
      {saved && (
        <p className="note" role="status">
          Saved as <span className="mono">{saved}</span>: open it and print it.
        </p>
      )}
      <ErrorNote error={error} />
      <footer className="modal-footer">
        <button type="button" className="primary" onClick={() => void openPaperKey(created.fingerprint)}>
          {desktop ? 'Save the paper key…' : 'Open the paper key to print'}
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </footer>
    </div>
  );
}
