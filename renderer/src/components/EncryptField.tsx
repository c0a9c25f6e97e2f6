import { useEffect, useId, useState } from 'react';
import type { KeyInfo } from '../../../contract/keys.js';
import { shortKeyFingerprint } from '../../../contract/keys.js';
import { useAppShallow } from '../state/use-app.js';
import { KeyName } from './LockBadge.js';
import { sameKey } from './UnlockPrompt.js';

/** The encryption a dialog asks for: off, or the key (by fingerprint) to encrypt with. */
export interface EncryptChoice {
  on: boolean;
  fingerprint?: string;
}

/**
 * A backup's encryption, as a dialog holds it. A group whose newest snapshot is encrypted must go on with that
 * key (core refuses a plain backup into it), so its key is chosen and fixed; otherwise off until asked for.
 */
export function useEncryptChoice(groupKey: string | undefined, initial?: EncryptChoice) {
  const [choice, setChoice] = useState<EncryptChoice>(initial ?? { on: false });
  const effective: EncryptChoice = groupKey ? { on: true, fingerprint: groupKey } : choice;
  return {
    choice: effective,
    fixed: groupKey !== undefined,
    setChoice,
    /** The job spec's part: `encrypt` with the fingerprint, or nothing. */
    spec: (): { encrypt?: { fingerprint: string } } =>
      effective.on && effective.fingerprint ? { encrypt: { fingerprint: effective.fingerprint } } : {},
    /** Encryption asked for but no key chosen: the dialog cannot start yet. */
    incomplete: effective.on && !effective.fingerprint,
  };
}

/** "Encrypt this backup": the checkbox, the key to use (or a new one made with the key wizard). */
export function EncryptField({ state, groupPath }: { state: ReturnType<typeof useEncryptChoice>; groupPath?: string }) {
  const { keyList, refreshKeys, openKeyWizard } = useAppShallow((s) => ({
    keyList: s.keyList,
    refreshKeys: s.refreshKeys,
    openKeyWizard: s.openKeyWizard,
  }));
  const id = useId();
  useEffect(() => {
    void refreshKeys();
  }, [refreshKeys]);
  const { choice, fixed, setChoice } = state;
  const keys = keyList?.keys ?? [];
  const newKey = async () => {
    const made = await openKeyWizard();
    if (made) setChoice({ on: true, fingerprint: made.fingerprint });
  };
  const toggle = (on: boolean) =>
    setChoice({ on, fingerprint: on ? (choice.fingerprint ?? defaultChoice(keys)?.fingerprint) : undefined });
  return (
    <fieldset className="encrypt-field">
      <legend className="visually-hidden">Encryption</legend>
      <label className="inline">
        <input type="checkbox" checked={choice.on} disabled={fixed} onChange={(e) => toggle(e.target.checked)} />{' '}
        Encrypt this backup
      </label>
      {fixed && (
        <p className="muted small">
          {groupPath ?? 'This group'} is encrypted with the key{' '}
          <KeyName short={shortKeyFingerprint(choice.fingerprint!)} />: its backups go on with it.
        </p>
      )}
      {choice.on && !fixed && (
        <div className="row">
          <label htmlFor={id}>Key</label>
          <select
            id={id}
            value={choice.fingerprint ?? ''}
            onChange={(e) => setChoice({ on: true, fingerprint: e.target.value || undefined })}
          >
            {keys.length === 0 && <option value="">(no key yet)</option>}
            {keys.map((k) => (
              <option key={k.path} value={k.fingerprint}>
                {keyLabel(k)}
              </option>
            ))}
          </select>
          <button type="button" onClick={() => void newKey()}>
            New key…
          </button>
        </div>
      )}
      {choice.on && lockedChoice(keys, choice.fingerprint) && (
        <p className="muted small">The key is locked: Cairn asks for its passphrase when the backup starts.</p>
      )}
    </fieldset>
  );
}

function keyLabel(k: KeyInfo): string {
  const where = k.isDefault ? 'default key' : (k.path.split('/').pop() ?? k.path);
  return `${k.short} · ${where}${k.unlocked ? '' : ' (locked)'}`;
}

/** The key offered first: an unlocked one, else the default one, else any. */
function defaultChoice(keys: KeyInfo[]): KeyInfo | undefined {
  return keys.find((k) => k.unlocked) ?? keys.find((k) => k.isDefault) ?? keys[0];
}

function lockedChoice(keys: KeyInfo[], fingerprint: string | undefined): boolean {
  const key = fingerprint ? keys.find((k) => sameKey(k.fingerprint, fingerprint)) : undefined;
  return key !== undefined && !key.unlocked;
}
