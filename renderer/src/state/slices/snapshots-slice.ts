import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { GroupRef, SnapshotRow } from '../../../../contract/model.js';
import type { AppState, SliceCreator } from '../app-state.js';
import { paneError } from './pane-error.js';

/** The selected group's snapshots: the list, the one chosen and the one browsed, and edits to them. */
export interface SnapshotsSlice {
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
  refreshSnapshots(): Promise<void>;
  selectSnapshot(path: string | undefined): void;
  browse(snapshotPath: string | undefined): void;
  setProtected(row: SnapshotRow, value: boolean): Promise<void>;
  setSnapshotNotes(row: SnapshotRow, notes: string): Promise<boolean>;
  forgetSnapshot(row: SnapshotRow): Promise<boolean>;
}

export const createSnapshotsSlice: SliceCreator<SnapshotsSlice> = (set, get, client) => ({
  snapshots: [],
  snapshotsLoading: false,

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

  async setSnapshotNotes(row, notes) {
    const store = get().store;
    if (!store) return false;
    try {
      const updated = await client.setSnapshotNotes({ store: store.path, snapshot: snapshotRef(row), notes });
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
      await client.forgetSnapshot({ store: store.path, snapshot: snapshotRef(row) });
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
      replace(await client.setProtected({ store: store.path, snapshot: snapshotRef(row), protected: value }));
      set({ snapshotsError: undefined });
    } catch (err) {
      replace(row);
      set(paneError('snapshotsError', err));
    }
  },
});

/** The snapshot choices that still name a snapshot of the list; a gone one is dropped, never moved to a neighbour. */
function stillListed(
  state: Pick<AppState, 'selectedSnapshot' | 'browsing'>,
  snapshots: SnapshotRow[],
): Pick<AppState, 'selectedSnapshot' | 'browsing'> {
  const listed = (path: string | undefined) =>
    path !== undefined && snapshots.some((s) => s.path === path) ? path : undefined;
  return { selectedSnapshot: listed(state.selectedSnapshot), browsing: listed(state.browsing) };
}

function groupRef(path: string): GroupRef {
  const [type, id] = path.split('/') as [GroupRef['type'], string];
  return { type, id };
}

function snapshotRef(row: SnapshotRow) {
  return { type: row.type, id: row.id, time: row.time };
}
