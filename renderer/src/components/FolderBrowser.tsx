import { useEffect, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { FolderListing } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatBytes, formatCount, plural } from '../format.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

/**
 * Browser mode's folder chooser: the host lists folders (a web page cannot see the disk). Asked for a file (a
 * disk image), it lists the files too and answers with the one chosen.
 */
export function FolderBrowser() {
  const request = useApp((s) => s.folderRequest);
  const client = useApp((s) => s.client);
  const [listing, setListing] = useState<FolderListing>();
  const [error, setError] = useState<AppErrorInfo>();
  const [typed, setTyped] = useState('');
  const [chosenFile, setChosenFile] = useState<string>();
  const typedNow = useRef('');
  const field = useRef<HTMLInputElement>(null);
  const wantsFile = request?.mode === 'file';
  const type = (text: string) => {
    typedNow.current = text;
    setTyped(text);
  };

  // Only the newest listing counts: the first one (asked for on open) may answer after the user already went on.
  const latest = useRef(0);
  const go = async (path?: string) => {
    const asked = ++latest.current;
    const typedWhenAsked = typedNow.current;
    try {
      const next = await client.listFolder({ ...(path ? { path } : {}), ...(wantsFile ? { files: true } : {}) });
      if (asked !== latest.current) return;
      setListing(next);
      // A file asked for by its path (the field's value when the browser opened) is chosen in its folder.
      setChosenFile((chosen) => next.files?.find((f) => f.path === path || f.path === chosen)?.path);
      // The field shows where the listing is, unless the user typed in it while the listing was on its way or is
      // in it now: text replaced under the cursor mixes with what they type next ("/home/ann" + "/data").
      if (typedNow.current === typedWhenAsked && document.activeElement !== field.current) type(next.path);
      setError(undefined);
    } catch (err) {
      if (asked === latest.current) setError(errorInfo(err));
    }
  };
  useEffect(() => {
    if (!request) return;
    // The field opens with focus in it, so no listing will fill it: it starts at the folder asked for instead.
    type(request.startPath ?? '');
    setChosenFile(undefined);
    void go(request.startPath || undefined);
  }, [request]); // only when a new request opens the browser

  if (!request) return null;
  return (
    <Modal title={request.title} onClose={() => request.resolve(null)}>
      <form className="row" onSubmit={(e) => { e.preventDefault(); void go(typed); }}>
        <label className="grow">Folder <input ref={field} type="text" value={typed} placeholder={listing?.path} onChange={(e) => type(e.target.value)} spellCheck={false} /></label>
        <button type="submit">Go</button>
      </form>
      <ErrorNote error={error} />
      {listing && <Entries listing={listing} wantsFile={wantsFile} chosenFile={chosenFile} go={(p) => void go(p)}
        chooseFile={setChosenFile} answer={request.resolve} />}
      <footer className="modal-footer">
        <button type="button" onClick={() => request.resolve(null)}>Cancel</button>
        {wantsFile
          ? <button type="button" className="primary" disabled={!chosenFile} onClick={() => chosenFile && request.resolve(chosenFile)}>Choose this file</button>
          : <button type="button" className="primary" disabled={!listing} onClick={() => listing && request.resolve(listing.path)}>Choose this folder</button>}
      </footer>
    </Modal>
  );
}

/** A folder's subfolders (to go into) and, when a file is wanted, its files (to choose; a double click answers). */
function Entries({ listing, wantsFile, chosenFile, go, chooseFile, answer }: {
  listing: FolderListing; wantsFile: boolean; chosenFile: string | undefined; go: (path: string) => void;
  chooseFile: (path: string) => void; answer: (path: string) => void;
}) {
  const files = wantsFile ? listing.files ?? [] : [];
  return (
    <>
      <ul className="folder-list" aria-label={`${wantsFile ? 'Folders and files' : 'Folders'} in ${listing.path}`}>
        {listing.parent && <li><button type="button" className="link" onClick={() => go(listing.parent!)}>⬑ Parent folder</button></li>}
        {listing.folders.map((f) => (
          <li key={f.path}><button type="button" className="link" onClick={() => go(f.path)}>{f.name}/</button></li>
        ))}
        {files.map((f) => (
          <li key={f.path}>
            <button type="button" className={`link file${f.path === chosenFile ? ' chosen' : ''}`} aria-pressed={f.path === chosenFile}
              onClick={() => chooseFile(f.path)} onDoubleClick={() => answer(f.path)}>
              {f.name} <span className="muted small">{formatBytes(f.size)}</span>
            </button>
          </li>
        ))}
        {listing.folders.length === 0 && files.length === 0 && <li className="muted">{wantsFile ? 'No folders or files.' : 'No subfolders.'}</li>}
      </ul>
      <p className="muted">{plural(listing.fileCount, 'file')} in this folder.
        {wantsFile && listing.filesTruncated && ` The first ${formatCount(files.length)} are listed; type a file's path in the dialog to choose another.`}</p>
    </>
  );
}
