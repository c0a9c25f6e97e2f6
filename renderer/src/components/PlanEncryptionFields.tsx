import { useId } from 'react';
import type { KeyRow } from '../../../contract/keys.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { useAppShallow } from '../state/use-app.js';
import { Check } from './FormFields.js';
import { shortKey } from './KeyBadge.js';

const CREATE = '__create__';

/** The plan's key: by fingerprint and key file, so a run outside the app can open it too. */
function encryptionOf(key: KeyRow): { keyFingerprint: string; keyFile: string } | undefined {
  return key.fingerprint ? { keyFingerprint: key.fingerprint, keyFile: key.path } : undefined;
}

/** "Encrypt its backups" and the key, in the plan editor. */
export function PlanEncryptionFields({ form, set }: EditorPart) {
  const { ring, openKeyWizard } = useAppShallow((s) => ({ ring: s.keyRing, openKeyWizard: s.openKeyWizard }));
  const selectId = useId();
  const keys = (ring?.keys ?? []).filter((k) => k.fingerprint !== undefined);
  const chosen = form.encryption;
  const choose = async (value: string) => {
    const key = value === CREATE ? await openKeyWizard() : keys.find((k) => k.fingerprint === value);
    const encryption = key && encryptionOf(key);
    if (encryption) set('encryption', encryption);
  };
  const turn = (on: boolean) => {
    const first = keys.find((k) => k.unlocked) ?? keys[0];
    if (!on) set('encryption', undefined);
    else if (first) set('encryption', encryptionOf(first));
    else void choose(CREATE);
  };
  return (
    <fieldset className="editor-section">
      <legend>Encryption</legend>
      <Check
        label="Encrypt its backups"
        checked={chosen !== undefined}
        onChange={turn}
        hint="Runs in the app need the key unlocked (or remembered); cairn scheduler opens a key without passphrase, or with $CAIRN_PASSPHRASE."
      />
      {chosen && (
        <div className="field">
          <label htmlFor={selectId}>Key</label>
          <select id={selectId} value={chosen.keyFingerprint} onChange={(e) => void choose(e.target.value)}>
            {keys.map((k) => (
              <option key={k.fingerprint} value={k.fingerprint}>
                {k.short}
                {k.isDefault ? ' (default)' : ''}
                {k.unlocked ? '' : ' · locked'}
              </option>
            ))}
            {!keys.some((k) => k.fingerprint === chosen.keyFingerprint) && (
              <option value={chosen.keyFingerprint}>{shortKey(chosen.keyFingerprint)} · not known here</option>
            )}
            <option value={CREATE}>Create a key…</option>
          </select>
          <span className="muted small mono">{chosen.keyFile}</span>
        </div>
      )}
    </fieldset>
  );
}
