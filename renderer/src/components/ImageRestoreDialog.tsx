import { useState } from 'react';
import { imageFileName } from '../../../contract/image-file-name.js';
import type { SnapshotRow } from '../../../contract/model.js';
import { formatBytes } from '../../../contract/format.js';
import { joinPath } from '../paths.js';
import { useApp } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';

/** The image archives of a snapshot (usually one). */
export function imageArchives(row: SnapshotRow): string[] {
  return row.archives.filter((a) => a.endsWith('.img.fidx'));
}

/** Restore a disk image snapshot to a file: which folder, which name, and what to do with a file there or with damage. */
export function ImageRestoreDialog({ row, onClose }: { row: SnapshotRow; onClose: () => void }) {
  const store = useApp((s) => s.store!.path);
  const home = useApp((s) => s.info?.homeDir ?? '');
  const startJob = useApp((s) => s.startJob);
  const jobError = useOwnJobError();
  const archives = imageArchives(row);
  const [archive, setArchive] = useState(archives[0] ?? '');
  const [folder, setFolder] = useState(`${home}/Restored`);
  const [name, setName] = useState(imageFileName(archive));
  const [overwrite, setOverwrite] = useState(false);
  const [keepDamaged, setKeepDamaged] = useState(false);
  const badName = name.includes('/') || name.includes('\\');

  const restore = async () => {
    const snapshot = { type: row.type, id: row.id, time: row.time };
    const job = await startJob({
      kind: 'restore-image',
      store,
      snapshot,
      target: joinPath(folder, name),
      overwrite,
      keepDamaged,
      ...(archives.length > 1 ? { archive } : {}),
    });
    if (job) onClose();
  };

  return (
    <Modal title="Restore image" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void restore();
        }}
      >
        <p>
          The disk image of {row.path} ({formatBytes(row.size)}) is written to a file, byte for byte.
        </p>
        {archives.length > 1 && (
          <ImageSelect
            archives={archives}
            archive={archive}
            onChange={(a) => {
              setArchive(a);
              setName(imageFileName(a));
            }}
          />
        )}
        <PathField
          label="Into folder"
          name="image-folder"
          value={folder}
          onChange={setFolder}
          pickTitle="Restore the image into"
        />
        <FileNameField name={name} onChange={setName} bad={badName} />
        <RestoreChecks
          overwrite={overwrite}
          setOverwrite={setOverwrite}
          keepDamaged={keepDamaged}
          setKeepDamaged={setKeepDamaged}
          name={name}
        />
        <ErrorNote error={jobError} />
        <footer className="modal-footer">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={folder.trim() === '' || name.trim() === '' || badName}>
            Restore image
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** Which image of the snapshot, when it holds more than one. */
function ImageSelect({
  archives,
  archive,
  onChange,
}: {
  archives: string[];
  archive: string;
  onChange(archive: string): void;
}) {
  return (
    <label className="field">
      Image
      <select value={archive} onChange={(e) => onChange(e.target.value)}>
        {archives.map((a) => (
          <option key={a} value={a}>
            {imageFileName(a)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The restored file's name, in the folder above: a name with “/” is refused where it is typed. */
function FileNameField({ name, onChange, bad }: { name: string; onChange(name: string): void; bad: boolean }) {
  return (
    <div className="field">
      <label htmlFor="image-name">File name</label>
      <input id="image-name" type="text" value={name} onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      {bad && <span className="warn small">A file name, without “/”: choose the folder above.</span>}
    </div>
  );
}

/** Whether to replace a file already there, and whether to keep what can be read of a damaged image. */
function RestoreChecks({
  overwrite,
  setOverwrite,
  keepDamaged,
  setKeepDamaged,
  name,
}: {
  overwrite: boolean;
  setOverwrite(value: boolean): void;
  keepDamaged: boolean;
  setKeepDamaged(value: boolean): void;
  name: string;
}) {
  return (
    <div className="checks">
      <label className="inline">
        <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace an
        existing file
      </label>
      <label className="inline">
        <input
          type="checkbox"
          checked={keepDamaged}
          onChange={(e) => setKeepDamaged(e.target.checked)}
          aria-describedby="keep-damaged-hint"
        />{' '}
        Keep what can be read
      </label>
      <span id="keep-damaged-hint" className="muted small">
        If a part of the image is damaged in the store, no image is put in place (it would not be the one backed up);
        with this, the rest is saved as {name || 'the file'}.damaged, with zeros where it is damaged.
      </span>
    </div>
  );
}
