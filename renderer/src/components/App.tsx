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
  const remoteShown = useApp((s) => s.remoteChoice !== undefined);
  const { store, startupError, info, backupDraft, closeStore, plansOpen, closePlans } = useAppShallow((s) => ({
    store: s.store,
    startupError: s.startupError,
    info: s.info,
    backupDraft: s.backupDraft,
    closeStore: s.closeStore,
    plansOpen: s.plansOpen,
    closePlans: s.closePlans,
  }));
  const browsing = useApp((s) => (s.browsing ? s.snapshots.find((r) => r.path === s.browsing) : undefined));
  const overview = useApp((s) => s.overviewShown);
  const searching = useApp((s) => s.searchShown && s.search !== undefined);
  const client = useApp((s) => s.client);
  const openBackupDialog = useApp((s) => s.openBackupDialog);
  const noStoreForDrop = useApp((s) => s.noStoreForDrop);
  const [dragging, setDragging] = useState(false);

  // Drops are always taken: left to the browser, a dropped folder would navigate away from the app.
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (!file) return;
    if (!store) {
      noStoreForDrop(file.name);
      return;
    }
    openBackupDialog(client.pathOfDroppedFile(file) ?? '', file.name);
  };

  return (
    <div
      className={`app${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (store) setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
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
            <span className="muted small">
              chunks {formatBytes(store.chunkSize)} · {store.compression}
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
          <main className="store-view" aria-label="Datastore">
            <StoreMissing />
            <StoreBar />
            <div className="store-panes">
              <GroupsList />
              {overview ? (
                <Dashboard store={store.path} />
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
        )}
        <TasksPanel />
      </div>
      {dragging && (
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
