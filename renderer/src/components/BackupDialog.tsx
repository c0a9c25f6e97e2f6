import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { ExcludePreviewResult } from '../../../contract/model.js';
import { errorInfo, type CairnClient } from '../api/client.js';
import { formatBytes, formatCount } from '../../../contract/format.js';
import { baseName, toBackupId } from '../paths.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';
import { SourceMismatchNote, useSourceConfirmation } from './SourceCheck.js';

/** Back up a folder: its path (from a drop, typed or picked), the group id, and excludes with a preview. */
export function BackupDialog() {
  const { draft, close, startJob, store, client, jobError, canDropPaths } = useAppShallow((s) => ({
    draft: s.backupDraft,
    close: s.closeBackupDialog,
    startJob: s.startJob,
    store: s.store?.path,
    client: s.client,
    jobError: s.jobError,
    canDropPaths: s.info?.dropPaths ?? false,
  }));
  const groups = useApp((s) => s.groups);
  const [source, setSource] = useState(draft?.source ?? '');
  // The id follows the folder's name until the user types one of their own.
  const [typedId, setTypedId] = useState<string>();
  const id = typedId ?? toBackupId(baseName(source) || draft?.droppedName || '');
  const [excludes, setExcludes] = useState('');
  const preview = useExcludePreview(client);
  const sourceCheck = useSourceConfirmation('folder');
  const mismatch = sourceCheck.pending(id, source);

  if (!draft || !store) return null;
  const patterns = excludes
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const existing = groups.some((g) => g.type === 'host' && g.id === id);

  return (
    <Modal title="Back up a folder" onClose={close} wide>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const go = await sourceCheck.mayStart(store, source, id);
          if (!go) return;
          const job = await startJob({ kind: 'backup', store, source, id, excludes: patterns, ...go });
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
        <GroupIdField id={id} existing={existing} onChange={setTypedId} />
        <div className="field">
          <label htmlFor="backup-excludes">Exclude (one .gitignore pattern per line)</label>
          <textarea
            id="backup-excludes"
            rows={4}
            value={excludes}
            placeholder={'*.tmp\nnode_modules/\n.cache/'}
            spellCheck={false}
            onChange={(e) => {
              setExcludes(e.target.value);
              preview.reset();
            }}
          />
          <span className="muted small">A .cairnignore file in any folder adds rules for that folder and below.</span>
        </div>
        <button
          type="button"
          onClick={() => void preview.run(source, patterns)}
          disabled={source.trim() === '' || preview.running}
        >
          {preview.running ? 'Scanning…' : 'Preview what is excluded'}
        </button>
        <ErrorNote error={preview.error} />
        {preview.result && <ExcludePreview preview={preview.result} />}
        {mismatch ? (
          <SourceMismatchNote
            check={mismatch}
            id={id}
            what="folder"
            chooseId={(other) => {
              setTypedId(other);
              sourceCheck.clear();
            }}
          />
        ) : (
          <ErrorNote error={sourceCheck.error ?? jobError} />
        )}
        <footer className="modal-footer">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={source.trim() === '' || id === ''}>
            {mismatch ? `Back up into host/${id} anyway` : 'Start backup'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** The group id, taken from the folder's name until the user types one, and what backing up into it does. */
function GroupIdField({ id, existing, onChange }: { id: string; existing: boolean; onChange(id: string): void }) {
  return (
    <div className="field">
      <label htmlFor="backup-id">Backup group id</label>
      <input id="backup-id" type="text" value={id} onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      <span className="muted small">
        {id === ''
          ? `Taken from the folder's name; letters, digits, “_”, “.” and “-”.`
          : existing
            ? `Adds a snapshot to host/${id}; unchanged files are not read again.`
            : `Creates the group host/${id}.`}
      </span>
    </div>
  );
}

/** Asks the host what the excludes leave out of a folder; the answer is dropped when the patterns change. */
function useExcludePreview(client: CairnClient) {
  const [result, setResult] = useState<ExcludePreviewResult>();
  const [error, setError] = useState<AppErrorInfo>();
  const [running, setRunning] = useState(false);
  const run = async (source: string, patterns: string[]) => {
    setRunning(true);
    try {
      setResult(await client.previewExcludes({ source, patterns }));
      setError(undefined);
    } catch (err) {
      setResult(undefined);
      setError(errorInfo(err));
    } finally {
      setRunning(false);
    }
  };
  return { result, error, running, run, reset: () => setResult(undefined) };
}

/** What would be backed up and what is excluded, with the excluded paths. */
function ExcludePreview({ preview }: { preview: ExcludePreviewResult }) {
  return (
    <div className="preview" aria-label="Exclude preview">
      <p>
        <strong>
          {formatCount(preview.files)} files ({formatBytes(preview.bytes)})
        </strong>{' '}
        would be backed up; {formatCount(preview.excluded)} entries ({formatBytes(preview.excludedBytes)}) excluded.
      </p>
      {preview.paths.length > 0 && (
        <ul className="preview-list">
          {preview.paths.map((p) => (
            <li key={p.path}>
              {p.path}
              {p.isDirectory ? '/' : ''} <span className="muted">{formatBytes(p.bytes)}</span>
            </li>
          ))}
          {preview.truncated && <li className="muted">…and more</li>}
        </ul>
      )}
    </div>
  );
}
