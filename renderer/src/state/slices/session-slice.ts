import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { AppInfo } from '../../../../contract/model.js';
import { errorInfo, type CairnClient } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** The connection to the host: what it is, starting up, and catching up after a break in the event stream. */
export interface SessionSlice {
  client: CairnClient;
  info?: AppInfo;
  startupError?: AppErrorInfo;
  init(): Promise<void>;
  /** After a break in the event stream: jobs, plans, groups and snapshots as the host has them now. */
  resync(): Promise<void>;
}

export const createSessionSlice: SliceCreator<SessionSlice> = (set, get, client) => ({
  client,

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
      return;
    }
    // Plans and keys are not needed to start: a host without them says so in their views.
    await Promise.all([get().refreshPlans(), get().refreshKeys()]);
  },

  async resync() {
    try {
      for (const job of await client.listJobs({})) get().applyJob(job);
    } catch {
      return; // the host is still away; the next reconnect tries again
    }
    void get().refreshPlans();
    const store = get().store;
    if (store) await get().onStoreChanged(store.path);
  },
});
