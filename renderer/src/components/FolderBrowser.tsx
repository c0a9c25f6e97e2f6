import type { FolderListing } from '../../../contract/model.js';
import { useFolderListing, type FolderListingState } from '../hooks/use-folder-listing.js';
import type { FolderRequest } from '../state/app-state.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { FolderEntries } from './FolderEntries.js';
import { FolderPlaces } from './FolderPlaces.js';
import { Modal } from './Modal.js';

/**
 * Browser mode's folder chooser: the host lists folders (a web page cannot see the disk). Asked for a file (a
 * disk image), it lists the files too and answers with the one chosen.
 */
export function FolderBrowser() {
  const request = useApp((s) => s.folderRequest);
  const client = useApp((s) => s.client);
  const state = useFolderListing(client, request);
  const { listing, go } = state;
  const wantsFile = request?.mode === 'file';

  if (!request) return null;
  return (
    <Modal title={request.title} onClose={() => request.resolve(null)}>
      <PathForm state={state} />
      {listing && (
        <FolderPlaces
          listing={listing}
          hidden={state.hidden}
          go={(p) => void go(p)}
          showHidden={state.showHidden}
          makeFolder={(name) => go(listing.path, state.hidden, name)}
        />
      )}
      <ErrorNote error={state.error} />
      {listing && (
        <FolderEntries
          listing={listing}
          wantsFile={wantsFile}
          chosenFile={state.chosenFile}
          go={(p) => void go(p)}
          chooseFile={state.chooseFile}
          answer={request.resolve}
        />
      )}
      <ChooseFooter request={request} listing={listing} chosenFile={state.chosenFile} />
    </Modal>
  );
}

/** The path field: shows where the listing is; a path typed in goes there with Enter or Go. */
function PathForm({ state }: { state: FolderListingState }) {
  return (
    <form
      className="row"
      onSubmit={(e) => {
        e.preventDefault();
        void state.go(state.typed);
      }}
    >
      <label className="grow">
        Folder{' '}
        <input
          ref={state.field}
          type="text"
          value={state.typed}
          placeholder={state.listing?.path}
          onChange={(e) => state.type(e.target.value)}
          spellCheck={false}
        />
      </label>
      <button type="submit">Go</button>
    </form>
  );
}

/** Cancel, and the answer: the chosen file, or the folder the listing is in. */
function ChooseFooter({
  request,
  listing,
  chosenFile,
}: {
  request: FolderRequest;
  listing: FolderListing | undefined;
  chosenFile: string | undefined;
}) {
  return (
    <footer className="modal-footer">
      <button type="button" onClick={() => request.resolve(null)}>
        Cancel
      </button>
      {request.mode === 'file' ? (
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
  );
}
