import { useEffect, useId } from 'react';
import type { KeyRow } from '../../../contract/keys.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { useAppShallow } from '../state/use-app.js';
import { KeyBadge, shortKey } from './KeyBadge.js';

const CREATE = '__create__';

/**
 * Whether the plan's backups are encrypted, and with which key (or a new one from the key wizard). A run takes
 * the key while the app has it unlocked; `cairn scheduler` reads its file. The editor says so, since a run that
 * finds the key locked fails (and tells).
 */
export function PlanKeyFields({ form, set }: EditorPart) {
  const { ring, refreshKeys, openKeyWizard } = useAppShallow((s) => ({
    ring: s.keyRing,
    refreshKeys: s.refreshKeys,
    openKeyWizard: s.openKeyWizard,
  }));
  const selectId = useId();
  useEffect(() => {
    void refreshKeys();
  }, [refreshKeys]);
  const keys = (ring?.keys ?? []).filter((k) => k.fingerprint !== undefined);
  const chosen = form.encryption?.keyFingerprint;
  const pickKey = (key: KeyRow | undefined) =>
    set('encryption', key ? { keyFingerprint: key.fingerprint!, keyFile: key.path } : undefined);
  const choose = async (value: string) => {
    if (value !== CREATE) return pickKey(keys.find((k) => k.fingerprint === value));
    const created = await openKeyWizard();
    if (created?.fingerprint) pickKey(created);
  };
  // No key yet: turning encryption on makes one.
  const turnOn = () => (keys.length === 0 ? choose(CREATE) : pickKey(keys.find((k) => k.unlocked) ?? keys[0]));
  const row = keys.find((k) => k.fingerprint === chosen);
  return (
    <fieldset className="editor-section">
      <legend>Encryption</legend>
      <label className="inline">
        <input
          type="checkbox"
          checked={form.encryption !== undefined}
          onChange={(e) => void (e.target.checked ? turnOn() : pickKey(undefined))}
        />
        Encrypt this plan’s backups
      </label>
      {form.encryption === undefined && keys.length === 0 && (
        <p className="muted small">There is no key yet: turning this on makes one.</p>
      )}
      {form.encryption && (
        <div className="row">
          <label htmlFor={selectId}>Key</label>
          <select id={selectId} value={chosen} onChange={(e) => void choose(e.target.value)}>
            {keys.map((k) => (
              <option key={k.fingerprint} value={k.fingerprint}>
                {k.short}
                {k.isDefault ? ' (default)' : ''}
                {k.unlocked ? '' : ' · locked'}
              </option>
            ))}
            {!row && <option value={chosen}>{shortKey(chosen)} · not on this computer</option>}
            <option value={CREATE}>Create a key…</option>
          </select>
        </div>
      )}
      {form.encryption && <PlanKeyNote row={row} fingerprint={chosen} />}
    </fieldset>
  );
}

function PlanKeyNote({ row, fingerprint }: { row: KeyRow | undefined; fingerprint: string | undefined }) {
  return (
    <p className="muted small">
      Runs use <KeyBadge fingerprint={fingerprint} /> while Cairn has it unlocked
      {row?.remembered ? ' (it is remembered on this computer)' : ''}; with it locked, a run fails and says so.
      {row && !row.unlocked && ' It is locked now.'} <span className="mono">cairn scheduler</span> reads its key file
      {row?.kdf === 'none' ? '' : ', with the passphrase in CAIRN_PASSPHRASE'}.
    </p>
  );
}
