import { useEffect, useState } from 'react';
import { formatCount, plural } from '../../../contract/format.js';
import type { RestorePreviewResult } from '../../../contract/model.js';
import { useApp } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PathField } from './PathField.js';

/**
 * What a restore is asked for: the whole snapshot, or the paths the user ticked (as they were when the dialog
 * opened). "Everything" is its own request, never an entry of the selection, so it cannot linger in the ticks.
 */
export type RestoreRequest = { what: 'everything' } | { what: 'selected'; paths: string[] };

/** The archive paths a restore job gets: '' is the snapshot's root. */
export function restorePaths(request: RestoreRequest): string[] {
  return request.what === 'everything' ? [''] : request.paths;
}

const LISTED = 8;

function RestoreScope({ request }: { request: RestoreRequest }) {
  if (request.what === 'everything') return <p>Everything in this snapshot will be restored into the folder below.</p>;
  const { paths } = request;
  // One chosen inside a folder shows that its folders are not made again in the target.
  const nested = paths.map((p) => p.replace(/^\/+/, '')).find((p) => p.includes('/'));
  return (
    <>
      <p>
        {plural(paths.length, 'selected item')} will be restored into the folder below, each directly in it under its
        own name{nested ? ` (${nested} arrives as ${nested.split('/').pop()})` : ''}; a folder comes with what is in it.
      </p>
      <ul className="small muted">
        {paths.slice(0, LISTED).map((p) => (
          <li key={p}>{p}</li>
        ))}
        {paths.length > LISTED && <li>…</li>}
      </ul>
    </>
  );
}

/** Where to restore, and whether existing files may be replaced. */
export function RestoreDialog({
  request,
  onClose,
  onRestore,
  preview,
}: {
  request: RestoreRequest;
  onClose: () => void;
  onRestore: (target: string, overwrite: boolean, keepDamaged: boolean) => Promise<void>;
  /** What the restore would meet in a folder (a local snapshot's; none for a remote one). */
  preview?: (target: string) => Promise<RestorePreviewResult>;
}) {
  const home = useApp((s) => s.info?.homeDir ?? '');
  const jobError = useOwnJobError();
  const [target, setTarget] = useState(`${home}/Restored`);
  const [overwrite, setOverwrite] = useState(false);
  const [keepDamaged, setKeepDamaged] = useState(false);
  return (
    <Modal title="Restore" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void onRestore(target, overwrite, keepDamaged);
        }}
      >
        <RestoreScope request={request} />
        <PathField
          label="Restore into folder"
          name="restore-target"
          value={target}
          onChange={setTarget}
          pickTitle="Restore into"
        />
        <label className="inline">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace
          existing files
        </label>
        {overwrite && (
          <p className="warn small">
            Files there with the same names are overwritten, with any changes made to them since; the task counts each
            one it replaced, and its log names them.
          </p>
        )}
        {preview && <TargetPreview target={target} overwrite={overwrite} preview={preview} />}
        <label className="inline">
          <input type="checkbox" checked={keepDamaged} onChange={(e) => setKeepDamaged(e.target.checked)} /> Keep what
          can be read of a damaged file, as <span className="mono">name.damaged</span>
        </label>
        <p className="muted small">
          A file with a damaged chunk is never restored under its own name; it is listed on the task.
        </p>
        <ErrorNote error={jobError} />
        <footer className="modal-footer">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={target.trim() === ''}>
            Restore
          </button>
        </footer>
      </form>
    </Modal>
  );
}

/** How long the folder's path must stand still before it is compared (typing goes on). */
const PREVIEW_DELAY_MS = 400;
const DIFFERING_SHOWN = 5;

/** What is in the chosen folder already, and what the restore does with it: asked again as the path changes. */
function TargetPreview(props: {
  target: string;
  overwrite: boolean;
  preview: (target: string) => Promise<RestorePreviewResult>;
}) {
  const { target, preview } = props;
  const [result, setResult] = useState<{ target: string; preview: RestorePreviewResult }>();
  useEffect(() => {
    if (target.trim() === '') return;
    let live = true;
    const timer = setTimeout(() => {
      preview(target).then(
        (p) => live && setResult({ target, preview: p }),
        () => live && setResult(undefined), // a path not allowed or not there yet: the restore says why
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [target, preview]);
  if (!result || result.target !== target) return null;
  const { added, same, differ, differing } = result.preview;
  if (same + differ === 0) return null; // an empty or new folder: nothing to say
  return (
    <div className="restore-preview small" role="status" aria-label="What is in the folder">
      <p>
        {`In this folder: ${plural(added, 'file')} to add, ${formatCount(same)} there as backed up` +
          (props.overwrite && same > 0 ? ' (written again), ' : ', ')}
        <strong>{`${formatCount(differ)} that ${differ === 1 ? 'differs' : 'differ'} in size or date`}</strong>
        {differ > 0 &&
          (props.overwrite
            ? ' (replaced with the backed-up ones, with any changes made to them since).'
            : ' (kept as they are; the backed-up ones are not restored).')}
      </p>
      {differ > 0 && (
        <ul className="muted">
          {differing.slice(0, DIFFERING_SHOWN).map((p) => (
            <li key={p} className="mono">
              {p}
            </li>
          ))}
          {differ > DIFFERING_SHOWN && <li>…and {formatCount(differ - DIFFERING_SHOWN)} more</li>}
        </ul>
      )}
    </div>
  );
}
