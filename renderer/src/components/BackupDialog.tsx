import { useState } from 'react';
import { baseName, toBackupId } from '../paths.js';
import { useBackupTarget } from '../hooks/use-backup-target.js';
import { useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ExcludesField } from './ExcludesField.js';
import { GroupIdField } from './GroupIdField.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';
import { BackupDialogFooter, SourceCheckNote } from './SourceCheck.js';
import { EncryptionField, useBackupEncryption } from './EncryptionField.js';

/** Back up a folder: its path (from a drop, typed or picked), the group id, and excludes with a preview. */
export function BackupDialog() {
  const { draft, close, startJob, store, canDropPaths } = useAppShallow((s) => ({
    draft: s.backupDraft,
    close: s.closeBackupDialog,
    startJob: s.startJob,
    store: s.store?.path,
    canDropPaths: s.info?.dropPaths ?? false,
  }));
  const jobError = useOwnJobError();
  const [source, setSource] = useState(draft?.source ?? '');
  // The id follows the folder's name until the user types one of their own.
  const target = useBackupTarget('folder', source, toBackupId(baseName(source) || draft?.droppedName || ''));
  const { id, mismatch } = target;
  const [excludes, setExcludes] = useState('');
  const encryption = useBackupEncryption(id);

  if (!draft || !store) return null;
  const patterns = excludes
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

  return (
    <Modal title="Back up a folder" onClose={close} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const go = await target.mayStart(store);
          if (!go) return;
          const job = await startJob({
            kind: 'backup',
            store,
            source,
            id,
            excludes: patterns,
            ...go,
            ...encryption.spec,
          });
          if (job) close();
        }}
      >
        {draft.droppedName && !draft.source && !canDropPaths && (
          <p className="note">
            You dropped “{draft.droppedName}”. A browser cannot tell where it is on disk: type its path or choose it
            with Browse….
          </p>
        )}
        <PathField
          label="Folder to back up"
          name="backup-source"
          value={source}
          onChange={setSource}
          pickTitle="Folder to back up"
        />
        <GroupIdField
          inputId="backup-id"
          kind="folder"
          id={id}
          existing={target.existing}
          onChange={target.setTypedId}
        />
        <ExcludesField excludes={excludes} onChange={setExcludes} source={source} patterns={patterns} />
        <EncryptionField encryption={encryption} />
        <SourceCheckNote
          mismatch={mismatch}
          id={id}
          what="folder"
          error={target.checkError ?? jobError}
          chooseId={target.chooseId}
        />
        <BackupDialogFooter
          startLabel="Start backup"
          mismatch={mismatch}
          id={id}
          disabled={source.trim() === '' || id === '' || !encryption.ready}
          onCancel={close}
        />
      </form>
    </Modal>
  );
}
