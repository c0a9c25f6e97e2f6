import { SlashBreaks } from './SlashBreaks.js';
import { useId, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { KeyRow } from '../../../contract/keys.js';
import { errorInfo } from '../api/client.js';
import { usePassphraseStrength } from '../hooks/use-passphrase-strength.js';
import { passphraseBytes, STRENGTH_WORDS } from '../passphrase-strength.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { KeyBadge } from './KeyBadge.js';
import { Modal } from './Modal.js';
import { PaperKeyButton } from './PaperKeyButton.js';
import { PassphraseField } from './PassphraseField.js';

/** A new encryption key: its passphrase twice (with a strength meter) and a hint, then "save the paper key now". */
export function KeyWizard() {
  const wizard = useApp((s) => s.keyWizard);
  const [created, setCreated] = useState<KeyRow>();
  if (!wizard) return null;
  const close = () => wizard.resolve(created);
  return (
    <Modal
      title={created ? 'Save the paper key now' : 'Create an encryption key'}
      onClose={close}
      className="key-wizard"
    >
      {created ? <PaperKeyStep created={created} onDone={close} /> : <PassphraseStep onCreated={setCreated} />}
    </Modal>
  );
}

function PassphraseStep({ onCreated }: { onCreated(key: KeyRow): void }) {
  const { createKey, ring, wizard } = useAppShallow((s) => ({
    createKey: s.createKey,
    ring: s.keyRing,
    wizard: s.keyWizard,
  }));
  const cancel = () => wizard?.resolve(undefined);
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [hint, setHint] = useState('');
  const [error, setError] = useState<AppErrorInfo>();
  const [busy, setBusy] = useState(false);
  const hintId = useId();
  const score = usePassphraseStrength(passphrase);
  const hasDefault = ring?.keys.some((k) => k.isDefault) ?? false;
  const tooShort = passphraseBytes(passphrase) < 5;
  const mismatch = again !== '' && again !== passphrase;

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // The first key is the default one; another goes beside it, named by the time it was made.
      const path =
        hasDefault && ring ? ring.defaultPath.replace(/default\.json$/, `key-${Date.now()}.json`) : undefined;
      onCreated(await createKey({ path, passphrase, hint: hint.trim() || undefined }));
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
        void submit();
      }}
    >
      <p>
        Backups made with this key can only be read with it. Cairn keeps it in a key file protected by this passphrase:
        forget both, and the backups are lost for good.
      </p>
      <PassphraseField label="Passphrase" value={passphrase} onChange={setPassphrase} autoComplete="new-password">
        <StrengthMeter score={score} tooShort={passphrase !== '' && tooShort} />
      </PassphraseField>
      <PassphraseField
        label="Passphrase again"
        value={again}
        onChange={setAgain}
        autoComplete="new-password"
        invalid={mismatch}
      >
        {mismatch && <span className="field-error">The two passphrases differ.</span>}
      </PassphraseField>
      <div className="field">
        <label htmlFor={hintId}>Hint (optional, stored in the key file as it is)</label>
        <input id={hintId} type="text" value={hint} onChange={(e) => setHint(e.target.value)} />
      </div>
      <ErrorNote error={error} />
      <footer className="modal-footer">
        <button type="button" onClick={cancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || tooShort || again !== passphrase}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </footer>
    </form>
  );
}

/** Five bars and a word; a weak passphrase is allowed, but said so (the key file is all an attacker needs). */
function StrengthMeter({ score, tooShort }: { score: number | undefined; tooShort: boolean }) {
  if (tooShort) return <span className="field-error">At least 5 characters.</span>;
  if (score === undefined) return <span className="strength muted small">&nbsp;</span>;
  return (
    <span className={`strength strength-${score}`} aria-live="polite">
      <meter min={0} max={4} low={2} high={3} optimum={4} value={score} aria-label="Passphrase strength" />
      <span className="small">
        {STRENGTH_WORDS[score as 0]}
        {score < 2 && ': whoever gets the key file could guess it'}
      </span>
    </span>
  );
}

function PaperKeyStep({ created, onDone }: { created: KeyRow; onDone(): void }) {
  return (
    <div>
      <p>
        The key <KeyBadge fingerprint={created.fingerprint} /> is ready and unlocked. Its file is{' '}
        <span className="mono">
          <SlashBreaks text={created.path} />
        </span>
        .
      </p>
      <p>
        Print its paper key and keep it somewhere safe: if this computer is lost, the paper key and the passphrase bring
        the backups back (with Cairn or proxmox-backup-client).
      </p>
      <footer className="modal-footer">
        <button type="button" onClick={onDone}>
          Later
        </button>
        {created.fingerprint && <PaperKeyButton fingerprint={created.fingerprint} primary onSaved={onDone} />}
      </footer>
    </div>
  );
}
