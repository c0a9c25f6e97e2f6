import { useEffect, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { FolderListing } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatBytes, formatCount, plural } from '../../../contract/format.js';
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
  const [hidden, setHidden] = useState(false);
  const typedNow = useRef('');
  const field = useRef<HTMLInputElement>(null);
  const wantsFile = request?.mode === 'file';
  const type = (text: string) => {
    typedNow.current = text;
    setTyped(text);
  };

  // Only the newest listing counts: the first one (asked for on open) may answer after the user already went on.
  const latest = useRef(0);
  const go = async (path?: string, showHidden = hidden, make?: string) => {
    const asked = ++latest.current;
    const typedWhenAsked = typedNow.current;
    try {
      const files = wantsFile ? { files: true } : {};
      const next =
        make !== undefined && path
          ? await client.makeFolder({ parent: path, name: make, ...files })
          : await client.listFolder({ ...(path ? { path } : {}), ...files, ...(showHidden ? { hidden: true } : {}) });
      if (asked !== latest.current) return false;
      setListing(next);
      // A file asked for by its path (the field's value when the browser opened) is chosen in its folder.
      setChosenFile((chosen) => next.files?.find((f) => f.path === path || f.path === chosen)?.path);
      // The field shows where the listing is, unless the user typed in it while the listing was on its way or is
      // in it now: text replaced under the cursor mixes with what they type next ("/home/ann" + "/data").
      if (typedNow.current === typedWhenAsked && document.activeElement !== field.current) type(next.path);
      setError(undefined);
      return true;
    } catch (err) {
      if (asked === latest.current) setError(errorInfo(err));
      return false;
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
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void go(typed);
        }}
      >
        <label className="grow">
          Folder{' '}
          <input
            ref={field}
            type="text"
            value={typed}
            placeholder={listing?.path}
            onChange={(e) => type(e.target.value)}
            spellCheck={false}
          />
        </label>
        <button type="submit">Go</button>
      </form>
      {listing && (
        <Places
          listing={listing}
          hidden={hidden}
          go={(p) => void go(p)}
          showHidden={(show) => {
            setHidden(show);
            void go(listing.path, show);
          }}
          makeFolder={(name) => go(listing.path, hidden, name)}
        />
      )}
      <ErrorNote error={error} />
      {listing && (
        <Entries
          listing={listing}
          wantsFile={wantsFile}
          chosenFile={chosenFile}
          go={(p) => void go(p)}
          chooseFile={setChosenFile}
          answer={request.resolve}
        />
      )}
      <footer className="modal-footer">
        <button type="button" onClick={() => request.resolve(null)}>
          Cancel
        </button>
        {wantsFile ? (
          <button
            type="button"
            className="primary"
            disabled={!chosenFile}
            onClick={() => chosenFile && request.resolve(chosenFile)}
          >
            Choose this file
          </button>
        ) : (
          <button
            type="button"
            className="primary"
            disabled={!listing}
            onClick={() => listing && request.resolve(listing.path)}
          >
            Choose this folder
          </button>
        )}
      </footer>
    </Modal>
  );
}

/** A folder's subfolders (to go into) and, when a file is wanted, its files (to choose; a double click answers). */
function Entries({
  listing,
  wantsFile,
  chosenFile,
  go,
  chooseFile,
  answer,
}: {
  listing: FolderListing;
  wantsFile: boolean;
  chosenFile: string | undefined;
  go: (path: string) => void;
  chooseFile: (path: string) => void;
  answer: (path: string) => void;
}) {
  const files = wantsFile ? (listing.files ?? []) : [];
  return (
    <>
      <ul className="folder-list" aria-label={`${wantsFile ? 'Folders and files' : 'Folders'} in ${listing.path}`}>
        {listing.parent && (
          <li>
            <button type="button" className="link" onClick={() => go(listing.parent!)}>
              ⬑ Parent folder
            </button>
          </li>
        )}
        {listing.folders.map((f) => (
          <li key={f.path}>
            <button type="button" className="link" onClick={() => go(f.path)}>
              {f.name}/
            </button>
          </li>
        ))}
        {files.map((f) => (
          <li key={f.path}>
            <button
              type="button"
              className={`link file${f.path === chosenFile ? ' chosen' : ''}`}
              aria-pressed={f.path === chosenFile}
              onClick={() => chooseFile(f.path)}
              onDoubleClick={() => answer(f.path)}
            >
              {f.name} <span className="muted small">{formatBytes(f.size)}</span>
            </button>
          </li>
        ))}
        {listing.folders.length === 0 && files.length === 0 && (
          <li className="muted">{wantsFile ? 'No folders or files.' : 'No subfolders.'}</li>
        )}
      </ul>
      <p className="muted">
        {plural(listing.fileCount, 'file')} in this folder.
        {wantsFile &&
          listing.filesTruncated &&
          ` The first ${formatCount(files.length)} are listed; type a file's path in the dialog to choose another.`}
      </p>
    </>
  );
}

/** Jumps to the places Cairn may use, shows hidden folders, and makes a new folder where the listing is. */
function Places({
  listing,
  hidden,
  go,
  showHidden,
  makeFolder,
}: {
  listing: FolderListing;
  hidden: boolean;
  go: (path: string) => void;
  showHidden: (show: boolean) => void;
  /** Resolves with whether it worked: on a refusal the name stays, with the error shown. */
  makeFolder: (name: string) => Promise<boolean>;
}) {
  const [naming, setNaming] = useState<string>();
  return (
    <div className="folder-places">
      <nav aria-label="Places" className="row wrap">
        <span className="muted small">Places:</span>
        {(listing.places ?? []).map((p) => (
          <button
            key={p.path}
            type="button"
            className={`link${listing.path === p.path ? ' strong' : ''}`}
            title={p.path}
            onClick={() => go(p.path)}
          >
            {p.path}
          </button>
        ))}
      </nav>
      <div className="row wrap">
        <label className="inline">
          <input type="checkbox" checked={hidden} onChange={(e) => showHidden(e.target.checked)} /> Show hidden folders
        </label>
        {naming === undefined ? (
          <button type="button" onClick={() => setNaming('')}>
            New folder…
          </button>
        ) : (
          <span className="row">
            <label>
              New folder in {listing.path}{' '}
              <input
                type="text"
                autoFocus
                value={naming}
                onChange={(e) => setNaming(e.target.value)}
                spellCheck={false}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    void makeFolder(naming).then((ok) => ok && setNaming(undefined));
                  }
                  if (e.key === 'Escape') {
                    e.stopPropagation();
                    setNaming(undefined);
                  }
                }}
              />
            </label>
            <button
              type="button"
              disabled={naming.trim() === ''}
              onClick={() => void makeFolder(naming).then((ok) => ok && setNaming(undefined))}
            >
              Create
            </button>
            <button type="button" aria-label="Cancel the new folder" onClick={() => setNaming(undefined)}>
              Cancel
            </button>
          </span>
        )}
      </div>
    </div>
  );
}
