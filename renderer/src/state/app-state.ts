import type { StoreApi } from 'zustand/vanilla';
import type { CairnClient } from '../api/client.js';
import type { DashboardSlice } from './slices/dashboard-slice.js';
import type { DatastoreSlice } from './slices/datastore-slice.js';
import type { DialogsSlice } from './slices/dialogs-slice.js';
import type { FindSlice } from './slices/find-slice.js';
import type { GroupsSlice } from './slices/groups-slice.js';
import type { JobsSlice } from './slices/jobs-slice.js';
import type { KeysSlice } from './slices/keys-slice.js';
import type { NoticesSlice } from './slices/notices-slice.js';
import type { PlansSlice } from './slices/plans-slice.js';
import type { RemotesSlice } from './slices/remotes-slice.js';
import type { SessionSlice } from './slices/session-slice.js';
import type { SnapshotsSlice } from './slices/snapshots-slice.js';

export type { BackupDraft, FolderRequest } from './slices/dialogs-slice.js';
export type { PlanDraft } from './slices/plans-slice.js';

/**
 * The renderer's state: one zustand store per window, made of slices (state/slices/), each a small function
 * with its own fields and actions. Slices call each other through `get()`, so the state is one flat object, as
 * the components select from it.
 */
export type AppState = SessionSlice &
  DatastoreSlice &
  DashboardSlice &
  GroupsSlice &
  SnapshotsSlice &
  JobsSlice &
  DialogsSlice &
  PlansSlice &
  NoticesSlice &
  KeysSlice &
  RemotesSlice &
  FindSlice;

export type AppStore = StoreApi<AppState>;

export type SetState = AppStore['setState'];

/** One slice: its fields and actions, given the store's set and get and the client to the host. */
export type SliceCreator<T> = (set: SetState, get: () => AppState, client: CairnClient) => T;
