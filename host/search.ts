import { MAX_SEARCH_HITS, type SearchHit, type SearchRequest, type SearchUpdate } from '../contract/find.js';
import type { SnapshotRef } from '../contract/model.js';
import { findEntries, type FindQuery } from '../core/archive/find-entries.js';
import { FolderArchiveReader } from '../core/archive/folder-reader.js';
import { snapshotPath } from '../core/backup/backup-names.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import type { Datastore } from '../core/datastore/datastore.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';
import { CairnError, isCairnError } from '../core/errors.js';
import { openStore } from './store-views.js';

/** How often a running search sends what it found. */
export const SEARCH_UPDATE_MS = 100;

export type SearchNews = Omit<SearchUpdate, 'searchId'>;

/**
 * The snapshots a search reads, newest first: the one asked for, or the group's finished folder snapshots. The
 * first must be readable with the keys given (KEY_REQUIRED names its key, so the app can ask for it and start
 * again); a later one that is not is named in the last update instead.
 */
export function searchScope(store: Datastore, req: SearchRequest, keys: readonly CryptConfig[]): SnapshotRef[] {
  const refs = req.snapshot
    ? [req.snapshot]
    : store
        .listSnapshots(req.group)
        .filter((s) => s.finished && FolderArchiveReader.hasFolderArchive(s.files))
        .reverse();
  if (refs.length === 0)
    throw new CairnError('NOT_FOUND', `${req.group.type}/${req.group.id} has no finished folder snapshot to search`);
  keyForSnapshot(store.readManifest(refs[0]!), keys, snapshotPath(refs[0]!));
  return refs.map(({ type, id, time }) => ({ type, id, time }));
}

/**
 * Searches the snapshots in turn, each path once (in the newest snapshot that has it), sending the hits found
 * every SEARCH_UPDATE_MS and a last update when done. Synchronous: it runs on a thread of its own, which is
 * ended to cancel it.
 */
export function runSearch(
  req: SearchRequest,
  refs: readonly SnapshotRef[],
  keys: readonly CryptConfig[],
  send: (news: SearchNews) => void,
): void {
  const store = openStore(req.store);
  const query: FindQuery = {
    pattern: req.pattern,
    minSize: req.minSize,
    maxSize: req.maxSize,
    newerThan: req.newerThan,
    olderThan: req.olderThan,
  };
  const seen = new Set<string>();
  const unreadable: { snapshot: string; message: string }[] = [];
  let hits: SearchHit[] = [];
  let last = performance.now();
  let done = 0;
  let truncated = false;
  const flush = (state: SearchNews['state']) => {
    send({ hits, snapshotsDone: done, snapshotsTotal: refs.length, state, ...(truncated ? { truncated } : {}) });
    hits = [];
    last = performance.now();
  };
  for (const ref of refs) {
    try {
      const reader = new FolderArchiveReader(store.openSnapshot(ref, { crypt: keys }));
      for (const hit of findEntries(reader, query)) {
        const path = hit.path.slice(1);
        if (seen.has(path)) continue;
        seen.add(path);
        hits.push({ path, kind: hit.kind, size: hit.size, mtime: hit.mtime, snapshot: ref });
        truncated = seen.size >= MAX_SEARCH_HITS;
        if (truncated) break;
        if (performance.now() - last >= SEARCH_UPDATE_MS) flush('running');
      }
    } catch (err) {
      if (!isCairnError(err)) throw err;
      unreadable.push({ snapshot: snapshotPath(ref), message: err.message });
    }
    done++;
    if (truncated) break;
    if (performance.now() - last >= SEARCH_UPDATE_MS) flush('running');
  }
  send({
    hits,
    snapshotsDone: done,
    snapshotsTotal: refs.length,
    state: 'done',
    ...(truncated ? { truncated } : {}),
    ...(unreadable.length > 0 ? { unreadable } : {}),
  });
}
