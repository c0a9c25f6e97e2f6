import { useState } from 'react';
import type { FolderListing } from '../../../contract/model.js';

/** Jumps to the places Cairn may use, shows hidden folders, and makes a new folder where the listing is. */
export function FolderPlaces({
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
        <NewFolderControl where={listing.path} makeFolder={makeFolder} />
      </div>
    </div>
  );
}

/** "New folder…", which opens a name field: Enter or Create makes the folder, Escape or Cancel closes it. */
function NewFolderControl({ where, makeFolder }: { where: string; makeFolder: (name: string) => Promise<boolean> }) {
  const [naming, setNaming] = useState<string>();
  return naming === undefined ? (
    <button type="button" onClick={() => setNaming('')}>
      New folder…
    </button>
  ) : (
    <span className="row">
      <label>
        New folder in {where}{' '}
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
  );
}
