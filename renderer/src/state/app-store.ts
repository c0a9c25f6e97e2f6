import { createStore } from 'zustand/vanilla';
import type { CairnClient } from '../api/client.js';
import type { AppState, AppStore } from './app-state.js';
import { createDashboardSlice } from './slices/dashboard-slice.js';
import { createDatastoreSlice } from './slices/datastore-slice.js';
import { createDialogsSlice } from './slices/dialogs-slice.js';
import { createFindSlice } from './slices/find-slice.js';
import { createGroupsSlice } from './slices/groups-slice.js';
import { createJobsSlice } from './slices/jobs-slice.js';
import { createKeysSlice } from './slices/keys-slice.js';
import { createNoticesSlice } from './slices/notices-slice.js';
import { createPlansSlice } from './slices/plans-slice.js';
import { createRemotesSlice } from './slices/remotes-slice.js';
import { createSessionSlice } from './slices/session-slice.js';
import { createSnapshotsSlice } from './slices/snapshots-slice.js';

export type { AppState, AppStore, BackupDraft, FolderRequest, PlanDraft } from './app-state.js';

/**
 * The window's store: the slices side by side in one flat state (see app-state.ts). Big lists (folder trees,
 * diffs) stay in their views; the store keeps what several views share.
 */
export function createAppStore(client: CairnClient): AppStore {
  const store = createStore<AppState>()((set, get) => ({
    ...createSessionSlice(set, get, client),
    ...createDatastoreSlice(set, get, client),
    ...createDashboardSlice(set, get, client),
    ...createGroupsSlice(set, get, client),
    ...createSnapshotsSlice(set, get, client),
    ...createJobsSlice(set, get, client),
    ...createDialogsSlice(set, get, client),
    ...createPlansSlice(set, get, client),
    ...createNoticesSlice(set, get, client),
    ...createKeysSlice(set, get, client),
    ...createRemotesSlice(set, get, client),
    ...createFindSlice(set, get, client),
  }));
  // An action that needs a locked key asks for it here, and runs again once it is unlocked.
  client.setKeyPrompt((fingerprint) => store.getState().askForKey(fingerprint));
  return store;
}

/** Subscribes the store to the host's pushes; returns one function that undoes all of it. */
export function connectEvents(store: AppStore): () => void {
  const { client } = store.getState();
  const offs = [
    client.onJobProgress((job) => store.getState().applyJob(job)),
    client.onJobDone((job) => store.getState().applyJob(job)),
    client.onStoreChanged((e) => void store.getState().onStoreChanged(e.store)),
    client.onPlansChanged(() => void store.getState().refreshPlans()),
    client.onPlanNotice((notice) => store.getState().onPlanNotice(notice)),
    client.onSearchUpdate((update) => store.getState().applySearchUpdate(update)),
    client.onReconnect(() => void store.getState().resync()),
  ];
  return () => {
    for (const off of offs) off();
  };
}
