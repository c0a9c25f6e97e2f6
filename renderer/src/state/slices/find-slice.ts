import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { SearchHit, SearchQuery, SearchUpdate } from '../../../../contract/find.js';
import type { GroupRef, SnapshotRef } from '../../../../contract/model.js';
import { errorInfo } from '../../api/client.js';
import type { AppState, SliceCreator } from '../app-state.js';

/** A search of the selected group (or of one of its snapshots) and what it found so far. */
export interface SearchSession {
  /** The renderer's name for it: its updates carry it, and only the current session's are taken. */
  id: string;
  group: string;
  /** Only this snapshot (its path); else every snapshot of the group. */
  snapshot?: string;
  query?: SearchQuery;
  hits: SearchHit[];
  state: 'idle' | 'starting' | 'running' | 'done' | 'cancelled' | 'failed';
  snapshotsDone: number;
  snapshotsTotal: number;
  truncated?: boolean;
  unreadable?: { snapshot: string; message: string }[];
  error?: AppErrorInfo;
}

/** A file (or folder) of a snapshot a dialog is about. */
export interface EntryTarget {
  snapshot: SnapshotRef;
  path: string;
}

/**
 * Starting from the file: the search pane and its session (kept while the user looks at a hit in the browser),
 * and the dialogs several views open: a path's history, a file's preview, the restore to the original place.
 */
export interface FindSlice {
  search?: SearchSession;
  /** The search pane is shown (over the snapshots table, or over the browser of the snapshot it searches). */
  searchShown: boolean;
  /** The browser opens at this path of this snapshot (a hit shown in its snapshot). */
  reveal?: { snapshot: string; path: string };
  historyOf?: string;
  previewOf?: EntryTarget;
  inPlaceOf?: EntryTarget;
  openSearch(snapshot?: string): void;
  hideSearch(): void;
  /** Stops a running search and forgets it. */
  closeSearch(): void;
  startSearch(query: SearchQuery): Promise<void>;
  cancelSearch(): void;
  applySearchUpdate(update: SearchUpdate): void;
  showInSnapshot(hit: SearchHit): void;
  revealed(): void;
  openHistory(path: string | undefined): void;
  openPreview(target: EntryTarget | undefined): void;
  openInPlace(target: EntryTarget | undefined): void;
}

/** 16 random bytes in hex (crypto.randomUUID needs a secure context; this works in any page). */
function newSearchId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function emptySession(group: string, snapshot?: string): SearchSession {
  return { id: newSearchId(), group, snapshot, hits: [], state: 'idle', snapshotsDone: 0, snapshotsTotal: 0 };
}

const isRunning = (s: SearchSession | undefined) => s?.state === 'starting' || s?.state === 'running';

export const createFindSlice: SliceCreator<FindSlice> = (set, get, client) => {
  /** Tells the host to stop the current search, if it runs; the answer does not matter. */
  const stopRunning = () => {
    const s = get().search;
    if (isRunning(s)) client.cancelSearch({ searchId: s!.id }).catch(() => undefined);
  };
  return {
    searchShown: false,

    openSearch(snapshot) {
      const { search, selectedGroup } = get();
      if (selectedGroup === undefined) return;
      if (search && search.group === selectedGroup && search.snapshot === snapshot) return set({ searchShown: true });
      stopRunning();
      set({ search: emptySession(selectedGroup, snapshot), searchShown: true });
    },

    hideSearch() {
      set({ searchShown: false });
    },

    closeSearch() {
      stopRunning();
      set({ search: undefined, searchShown: false, reveal: undefined });
    },

    async startSearch(query) {
      const { search, store, snapshots } = get();
      if (!search || !store) return;
      stopRunning();
      const session: SearchSession = { ...emptySession(search.group, search.snapshot), query, state: 'starting' };
      set({ search: session });
      const row = snapshots.find((s) => s.path === session.snapshot);
      try {
        const { snapshots: total } = await client.startSearch({
          searchId: session.id,
          store: store.path,
          group: groupRef(session.group),
          ...(row ? { snapshot: { type: row.type, id: row.id, time: row.time } } : {}),
          ...query,
        });
        updateSession(get, set, session.id, (s) => ({
          ...s,
          snapshotsTotal: total,
          state: s.state === 'starting' ? 'running' : s.state,
        }));
      } catch (err) {
        updateSession(get, set, session.id, (s) => ({ ...s, state: 'failed', error: errorInfo(err) }));
      }
    },

    cancelSearch() {
      stopRunning();
    },

    applySearchUpdate(u) {
      updateSession(get, set, u.searchId, (s) => ({
        ...s,
        hits: u.hits.length > 0 ? [...s.hits, ...u.hits] : s.hits,
        snapshotsDone: u.snapshotsDone,
        snapshotsTotal: u.snapshotsTotal,
        state: u.state,
        truncated: u.truncated,
        unreadable: u.unreadable,
        error: u.error ? { code: u.error.code as AppErrorInfo['code'], message: u.error.message } : undefined,
      }));
    },

    showInSnapshot(hit) {
      const row = get().snapshots.find(
        (s) => s.type === hit.snapshot.type && s.id === hit.snapshot.id && s.time === hit.snapshot.time,
      );
      if (!row) return;
      set({ browsing: row.path, searchShown: false, reveal: { snapshot: row.path, path: hit.path } });
    },

    revealed() {
      set({ reveal: undefined });
    },

    openHistory(path) {
      set({ historyOf: path });
    },

    openPreview(target) {
      set({ previewOf: target });
    },

    openInPlace(target) {
      set({ inPlaceOf: target });
    },
  };
};

/** Changes the current session, if it is still the one named (a late update of a replaced search is dropped). */
function updateSession(
  get: () => AppState,
  set: (partial: Partial<AppState>) => void,
  id: string,
  change: (s: SearchSession) => SearchSession,
): void {
  const s = get().search;
  if (s?.id === id) set({ search: change(s) });
}

function groupRef(path: string): GroupRef {
  const [type, id] = path.split('/') as [GroupRef['type'], string];
  return { type, id };
}
