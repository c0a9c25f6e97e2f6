import { useAppShallow } from '../state/use-app.js';

/** The open store is gone: say so once, with what may have happened and what to do (never "create one there"). */
export function StoreMissing() {
  const { store, missing, retryStore, closeStore } = useAppShallow((s) => ({
    store: s.store?.path,
    missing: s.storeMissing,
    retryStore: s.retryStore,
    closeStore: s.closeStore,
  }));
  if (!store || !missing) return null;
  return (
    <div className="error-note store-missing" role="alert" aria-label="Datastore missing">
      <p>
        <strong>The datastore {store} is missing.</strong> The drive it is on may be unplugged, or its folder moved or
        deleted. Backups and maintenance wait until it is back; nothing was changed.
      </p>
      <p className="muted small">{missing.message}</p>
      <div className="row">
        <button type="button" className="primary" onClick={() => void retryStore()}>
          Try again
        </button>
        <button type="button" onClick={closeStore}>
          Choose another datastore
        </button>
      </div>
    </div>
  );
}
