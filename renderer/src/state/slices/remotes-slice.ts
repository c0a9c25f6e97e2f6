import type { AppErrorInfo } from '../../../../contract/errors.js';
import type {
  RemoteCheckResult,
  RemoteCredentialsInput,
  RemoteInfo,
  RemoteListing,
  RemoteSettings,
} from '../../../../contract/remotes.js';
import { errorInfo } from '../../api/client.js';
import type { SliceCreator } from '../app-state.js';

/** One remote's snapshots as last listed for the open store (or why they could not be). */
export interface RemoteListingState {
  listing?: RemoteListing;
  error?: AppErrorInfo;
  loading: boolean;
}

/** A remote's group shown in the middle pane, and the snapshot of it being browsed (by path). */
export interface RemoteChoice {
  remote: string;
  /** `type/id` */
  group: string;
  browsing?: string;
}

/** What the remote form sends: a new remote with its credentials, or an edit (credentials only when retyped). */
export interface RemoteDraft {
  name: string;
  settings: RemoteSettings;
  credentials?: RemoteCredentialsInput;
}

/**
 * Remotes (off-site copies on S3): the settings view, each remote's snapshots for the open store, and the one
 * shown. The renderer holds credentials only while they are typed; the host answers where they are kept.
 */
export interface RemotesSlice {
  remotes: RemoteInfo[];
  remotesLoaded: boolean;
  remotesError?: AppErrorInfo;
  remotesOpen: boolean;
  remoteListings: Record<string, RemoteListingState>;
  remoteChoice?: RemoteChoice;
  refreshRemotes(): Promise<void>;
  /** Adds or (`editing`) changes a remote; throws the host's refusal for the form to show. */
  saveRemote(draft: RemoteDraft, editing: boolean): Promise<RemoteInfo>;
  removeRemote(name: string): Promise<boolean>;
  /** Checks a saved remote (by name) or a draft; throws the host's refusal for the form to show. */
  checkRemote(draft: Partial<RemoteDraft>): Promise<RemoteCheckResult>;
  /** Lists every remote's snapshots for the open store. */
  refreshRemoteListings(): Promise<void>;
  refreshRemoteListing(name: string): Promise<void>;
  openRemoteGroup(remote: string, group: string): void;
  browseRemote(path: string | undefined): void;
  openRemotes(): void;
  closeRemotes(): void;
}

export const createRemotesSlice: SliceCreator<RemotesSlice> = (set, get, client) => ({
  remotes: [],
  remotesLoaded: false,
  remotesOpen: false,
  remoteListings: {},

  async refreshRemotes() {
    try {
      set({ remotes: await client.listRemotes({}), remotesLoaded: true, remotesError: undefined });
    } catch (err) {
      set({ remotesError: errorInfo(err), remotesLoaded: true });
    }
  },

  async saveRemote(draft, editing) {
    const saved = editing
      ? await client.updateRemote(draft)
      : await client.addRemote({ ...draft, credentials: draft.credentials! });
    await get().refreshRemotes();
    void get().refreshRemoteListing(saved.name);
    return saved;
  },

  async removeRemote(name) {
    try {
      await client.removeRemote({ name });
    } catch (err) {
      set({ remotesError: errorInfo(err) });
      return false;
    }
    const { [name]: _gone, ...rest } = get().remoteListings;
    set({ remoteListings: rest, remotesError: undefined });
    if (get().remoteChoice?.remote === name) set({ remoteChoice: undefined, overviewShown: true });
    await get().refreshRemotes();
    return true;
  },

  checkRemote(draft) {
    return client.checkRemote(draft);
  },

  async refreshRemoteListings() {
    if (!get().remotesLoaded) await get().refreshRemotes();
    await Promise.all(get().remotes.map((r) => get().refreshRemoteListing(r.name)));
  },

  async refreshRemoteListing(name) {
    const store = get().store?.path;
    const put = (state: RemoteListingState) => set({ remoteListings: { ...get().remoteListings, [name]: state } });
    put({ ...get().remoteListings[name], loading: true });
    try {
      const listing = await client.listRemoteSnapshots({ remote: name, ...(store ? { store } : {}) });
      if (get().store?.path === store) put({ listing, loading: false });
    } catch (err) {
      put({ ...get().remoteListings[name], error: errorInfo(err), loading: false });
    }
  },

  openRemoteGroup(remote, group) {
    set({ remoteChoice: { remote, group }, overviewShown: false, browsing: undefined });
  },

  browseRemote(path) {
    const choice = get().remoteChoice;
    if (choice) set({ remoteChoice: { ...choice, browsing: path } });
  },

  openRemotes() {
    set({ remotesOpen: true, keysOpen: false, plansOpen: false });
    void get().refreshRemotes();
  },

  closeRemotes() {
    set({ remotesOpen: false });
  },
});
