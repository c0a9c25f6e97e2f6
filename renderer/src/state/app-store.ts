import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { JobSpec, JobState } from '../../../contract/jobs.js';
import type {
  AppInfo,
  GcSummary,
  GroupRef,
  GroupRow,
  SnapshotRow,
  StoreSummary,
  StoreUsage,
} from '../../../contract/model.js';
import { errorInfo, type CairnClient } from '../api/client.js';

/** A question to the user that resolves with a folder (or a file), asked by the in-app folder browser (browser mode). */
export interface FolderRequest {
  title: string;
  startPath?: string;
  /** 'file': the browser lists files too and answers with the one chosen (a disk image to back up). */
  mode: 'folder' | 'file';
  resolve(path: string | null): void;
}

/** The backup dialog's start: a folder (from a drop or the button) or a disk image. */
export interface BackupDraft {
  kind: 'folder' | 'image';
  source: string;
  droppedName?: string;
}

export interface AppState {
  client: CairnClient;
  info?: AppInfo;
  startupError?: AppErrorInfo;

  recent: string[];
  store?: StoreSummary;
  storeError?: AppErrorInfo;
  /**
   * Set when the open store is gone (STORE_MISSING: an unplugged drive, a moved or deleted folder). The whole
   * view says so once, instead of each pane showing its own error; cleared when it answers again.
   */
  storeMissing?: AppErrorInfo;
  /** The last garbage collection's result, if the store has had one. */
  gcStatus?: GcSummary;
  /** The chunks the store holds on disk, as last counted (a scan: it arrives after the store opened). */
  storeUsage?: StoreUsage;
  /** A count of the chunks runs now (the shown size may be behind). */
  storeUsageCounting: boolean;

  groups: GroupRow[];
  groupsError?: AppErrorInfo;
  selectedGroup?: string;

  snapshots: SnapshotRow[];
  snapshotsError?: AppErrorInfo;
  snapshotsLoading: boolean;
  /**
   * The snapshot chosen in the table, by path (group and time): never by row number, which moves when a
   * backup arrives or a snapshot goes. Unset when that snapshot is gone.
   */
  selectedSnapshot?: string;
  /** The snapshot open in the browser, by path. */
  browsing?: string;

  jobs: Record<string, JobState>;
  /** Job ids, newest first. */
  jobOrder: string[];
  jobError?: AppErrorInfo;

  /** The backup dialog, opened by a drop or a button. */
  backupDraft?: BackupDraft;
  folderRequest?: FolderRequest;

  init(): Promise<void>;
  openStore(path: string): Promise<boolean>;
  closeStore(): void;
  /** Asks for the missing store again (the drive plugged back in). */
  retryStore(): Promise<void>;
  forgetRecent(path: string): Promise<void>;
  refreshGroups(): Promise<void>;
  selectGroup(path: string | undefined): Promise<void>;
  refreshSnapshots(): Promise<void>;
  selectSnapshot(path: string | undefined): void;
  browse(snapshotPath: string | undefined): void;
  startJob(spec: JobSpec): Promise<JobState | undefined>;
  cancelJob(jobId: string): Promise<void>;
  applyJob(job: JobState): void;
  onStoreChanged(store: string): Promise<void>;
  setProtected(row: SnapshotRow, value: boolean): Promise<void>;
  setGroupNotes(group: GroupRow, notes: string): Promise<void>;
  setSnapshotNotes(row: SnapshotRow, notes: string): Promise<boolean>;
  forgetSnapshot(row: SnapshotRow): Promise<boolean>;
  refreshGcStatus(): Promise<void>;
  /** Counts the chunks on disk again; while a count runs, one more follows it (never several queued). */
  refreshUsage(): Promise<void>;
  openBackupDialog(source?: string, droppedName?: string): void;
  openImageBackupDialog(): void;
  /** A folder was dropped before any store was open: say what to do first. */
  noStoreForDrop(droppedName: string): void;
  closeBackupDialog(): void;
  pickFolder(title: string, startPath?: string): Promise<string | null>;
  pickFile(title: string, startPath?: string): Promise<string | null>;
  clearJobError(): void;
  /** After a break in the event stream: jobs, groups and snapshots as the host has them now. */
  resync(): Promise<void>;
}

export type AppStore = StoreApi<AppState>;

/** The snapshot choices that still name a snapshot of the list; a gone one is dropped, never moved to a neighbour. */
function stillListed(
  state: Pick<AppState, 'selectedSnapshot' | 'browsing'>,
  snapshots: SnapshotRow[],
): Pick<AppState, 'selectedSnapshot' | 'browsing'> {
  const listed = (path: string | undefined) =>
    path !== undefined && snapshots.some((s) => s.path === path) ? path : undefined;
  return { selectedSnapshot: listed(state.selectedSnapshot), browsing: listed(state.browsing) };
}

/** A pane's error, unless it says the open store is gone: that is the whole view's state, not the pane's. */
function paneError(key: 'groupsError' | 'snapshotsError', err: unknown): Partial<AppState> {
  const info = errorInfo(err);
  return info.code === 'STORE_MISSING' ? { storeMissing: info } : { [key]: info };
}

function groupRef(path: string): GroupRef {
  const [type, id] = path.split('/') as [GroupRef['type'], string];
  return { type, id };
}

/**
 * The renderer's state: one zustand store per window, its actions calling the host through the client. Big
 * lists (folder trees, diffs) stay in their views; the store keeps what several views share.
 */
type SetState = StoreApi<AppState>['setState'];

/** Asks for a folder or a file: with the native dialog where the host has one (Electron), else the in-app browser. */
async function pickPath(
  get: () => AppState,
  set: SetState,
  mode: FolderRequest['mode'],
  title: string,
  startPath?: string,
): Promise<string | null> {
  const { client, info } = get();
  if (info?.nativeDialogs) {
    try {
      const defaultPath = startPath || undefined;
      return await (mode === 'file'
        ? client.pickFile({ title, defaultPath })
        : client.pickFolder({ title, defaultPath }));
    } catch (err) {
      set({ jobError: errorInfo(err) });
      return null;
    }
  }
  return new Promise((resolve) => {
    set({
      folderRequest: {
        title,
        startPath,
        mode,
        resolve: (path) => {
          set({ folderRequest: undefined });
          resolve(path);
        },
      },
    });
  });
}

export function createAppStore(client: CairnClient): AppStore {
  const usageScan = { running: false, again: false };
  return createStore<AppState>()((set, get) => ({
    client,
    recent: [],
    groups: [],
    snapshots: [],
    snapshotsLoading: false,
    storeUsageCounting: false,
    jobs: {},
    jobOrder: [],

    async init() {
      try {
        const [info, recent, jobs] = await Promise.all([
          client.getAppInfo({}),
          client.recentStores({}),
          client.listJobs({}),
        ]);
        set({ info, recent });
        for (const job of [...jobs].reverse()) get().applyJob(job);
      } catch (err) {
        set({ startupError: errorInfo(err) });
      }
    },

    async openStore(path) {
      set({ storeError: undefined });
      try {
        const store = await client.openStore({ path });
        set({
          store,
          storeMissing: undefined,
          groups: [],
          selectedGroup: undefined,
          snapshots: [],
          selectedSnapshot: undefined,
          browsing: undefined,
          gcStatus: undefined,
          storeUsage: undefined,
          recent: await client.recentStores({}),
        });
        void get().refreshUsage();
        await Promise.all([get().refreshGroups(), get().refreshGcStatus()]);
        return true;
      } catch (err) {
        set({ storeError: errorInfo(err) });
        return false;
      }
    },

    closeStore() {
      set({
        store: undefined,
        storeMissing: undefined,
        groups: [],
        selectedGroup: undefined,
        snapshots: [],
        selectedSnapshot: undefined,
        browsing: undefined,
      });
    },

    async retryStore() {
      const store = get().store;
      if (!store) return;
      try {
        set({ store: await client.openStore({ path: store.path }), storeMissing: undefined });
      } catch (err) {
        set({ storeMissing: errorInfo(err) });
        return;
      }
      await get().onStoreChanged(store.path);
    },

    async forgetRecent(path) {
      set({ recent: await client.forgetRecentStore({ path }) });
    },

    async refreshGroups() {
      const store = get().store;
      if (!store) return;
      try {
        const groups = await client.listGroups({ store: store.path });
        set({ groups, groupsError: undefined, storeMissing: undefined });
        const selected = get().selectedGroup;
        if (selected === undefined || !groups.some((g) => g.path === selected)) {
          await get().selectGroup(groups[0]?.path);
        }
      } catch (err) {
        set(paneError('groupsError', err));
      }
    },

    async selectGroup(path) {
      set({
        selectedGroup: path,
        snapshots: [],
        selectedSnapshot: undefined,
        browsing: undefined,
        snapshotsError: undefined,
      });
      await get().refreshSnapshots();
    },

    async refreshSnapshots() {
      const { store, selectedGroup } = get();
      if (!store || selectedGroup === undefined) return;
      set({ snapshotsLoading: true });
      try {
        const snapshots = await client.listSnapshots({ store: store.path, group: groupRef(selectedGroup) });
        // A late answer for a group no longer selected is dropped.
        if (get().selectedGroup === selectedGroup)
          set({ snapshots, ...stillListed(get(), snapshots), snapshotsError: undefined });
      } catch (err) {
        set(paneError('snapshotsError', err));
      } finally {
        set({ snapshotsLoading: false });
      }
    },

    selectSnapshot(path) {
      set({ selectedSnapshot: path });
    },

    browse(snapshotPath) {
      set({ browsing: snapshotPath });
    },

    async startJob(spec) {
      set({ jobError: undefined });
      try {
        const job = await client.startJob(spec);
        get().applyJob(job);
        return job;
      } catch (err) {
        // Shown where the job was asked for (a dialog); a store gone from under the view is its state too.
        const info = errorInfo(err);
        const gone = info.code === 'STORE_MISSING' && spec.kind !== 'create-store' && spec.store === get().store?.path;
        set({ jobError: info, ...(gone ? { storeMissing: info } : {}) });
        return undefined;
      }
    },

    async cancelJob(jobId) {
      try {
        get().applyJob(await client.cancelJob({ jobId }));
      } catch (err) {
        set({ jobError: errorInfo(err) });
      }
    },

    applyJob(job) {
      const { jobs, jobOrder } = get();
      const known = jobs[job.id];
      // Events may arrive out of order with a start's answer: a finished state is never replaced by a running one.
      if (known && known.status !== 'running' && job.status === 'running') return;
      set({ jobs: { ...jobs, [job.id]: job }, jobOrder: known ? jobOrder : [job.id, ...jobOrder] });
      if (job.kind === 'create-store' && job.status === 'done' && known?.status === 'running')
        void get().openStore(job.store);
    },

    async onStoreChanged(store) {
      if (get().store?.path !== store) return;
      void get().refreshUsage();
      await Promise.all([get().refreshGroups(), get().refreshGcStatus()]);
      await get().refreshSnapshots();
    },

    async refreshGcStatus() {
      const store = get().store;
      if (!store) return;
      try {
        set({ gcStatus: (await client.gcStatus({ store: store.path })) ?? undefined });
      } catch {
        set({ gcStatus: undefined }); // the summary is informative only; GC itself reports its errors on its job card
      }
    },

    async refreshUsage() {
      if (usageScan.running) {
        usageScan.again = true;
        return;
      }
      usageScan.running = true;
      set({ storeUsageCounting: true });
      try {
        do {
          usageScan.again = false;
          const store = get().store;
          if (!store) return;
          try {
            const usage = await client.storeUsage({ store: store.path });
            if (get().store?.path === store.path) set({ storeUsage: usage });
          } catch {
            if (get().store?.path === store.path) set({ storeUsage: undefined }); // informative only; a missing store says so elsewhere
          }
        } while (usageScan.again);
      } finally {
        usageScan.running = false;
        set({ storeUsageCounting: false });
      }
    },

    async setSnapshotNotes(row, notes) {
      const store = get().store;
      if (!store) return false;
      try {
        const updated = await client.setSnapshotNotes({
          store: store.path,
          snapshot: { type: row.type, id: row.id, time: row.time },
          notes,
        });
        set({
          snapshots: get().snapshots.map((s) => (s.path === updated.path ? updated : s)),
          snapshotsError: undefined,
        });
        return true;
      } catch (err) {
        set(paneError('snapshotsError', err));
        return false;
      }
    },

    async forgetSnapshot(row) {
      const store = get().store;
      if (!store) return false;
      try {
        await client.forgetSnapshot({ store: store.path, snapshot: { type: row.type, id: row.id, time: row.time } });
        const snapshots = get().snapshots.filter((s) => s.path !== row.path);
        set({ snapshots, ...stillListed(get(), snapshots), snapshotsError: undefined });
        return true;
      } catch (err) {
        set(paneError('snapshotsError', err));
        return false;
      }
    },

    async setProtected(row, value) {
      const store = get().store;
      if (!store) return;
      const replace = (next: SnapshotRow) =>
        set({ snapshots: get().snapshots.map((s) => (s.path === next.path ? next : s)) });
      // Shown at once; put back if the host refuses.
      replace({ ...row, protected: value });
      try {
        replace(
          await client.setProtected({
            store: store.path,
            snapshot: { type: row.type, id: row.id, time: row.time },
            protected: value,
          }),
        );
        set({ snapshotsError: undefined });
      } catch (err) {
        replace(row);
        set(paneError('snapshotsError', err));
      }
    },

    async setGroupNotes(group, notes) {
      const store = get().store;
      if (!store) return;
      try {
        const updated = await client.setGroupNotes({
          store: store.path,
          group: { type: group.type, id: group.id },
          notes,
        });
        set({ groups: get().groups.map((g) => (g.path === updated.path ? updated : g)), groupsError: undefined });
      } catch (err) {
        set(paneError('groupsError', err));
      }
    },

    openBackupDialog(source = '', droppedName) {
      set({ backupDraft: { kind: 'folder', source, droppedName } });
    },

    openImageBackupDialog() {
      set({ backupDraft: { kind: 'image', source: '' } });
    },

    noStoreForDrop(droppedName) {
      set({
        storeError: {
          code: 'INVALID_ARGUMENT',
          message: `To back up “${droppedName}”, open or create a datastore first, then drop it on the window again.`,
        },
      });
    },

    closeBackupDialog() {
      set({ backupDraft: undefined });
    },

    async pickFolder(title, startPath) {
      return pickPath(get, set, 'folder', title, startPath);
    },

    async pickFile(title, startPath) {
      return pickPath(get, set, 'file', title, startPath);
    },

    clearJobError() {
      set({ jobError: undefined });
    },

    async resync() {
      try {
        for (const job of await client.listJobs({})) get().applyJob(job);
      } catch {
        return; // the host is still away; the next reconnect tries again
      }
      const store = get().store;
      if (store) await get().onStoreChanged(store.path);
    },
  }));
}

/** Subscribes the store to the host's pushes; returns one function that undoes all of it. */
export function connectEvents(store: AppStore): () => void {
  const { client } = store.getState();
  const offs = [
    client.onJobProgress((job) => store.getState().applyJob(job)),
    client.onJobDone((job) => store.getState().applyJob(job)),
    client.onStoreChanged((e) => void store.getState().onStoreChanged(e.store)),
    client.onReconnect(() => void store.getState().resync()),
  ];
  return () => {
    for (const off of offs) off();
  };
}
