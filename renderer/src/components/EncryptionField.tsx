import { useId, useState } from 'react';
import type { BackupEncryption } from '../../../contract/keys.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { KeyBadge, shortKey } from './KeyBadge.js';

const CREATE = '__create__';

/**
 * "Encrypt this backup" and with which key, for a backup dialog. A group whose backups are encrypted starts
 * encrypted with its key (a plain backup into it is refused anyway); a locked key is asked for on start.
 */
export function useBackupEncryption(groupId: string) {
  const group = useApp((s) => s.groups.find((g) => g.type === 'host' && g.id === groupId));
  const groupKey = group?.encrypted ? group.keyFingerprint : undefined;
  const [chosen, setChosen] = useState<{ on: boolean; key?: string }>();
  const on = chosen?.on ?? groupKey !== undefined;
  const key = chosen?.key ?? groupKey;
  const spec: { encrypt?: BackupEncryption } = on && key ? { encrypt: { keyFingerprint: key } } : {};
  return { on, key, groupKey, spec, ready: !on || key !== undefined, set: setChosen };
}

export function EncryptionField({ encryption }: { encryption: ReturnType<typeof useBackupEncryption> }) {
  const { ring, openKeyWizard } = useAppShallow((s) => ({ ring: s.keyRing, openKeyWizard: s.openKeyWizard }));
  const selectId = useId();
  const keys = (ring?.keys ?? []).filter((k) => k.fingerprint !== undefined);
  const { on, key, groupKey } = encryption;
  const firstKey = keys.find((k) => k.unlocked)?.fingerprint ?? keys[0]?.fingerprint;
  const choose = async (value: string) => {
    if (value !== CREATE) return encryption.set({ on: true, key: value });
    const created = await openKeyWizard();
    if (created?.fingerprint) encryption.set({ on: true, key: created.fingerprint });
  };
  return (
    <fieldset className="encryption-field">
      <label className="inline">
        <input
          type="checkbox"
          checked={on}
          onChange={(e) => encryption.set({ on: e.target.checked, key: key ?? firstKey })}
        />
        Encrypt this backup
      </label>
      {on && (
        <div className="row">
          <label htmlFor={selectId}>Key</label>
          <select id={selectId} value={key ?? ''} onChange={(e) => void choose(e.target.value)}>
            {key === undefined && <option value="">Choose a key…</option>}
            {keys.map((k) => (
              <option key={k.fingerprint} value={k.fingerprint}>
                {k.short}
                {k.isDefault ? ' (default)' : ''}
                {k.unlocked ? '' : ' · locked'}
              </option>
            ))}
            {key !== undefined && !keys.some((k) => k.fingerprint === key) && (
              <option value={key}>{shortKey(key)} · not on this computer</option>
            )}
            <option value={CREATE}>Create a key…</option>
          </select>
        </div>
      )}
      {groupKey && !on && (
        <p className="warn small">
          This group’s backups are encrypted with <KeyBadge fingerprint={groupKey} />: a plain backup into it is
          refused. Encrypt it, or back up into another group.
        </p>
      )}
      {on && key !== undefined && groupKey !== undefined && key !== groupKey && (
        <p className="muted small">Another key than the group’s: this backup reads everything again.</p>
      )}
    </fieldset>
  );
}
