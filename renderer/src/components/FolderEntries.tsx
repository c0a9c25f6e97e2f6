import type { FolderListing } from '../../../contract/model.js';
import { formatBytes, formatCount, plural } from '../../../contract/format.js';

/** A folder's subfolders (to go into) and, when a file is wanted, its files (to choose; a double click answers). */
export function FolderEntries({
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
