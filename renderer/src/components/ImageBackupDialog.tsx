import { useState } from 'react';
import { formatBytes } from '../../../contract/format.js';
import { baseName, toBackupId } from '../paths.js';
import { useBackupTarget } from '../hooks/use-backup-target.js';
import { useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { GroupIdField } from './GroupIdField.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';
import { BackupDialogFooter, SourceCheckNote } from './SourceCheck.js';
import { EncryptionField, useBackupEncryption } from './EncryptionField.js';

/** The group id a file suggests: its name without the extension ("laptop-disk.img" → "laptop-disk"), as the CLI derives it. */
function imageId(path: string): string {
  return toBackupId(baseName(path).replace(/\.[^.]+$/, ''));
}

/** Back up one disk image (or another large file): its path, typed or chosen, and the group id. */
export function ImageBackupDialog() {
  const { close, startJob, store } = useAppShallow((s) => ({
    close: s.closeBackupDialog,
    startJob: s.startJob,
    store: s.store,
  }));
  const jobError = useOwnJobError();
  const [source, setSource] = useState('');
  // The id follows the file's name until the user types one of their own.
  const target = useBackupTarget('image', source, imageId(source));
  const { id, mismatch } = target;
  const encryption = useBackupEncryption(id);
  if (!store) return null;

  return (
    <Modal title="Back up a disk image" onClose={close}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const go = await target.mayStart(store.path);
          if (!go) return;
          const job = await startJob({
            kind: 'backup-image',
            store: store.path,
            source,
            id,
            ...go,
            ...encryption.spec,
          });
          if (job) close();
        }}
      >
        <PathField
          label="Disk image file"
          name="image-source"
          value={source}
          onChange={setSource}
          pickTitle="Disk image to back up"
          pick="file"
          placeholder="/home/you/vm/disk.img"
          hint={`A disk image or another large file (.img, .raw, .iso…), stored in chunks of ${formatBytes(store.chunkSize)}; unchanged chunks are stored once.`}
        />
        <GroupIdField inputId="image-id" kind="image" id={id} existing={target.existing} onChange={target.setTypedId} />
        <EncryptionField encryption={encryption} />
        <SourceCheckNote
          mismatch={mismatch}
          id={id}
          what="image"
          error={target.checkError ?? jobError}
          chooseId={target.chooseId}
        />
        <BackupDialogFooter
          startLabel="Start image backup"
          mismatch={mismatch}
          id={id}
          disabled={source.trim() === '' || id === '' || !encryption.ready}
          onCancel={close}
        />
      </form>
    </Modal>
  );
}
