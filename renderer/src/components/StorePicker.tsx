import { useState } from 'react';
import type { Compression } from '../../../contract/model.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { PathField } from './PathField.js';
import { PlansTeaser } from './PlansTeaser.js';

const CHUNK_SIZES = [64, 128, 256, 512, 1024, 2048, 4096];

/** The start page: recent stores, open an existing one, create a new one. */
export function StorePicker() {
  const home = useApp((s) => s.info?.homeDir ?? '');
  return (
    <main className="store-picker" aria-label="Choose a datastore">
      <RecentStores />
      <PlansTeaser />
      <OpenStore home={home} />
      <CreateStore home={home} />
    </main>
  );
}

/** The stores opened before, each to open again or to remove from the list. */
function RecentStores() {
  const { recent, openStore, forgetRecent } = useAppShallow((s) => ({
    recent: s.recent,
    openStore: s.openStore,
    forgetRecent: s.forgetRecent,
  }));
  return (
    <section aria-labelledby="recent-title">
      <h2 id="recent-title">Recent datastores</h2>
      {recent.length === 0 ? (
        <p className="muted">None yet. Open or create one below.</p>
      ) : (
        <ul className="recent-list">
          {recent.map((path) => (
            <li key={path}>
              <button type="button" className="link strong" onClick={() => void openStore(path)}>
                {path}
              </button>
              <button
                type="button"
                className="link muted"
                aria-label={`Remove ${path} from the list`}
                onClick={() => void forgetRecent(path)}
              >
                remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Open an existing store by its folder; a failure to open is shown here. */
function OpenStore({ home }: { home: string }) {
  const { storeError, openStore } = useAppShallow((s) => ({ storeError: s.storeError, openStore: s.openStore }));
  const [openPath, setOpenPath] = useState('');
  return (
    <section aria-labelledby="open-title">
      <h2 id="open-title">Open a datastore</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void openStore(openPath);
        }}
      >
        <PathField
          label="Datastore folder"
          name="open-path"
          value={openPath}
          onChange={setOpenPath}
          pickTitle="Open a datastore"
          placeholder={`${home}/cairn-store`}
        />
        <button type="submit" className="primary" disabled={openPath.trim() === ''}>
          Open
        </button>
      </form>
      <ErrorNote error={storeError} />
    </section>
  );
}

/** Create a store in an empty or new folder, with its chunk size and compression; it runs as a job. */
function CreateStore({ home }: { home: string }) {
  const startJob = useApp((s) => s.startJob);
  const jobError = useOwnJobError();
  const [newPath, setNewPath] = useState('');
  const [chunkKiB, setChunkKiB] = useState(4096);
  const [compression, setCompression] = useState<Compression>('zstd');
  return (
    <section aria-labelledby="create-title">
      <h2 id="create-title">Create a datastore</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void startJob({ kind: 'create-store', path: newPath, chunkSize: chunkKiB * 1024, compression });
        }}
      >
        <PathField
          label="New datastore folder (empty or new)"
          name="create-path"
          value={newPath}
          onChange={setNewPath}
          pickTitle="Where to create the datastore"
          placeholder={`${home}/cairn-store`}
        />
        <div className="row">
          <label>
            Chunk size{' '}
            <select value={chunkKiB} onChange={(e) => setChunkKiB(Number(e.target.value))}>
              {CHUNK_SIZES.map((k) => (
                <option key={k} value={k}>
                  {k >= 1024 ? `${k / 1024} MiB` : `${k} KiB`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Compression{' '}
            <select value={compression} onChange={(e) => setCompression(e.target.value as Compression)}>
              <option value="zstd">zstd</option>
              <option value="none">none</option>
            </select>
          </label>
        </div>
        <p className="muted">
          Chunk size applies to disk images; folder backups use content-defined chunks of about 1 MiB.
        </p>
        <button type="submit" className="primary" disabled={newPath.trim() === ''}>
          Create
        </button>
      </form>
      <ErrorNote error={jobError} />
    </section>
  );
}
