import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { StoreDashboard } from '../../../../contract/model.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The open store's dashboard (its first view): whether it is shown, and its figures as the host last gave them. */
export interface DashboardSlice {
  /** The dashboard is shown instead of the selected group's snapshots. */
  overviewShown: boolean;
  dashboard?: StoreDashboard;
  dashboardError?: AppErrorInfo;
  showOverview(): void;
  /** Leaves the dashboard for a group's snapshots. */
  openGroup(path: string): Promise<void>;
  refreshDashboard(): Promise<void>;
}

export const createDashboardSlice: SliceCreator<DashboardSlice> = (set, get, client) => {
  // A store.changed burst may answer out of order: only the last asked is kept.
  let asked = 0;
  return {
    overviewShown: true,

    showOverview() {
      set({ overviewShown: true, browsing: undefined, remoteChoice: undefined });
      void get().refreshDashboard();
    },

    async openGroup(path) {
      set({ overviewShown: false, remoteChoice: undefined });
      await get().selectGroup(path);
    },

    async refreshDashboard() {
      const store = get().store?.path;
      if (!store) return;
      const mine = ++asked;
      try {
        const dashboard = await client.storeDashboard({ store });
        if (mine === asked && get().store?.path === store) set({ dashboard, dashboardError: undefined });
      } catch (err) {
        if (mine === asked && get().store?.path === store) set({ dashboardError: errorInfo(err) });
      }
    },
  };
};
