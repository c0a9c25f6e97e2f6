import { useState } from 'react';
import { useSourceConfirmation } from '../components/SourceCheck.js';
import { useApp } from '../state/use-app.js';

/**
 * A backup dialog's group: its id, which follows the source's name (`suggestedId`) until the user types one of
 * their own, whether the group exists, and the question before starting whether it records another source.
 */
export function useBackupTarget(kind: 'folder' | 'image', source: string, suggestedId: string) {
  const groups = useApp((s) => s.groups);
  const [typedId, setTypedId] = useState<string>();
  const id = typedId ?? suggestedId;
  const sourceCheck = useSourceConfirmation(kind);
  const group = groups.find((g) => g.type === 'host' && g.id === id);
  return {
    id,
    setTypedId,
    /** The group exists: 'empty' when it holds no finished snapshot (a first backup cancelled), so none to build on. */
    existing: group === undefined ? false : group.lastBackup === undefined ? ('empty' as const) : true,
    /** The other source host/<id> records, while the user has not answered. */
    mismatch: sourceCheck.pending(id, source),
    checkError: sourceCheck.error,
    /** Whether to start now, and with what consent; undefined: wait (the question or an error is shown). */
    mayStart: (store: string) => sourceCheck.mayStart(store, source, id),
    /** The user took the group of its own that the question offered. */
    chooseId: (other: string) => {
      setTypedId(other);
      sourceCheck.clear();
    },
  };
}
