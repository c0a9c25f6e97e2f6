import { useState, type DragEvent } from 'react';
import { useApp, useAppShallow } from '../state/use-app.js';
import { BackupDialog } from './BackupDialog.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { Dashboard } from './Dashboard.js';
import { ErrorNote } from './ErrorNote.js';
import { FolderBrowser } from './FolderBrowser.js';
import { GroupsList } from './GroupsList.js';
import { ImageBackupDialog } from './ImageBackupDialog.js';
import { NoticeToasts } from './NoticeToasts.js';
import { PlanEditorHost } from './PlanEditor.js';
import { PlansButton } from './PlansButton.js';
import { KeysButton } from './KeysButton.js';
import { RemotesButton } from './RemotesButton.js';
import { RemotePaneLoader, RemotesViewLoader } from './lazy-remotes.js';
import { KeyWizard } from './KeyWizard.js';
import { UnlockKeyDialog } from './UnlockKeyDialog.js';
import { KeysViewLoader, PlansViewLoader } from './lazy-views.js';
import { SnapshotBrowser } from './SnapshotBrowser.js';
import { FindDialogsLoader, SearchPaneLoader } from './lazy-find.js';
import { SnapshotsTable } from './SnapshotsTable.js';
import { StoreBar } from './StoreBar.js';
import { StoreMissing } from './StoreMissing.js';
import { StorePicker } from './StorePicker.js';
import { TasksPanel } from './TasksPanel.js';
import { formatBytes } from '../../../contract/format.js';

/**
 * The window: header with the plans and the open store, then groups | its overview, snapshots or the browser | tasks, or the
 * plans view instead of the store. Drop a folder anywhere.
 */
export function App() {
  const keysOpen = useApp((s) => s.keysOpen);
  const remotesOpen = useApp((s) => s.remotesOpen);
  const { store, startupError, backupDraft, plansOpen } = useAppShallow((s) => ({
    store: s.store,
    startupError: s.startupError,
    backupDraft: s.backupDraft,
    plansOpen: s.plansOpen,
  }));
  const drop = useFolderDrop();
  return (
    <div
      className={`app${drop.dragging ? ' dragging' : ''}`}
      onDragOver={drop.onDragOver}
      onDragLeave={drop.onDragLeave}
      onDrop={drop.onDrop}
    >
      <AppHeader />
      <ConnectionBanner />
      <ErrorNote error={startupError} />
      <div className="app-body">
        {keysOpen ? (
          <KeysViewLoader />
        ) : remotesOpen ? (
          <RemotesViewLoader />
        ) : plansOpen ? (
          <PlansViewLoader />
        ) : !store ? (
          <StorePicker />
        ) : (
          <StoreView store={store.path} />
        )}
        <TasksPanel />
      </div>
      {drop.dragging && (
        <div className="drop-hint" aria-hidden="true">
          Drop a folder to back it up
        </div>
      )}
      {backupDraft?.kind === 'folder' && (
        <BackupDialog key={`${backupDraft.source}|${backupDraft.droppedName ?? ''}`} />
      )}
      {backupDraft?.kind === 'image' && <ImageBackupDialog />}
      <PlanEditorHost />
      <FolderBrowser />
      <KeyWizard />
      <FindDialogsLoader />
      <UnlockKeyDialog />
      <NoticeToasts />
    </div>
  );
}

/** A folder dropped anywhere on the window opens the backup dialog for it (or says a store must be open first). */
function useFolderDrop() {
  const hasStore = useApp((s) => s.store !== undefined);
  const client = useApp((s) => s.client);
  const openBackupDialog = useApp((s) => s.openBackupDialog);
  const noStoreForDrop = useApp((s) => s.noStoreForDrop);
  const [dragging, setDragging] = useState(false);
  return {
    dragging,
    onDragOver: (e: DragEvent) => {
      e.preventDefault();
      if (hasStore) setDragging(true);
    },
    onDragLeave: (e: DragEvent) => {
      if (e.currentTarget === e.target) setDragging(false);
    },
    // Drops are always taken: left to the browser, a dropped folder would navigate away from the app.
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      const file = e.dataTransfer.files[0];
      if (!file) return;
      if (!hasStore) noStoreForDrop(file.name);
      else openBackupDialog(client.pathOfDroppedFile(file) ?? '', file.name);
    },
  };
}

/** The app's name, its views, the open store (with "Switch datastore"), and which host runs it. */
function AppHeader() {
  const { store, info, closeStore, closePlans } = useAppShallow((s) => ({
    store: s.store,
    info: s.info,
    closeStore: s.closeStore,
    closePlans: s.closePlans,
  }));
  return (
    <header className="app-header">
      <h1>Cairn</h1>
      <PlansButton />
      <KeysButton />
      <RemotesButton />
      {store && (
        <div className="store-info">
          <span className="mono" title={store.path}>
            {store.path}
          </span>
          <span
            className="muted small"
            title="Disk images are stored in chunks of this size; folders in chunks of about 1 MiB, cut by their content."
          >
            image chunks {formatBytes(store.chunkSize)} · {store.compression}
          </span>
          <button
            type="button"
            onClick={() => {
              closePlans();
              closeStore();
            }}
          >
            Switch datastore
          </button>
        </div>
      )}
      {info && (
        <span className="muted small host-mode">
          {info.host === 'web' ? 'browser mode' : 'desktop'} · v{info.version}
        </span>
      )}
    </header>
  );
}

/** The open store: its maintenance bar, its groups, and the overview, a group's snapshots, a search or a browser. */
function StoreView({ store }: { store: string }) {
  const remoteShown = useApp((s) => s.remoteChoice !== undefined);
  const browsing = useApp((s) => (s.browsing ? s.snapshots.find((r) => r.path === s.browsing) : undefined));
  const overview = useApp((s) => s.overviewShown);
  const searching = useApp((s) => s.searchShown && s.search !== undefined);
  return (
    <main className="store-view" aria-label="Datastore">
      <StoreMissing />
      <StoreBar />
      <div className="store-panes">
        <GroupsList />
        {overview ? (
          <Dashboard store={store} />
        ) : remoteShown ? (
          <RemotePaneLoader />
        ) : searching ? (
          <SearchPaneLoader />
        ) : browsing ? (
          <SnapshotBrowser key={browsing.path} snapshot={browsing} />
        ) : (
          <SnapshotsTable />
        )}
      </div>
    </main>
  );
}
