import type { KeyRow } from '../../../contract/keys.js';
import { formatTime } from '../../../contract/format.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { KeyBadge } from './KeyBadge.js';
import { PaperKeyButton } from './PaperKeyButton.js';

/** Settings › Keys: the key files the app knows, each locked or unlocked, with its paper key. */
export function KeysView() {
  const { ring, error, openKeyWizard, close, addKeyFile } = useAppShallow((s) => ({
    ring: s.keyRing,
    error: s.keysError,
    openKeyWizard: s.openKeyWizard,
    close: s.closeKeys,
    addKeyFile: s.addKeyFile,
  }));
  return (
    <main className="keys-view" aria-labelledby="keys-title">
      <div className="row">
        <h2 id="keys-title" className="grow">
          Encryption keys
        </h2>
        <button type="button" className="primary" onClick={() => void openKeyWizard()}>
          Create a key…
        </button>
        <button type="button" onClick={() => void addKeyFile()}>
          Add a key file…
        </button>
        <button type="button" onClick={close}>
          Close
        </button>
      </div>
      <p className="muted">
        Keys are PBS key files: a backup encrypted with one is read only with it. Unlocked keys stay in Cairn’s memory
        until locked or Cairn stops.{' '}
        {ring && !ring.remember.available && <>Keys are not remembered here: {ring.remember.why}.</>}
      </p>
      <ErrorNote error={error} />
      {ring && ring.keys.length === 0 && <p className="muted">No keys yet.</p>}
      <ul className="key-list" aria-label="Encryption keys">
        {ring?.keys.map((k) => (
          <KeyLine key={k.path} row={k} />
        ))}
      </ul>
    </main>
  );
}

function KeyLine({ row }: { row: KeyRow }) {
  const { lockKey, askForKey, forget } = useAppShallow((s) => ({
    lockKey: s.lockKey,
    askForKey: s.askForKey,
    forget: s.forgetRememberedKey,
  }));
  return (
    <li className="key-line" data-key={row.fingerprint}>
      <div className="grow">
        <div>
          <KeyBadge fingerprint={row.fingerprint} /> {row.isDefault && <span className="badge">default</span>}{' '}
          <strong>{row.unlocked ? 'unlocked' : 'locked'}</strong>
          {row.remembered && <span className="muted small"> · remembered on this computer</span>}
        </div>
        <div className="mono small muted">{row.path}</div>
        {row.problem ? (
          <div className="warn small">{row.problem}</div>
        ) : (
          <div className="muted small">
            made {formatTime(row.created)} · {row.kdf === 'none' ? 'no passphrase' : `passphrase (${row.kdf})`}
            {row.hint && <> · hint: {row.hint}</>}
          </div>
        )}
      </div>
      {row.fingerprint && (
        <div className="key-actions">
          {row.unlocked ? (
            <button
              type="button"
              onClick={() => void lockKey(row.fingerprint!, row.remembered)}
              title={row.remembered ? 'Locks it and forgets the copy kept on this computer' : undefined}
            >
              {row.remembered ? 'Lock and forget' : 'Lock'}
            </button>
          ) : (
            <button type="button" onClick={() => void askForKey(row.fingerprint)}>
              Unlock…
            </button>
          )}
          {row.remembered && (
            <button
              type="button"
              title="It stays unlocked until Cairn stops, then needs its passphrase again"
              onClick={() => void forget(row.fingerprint!)}
            >
              Forget on this computer
            </button>
          )}
          {/* Without a passphrase the paper key is the key itself: `cairn key paperkey` prints it. */}
          {row.kdf !== 'none' && <PaperKeyButton fingerprint={row.fingerprint} />}
        </div>
      )}
    </li>
  );
}
