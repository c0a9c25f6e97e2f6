import { useEffect, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { ConflictChoice, InPlaceAction, InPlaceItemRow, InPlacePreview } from '../../../contract/find.js';
import { formatCount, formatTime, plural } from '../../../contract/format.js';
import { errorInfo } from '../api/client.js';
import type { EntryTarget } from '../state/slices/find-slice.js';
import { useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

/** Each action as the preview's counts and rows name it: words that follow "1 file" and "3 files" alike. */
export const ACTION_WORDS: Record<InPlaceAction, string> = {
  restore: 'brought back (not there now)',
  unchanged: 'left alone (the same as backed up)',
  overwrite: 'replaced by the backed-up version',
  'keep-both': 'kept, with the backed-up version put beside',
  skip: 'skipped (different there; left alone)',
  'newer-local': 'changed there since the backup: left alone',
};

const SHORT: Record<InPlaceAction, string> = {
  restore: 'back',
  unchanged: 'same',
  overwrite: 'replace',
  'keep-both': 'keep both',
  skip: 'skip',
  'newer-local': 'newer there',
};

const CHOICES: { value: ConflictChoice; label: string }[] = [
  { value: 'keep-both', label: 'Keep both: put the backed-up one beside it as “name (restored DATE)”' },
  { value: 'overwrite', label: 'Replace it with the backed-up one' },
  { value: 'skip', label: 'Skip it' },
];

const writes = (c: Record<InPlaceAction, number>) => c.restore + c.overwrite + c['keep-both'];

/**
 * A restore to where the snapshot was backed up from: the host's preview of every file's fate with the choice
 * made here (asked again when it changes), then a job. Files changed there since the backup are flagged and left
 * alone unless the user ticks them in; a snapshot that records no folder (an encrypted one) is refused in words.
 */
export function InPlaceDialog({ target }: { target: EntryTarget }) {
  const { client, store, openInPlace, startJob } = useAppShallow((s) => ({
    client: s.client,
    store: s.store!.path,
    openInPlace: s.openInPlace,
    startJob: s.startJob,
  }));
  const jobError = useOwnJobError();
  const [conflict, setConflict] = useState<ConflictChoice>('keep-both');
  const [newer, setNewer] = useState(false);
  const [preview, setPreview] = useState<InPlacePreview>();
  const [error, setError] = useState<AppErrorInfo>();
  useEffect(() => {
    let live = true;
    const req = { store, snapshot: target.snapshot, path: target.path, conflict, overwriteNewer: newer };
    client.previewInPlace(req).then(
      (p) => live && (setPreview(p), setError(undefined)),
      (err: unknown) => live && setError(errorInfo(err)),
    );
    return () => {
      live = false;
    };
  }, [client, store, target.snapshot.time, target.path, conflict, newer]);
  const close = () => openInPlace(undefined);
  const restore = async () => {
    const spec = { kind: 'restore-in-place' as const, store, snapshot: target.snapshot, path: target.path, conflict };
    if (await startJob(newer ? { ...spec, overwriteNewer: true } : spec)) close();
  };
  const ready = preview && !preview.refused ? preview : undefined;
  return (
    <Modal title="Restore to the original place" wide className="in-place-dialog" onClose={close}>
      <p>
        <strong>{target.path || 'Everything'}</strong> as it was in the snapshot of {formatTime(target.snapshot.time)}
        {ready && ready.sources.length > 0 && (
          <>
            , back into <span className="mono">{ready.sources.join(', ')}</span>
          </>
        )}
        .
      </p>
      <ErrorNote error={error ?? jobError} />
      {!preview && !error && <p className="muted">Comparing with the files there…</p>}
      {preview?.refused && (
        <p className="note" role="alert">
          {preview.message}
        </p>
      )}
      {ready && (
        <InPlaceChoices
          preview={ready}
          conflict={conflict}
          setConflict={setConflict}
          newer={newer}
          setNewer={setNewer}
        />
      )}
      <footer className="modal-footer">
        <button type="button" onClick={close}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={!ready || writes(ready.counts) === 0}
          onClick={() => void restore()}
        >
          {ready ? `Restore ${plural(writes(ready.counts), 'file')}` : 'Restore'}
        </button>
      </footer>
    </Modal>
  );
}

type Ready = Extract<InPlacePreview, { sources: string[] }>;

function InPlaceChoices(props: {
  preview: Ready;
  conflict: ConflictChoice;
  setConflict(c: ConflictChoice): void;
  newer: boolean;
  setNewer(v: boolean): void;
}) {
  const { counts, items, changedSince } = props.preview;
  return (
    <>
      <ul className="in-place-counts" aria-label="What the restore does">
        {(Object.keys(ACTION_WORDS) as InPlaceAction[])
          .filter((a) => counts[a] > 0)
          .map((a) => (
            <li key={a} className={`in-place-${a}`}>
              <strong>{formatCount(counts[a])}</strong> {counts[a] === 1 ? 'file' : 'files'} {ACTION_WORDS[a]}
            </li>
          ))}
        {props.newer && changedSince > 0 && (
          <li className="in-place-newer-local">
            <strong>{formatCount(changedSince)}</strong> of them changed there since the backup, included as you chose
          </li>
        )}
      </ul>
      <p className="muted small">
        Files there that the snapshot does not hold (made since the backup) are left alone: nothing is deleted.
      </p>
      <fieldset className="in-place-choice">
        <legend>A file there that differs from the backed-up one:</legend>
        {CHOICES.map((c) => (
          <label key={c.value} className="inline">
            <input
              type="radio"
              name="conflict"
              value={c.value}
              checked={props.conflict === c.value}
              onChange={() => props.setConflict(c.value)}
            />{' '}
            {c.label}
          </label>
        ))}
        {changedSince > 0 && (
          <label className="inline warn-choice">
            <input type="checkbox" checked={props.newer} onChange={(e) => props.setNewer(e.target.checked)} /> Also for
            the {changedSince === 1 ? 'file' : `${formatCount(changedSince)} files`} changed there since this backup
            (otherwise left alone)
          </label>
        )}
      </fieldset>
      <InPlaceItems items={items} total={Object.values(counts).reduce((a, b) => a + b, 0)} />
    </>
  );
}

function InPlaceItems({ items, total }: { items: InPlaceItemRow[]; total: number }) {
  return (
    <>
      <ul className="in-place-items" aria-label="Files">
        {items.map((i) => (
          <li key={i.path} className={`in-place-${i.action}`}>
            <span className={`in-place-tag ${i.action}`}>{SHORT[i.action]}</span>
            {i.changedSince && i.action !== 'newer-local' && (
              <span className="in-place-tag newer-local" title="Changed there since the backup">
                newer there
              </span>
            )}
            <span className="in-place-path" title={i.localPath}>
              {i.localPath}
              {i.restoredAs && (
                <span className="muted"> → {i.restoredAs.slice(i.restoredAs.lastIndexOf('/') + 1)}</span>
              )}
            </span>
          </li>
        ))}
      </ul>
      {items.length < total && (
        <p className="muted small">
          The first {formatCount(items.length)} of {formatCount(total)} files are listed.
        </p>
      )}
    </>
  );
}
