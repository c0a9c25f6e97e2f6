import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { GroupRow } from '../../../../contract/model.js';
import type { SliceCreator } from '../app-state.js';
import { paneError } from './pane-error.js';

/** The open store's groups, the one selected, and its notes. */
export interface GroupsSlice {
  groups: GroupRow[];
  groupsError?: AppErrorInfo;
  selectedGroup?: string;
  refreshGroups(): Promise<void>;
  /** Selects a group and lists its snapshots (nothing chosen among them). */
  selectGroup(path: string | undefined): Promise<void>;
  setGroupNotes(group: GroupRow, notes: string): Promise<void>;
}

export const createGroupsSlice: SliceCreator<GroupsSlice> = (set, get, client) => ({
  groups: [],

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
    // A search belongs to its group.
    if (get().search?.group !== path) get().closeSearch();
    set({
      selectedGroup: path,
      snapshots: [],
      selectedSnapshot: undefined,
      browsing: undefined,
      snapshotsError: undefined,
    });
    await get().refreshSnapshots();
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
});
