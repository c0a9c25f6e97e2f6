import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { SourceCheck } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';

type Mismatch = SourceCheck & { id: string; source: string };

/**
 * A backup dialog's question before it starts: does `host/<id>` record another folder or image? Then the backup
 * waits for the user's choice (a group of its own, or this one anyway); asked again once id or source change.
 */
export function useSourceConfirmation(kind: 'folder' | 'image') {
  const client = useApp((s) => s.client);
  const [mismatch, setMismatch] = useState<Mismatch>();
  const [error, setError] = useState<AppErrorInfo>();
  const pending = (id: string, source: string) =>
    mismatch?.id === id && mismatch.source === source ? mismatch : undefined;

  /** Whether to start now, and with the user's consent to another source; undefined: wait (mismatch or error shown). */
  const mayStart = async (
    store: string,
    source: string,
    id: string,
  ): Promise<{ allowOtherSource?: true } | undefined> => {
    if (pending(id, source)) return { allowOtherSource: true }; // asked already: the user chose "anyway"
    try {
      const check = await client.checkBackupSource({ store, source, id, ...(kind === 'image' ? { kind } : {}) });
      setError(undefined);
      if (check.matches) return {};
      setMismatch({ ...check, id, source });
    } catch (err) {
      setError(errorInfo(err));
    }
    return undefined;
  };
  return { pending, mayStart, error, clear: () => setMismatch(undefined) };
}

/** Another folder or image of the same name would share a group: say what the group holds, offer one of its own. */
export function SourceMismatchNote({
  check,
  id,
  what,
  chooseId,
}: {
  check: SourceCheck;
  id: string;
  what: 'folder' | 'image';
  chooseId(id: string): void;
}) {
  return (
    <div className="error-note" role="alert">
      <p>
        <strong>
          host/{id} already holds backups of {check.recorded ?? `another ${what}`}.
        </strong>{' '}
        Backing up this {what} there would mix two sources in one group, and pruning would treat them as one: a
        keep-last rule could delete the other source&apos;s only backup.
      </p>
      {check.suggestedId && (
        <button type="button" className="primary" onClick={() => chooseId(check.suggestedId!)}>
          Use a group of its own: host/{check.suggestedId}
        </button>
      )}
      <p className="muted small">
        If it is the same {what}, moved or renamed, “Back up into host/{id} anyway” makes the group record the new
        place.
      </p>
    </div>
  );
}

/** Under a backup dialog's fields: the question about another source when there is one, else the error if any. */
export function SourceCheckNote({
  mismatch,
  id,
  what,
  error,
  chooseId,
}: {
  mismatch: SourceCheck | undefined;
  id: string;
  what: 'folder' | 'image';
  error: AppErrorInfo | undefined;
  chooseId(id: string): void;
}) {
  return mismatch ? (
    <SourceMismatchNote check={mismatch} id={id} what={what} chooseId={chooseId} />
  ) : (
    <ErrorNote error={error} />
  );
}

/**
 * A backup dialog's buttons: the start button names the group when the backup would go into one that records
 * another source (SourceMismatchNote explains), so that choice is never a plain "Start".
 */
export function BackupDialogFooter({
  startLabel,
  mismatch,
  id,
  disabled,
  onCancel,
}: {
  startLabel: string;
  mismatch: SourceCheck | undefined;
  id: string;
  disabled: boolean;
  onCancel(): void;
}) {
  return (
    <footer className="modal-footer">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={disabled}>
        {mismatch ? `Back up into host/${id} anyway` : startLabel}
      </button>
    </footer>
  );
}
