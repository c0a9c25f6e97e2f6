import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { LastGc, StoreSummary, UsageSample } from '../../../../contract/model.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The open datastore (or none), the recent ones, and what the store bar shows of it: its last GC, its size. */
export interface DatastoreSlice {
  recent: string[];
  store?: StoreSummary;
  storeError?: AppErrorInfo;
  /**
   * Set when the open store is gone (STORE_MISSING: an unplugged drive, a moved or deleted folder). The whole
   * view says so once, instead of each pane showing its own error; cleared when it answers again.
   */
  storeMissing?: AppErrorInfo;
  /** What is known of the last garbage collection (never, unknown, its counters); undefined until the host answers it. */
  gcStatus?: LastGc;
  /**
   * The chunks the store holds on disk, as last counted (a scan: it arrives after the store opened), with the time
   * its count began (what it cannot have missed).
   */
  storeUsage?: UsageSample;
  /** A count of the chunks runs now (the shown size may be behind). */
  storeUsageCounting: boolean;
  openStore(path: string): Promise<boolean>;
  closeStore(): void;
  /** Asks for the missing store again (the drive plugged back in). */
  retryStore(): Promise<void>;
  forgetRecent(path: string): Promise<void>;
  onStoreChanged(store: string): Promise<void>;
  refreshGcStatus(): Promise<void>;
  /** Counts the chunks on disk again; while a count runs, one more follows it (never several queued). */
  refreshUsage(): Promise<void>;
}

/** What a store's groups and snapshots panes start from: nothing listed, nothing chosen. */
const nothingChosen = () => ({
  groups: [],
  selectedGroup: undefined,
  snapshots: [],
  selectedSnapshot: undefined,
  browsing: undefined,
  remoteChoice: undefined,
  remoteListings: {},
});

export const createDatastoreSlice: SliceCreator<DatastoreSlice> = (set, get, client) => {
  const usageScan = { running: false, again: false };
  return {
    recent: [],
    storeUsageCounting: false,

    async openStore(path) {
      set({ storeError: undefined });
      try {
        const store = await client.openStore({ path });
        set({
          store,
          storeMissing: undefined,
          ...nothingChosen(),
          gcStatus: undefined,
          storeUsage: undefined,
          overviewShown: true,
          dashboard: undefined,
          dashboardError: undefined,
          recent: await client.recentStores({}),
        });
        void get().refreshUsage();
        await Promise.all([get().refreshGroups(), get().refreshGcStatus(), get().refreshDashboard()]);
        return true;
      } catch (err) {
        set({ storeError: errorInfo(err) });
        return false;
      }
    },

    closeStore() {
      get().closeSearch();
      set({ store: undefined, storeMissing: undefined, ...nothingChosen() });
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

    async onStoreChanged(store) {
      if (get().store?.path !== store) return;
      void get().refreshUsage();
      await Promise.all([get().refreshGroups(), get().refreshGcStatus(), get().refreshDashboard()]);
      await get().refreshSnapshots();
    },

    async refreshGcStatus() {
      const store = get().store;
      if (!store) return;
      try {
        set({ gcStatus: await client.gcStatus({ store: store.path }) });
      } catch {
        // Informative only (GC reports its errors on its job card); not "never ran" either, so nothing is shown.
        set({ gcStatus: undefined });
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
            const time = Date.now();
            const usage = await client.storeUsage({ store: store.path });
            if (get().store?.path === store.path) set({ storeUsage: { ...usage, time } });
          } catch {
            if (get().store?.path === store.path) set({ storeUsage: undefined }); // informative only; a missing store says so elsewhere
          }
        } while (usageScan.again);
      } finally {
        usageScan.running = false;
        set({ storeUsageCounting: false });
      }
    },
  };
};
