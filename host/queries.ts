import { previewRestore } from '../core/archive/restore-preview.js';
import type { ActionRequest, ActionResponse } from '../contract/actions.js';
import { previewExcludes } from '../core/archive/exclude-preview.js';
import { formatBackupTime } from '../core/backup/backup-names.js';
import { pruneGroup } from '../core/prune/prune.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FolderArchiveReader } from '../core/archive/folder-reader.js';
import { MANIFEST_NAME } from '../core/backup/manifest.js';
import { CairnError } from '../core/errors.js';
import type { SnapshotRef } from '../contract/model.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import { browseFolder, openStore, snapshotDiff, storeActivity, SnapshotViews } from './store-views.js';
import { createRemoteQueries, REMOTE_QUERY_ACTIONS } from './remote-queries.js';
import type { RemoteAccess } from './host-remotes.js';
import { previewFile } from './file-preview.js';
import { inPlacePreview, pathHistory } from './find-queries.js';

/**
 * The read-only actions that may take long (listing 10,000 snapshots, a folder of 100,000 files, a diff, a
 * scan of the folder to back up). They run in the query worker, never on the host's main thread. Paths in
 * requests were checked by the service before they got here.
 */
export const QUERY_ACTIONS = [
  'groups.list',
  'snapshots.list',
  'snapshot.browse',
  'snapshot.diff',
  'excludes.preview',
  'group.prune-simulate',
  'path.history',
  'snapshot.preview',
  'restore.in-place-preview',
  'restore.preview',
  'store.usage',
  'store.activity',
  ...REMOTE_QUERY_ACTIONS,
] as const;
export type QueryAction = (typeof QUERY_ACTIONS)[number];

/**
 * `keys`: the keys unlocked when the query was asked (the browse and the diff of encrypted snapshots use them).
 * `remote`: the remote and its credentials, for the queries that read one.
 */
export type Queries = {
  [K in QueryAction]: (
    req: ActionRequest<K>,
    keys: readonly CryptConfig[],
    remote?: RemoteAccess,
  ) => ActionResponse<K> | Promise<ActionResponse<K>>;
};

export function createQueries(): Queries {
  // One cache of manifest summaries for the worker's life: listing a big group again reads only what changed.
  const views = new SnapshotViews();
  // Open snapshots, so paging through a big folder decodes its record once (the reader caches records).
  const readers = new Map<string, FolderArchiveReader>();
  const reader = (store: string, ref: SnapshotRef, keys: readonly CryptConfig[]): FolderArchiveReader => {
    const ds = openStore(store);
    // The keys are part of the cache key: a snapshot opened with a key now locked is not read from the cache.
    const fingerprints = keys.map((k) => k.fingerprint()).sort();
    const key = `${ds.root}\0${ref.type}/${ref.id}/${ref.time}\0${fingerprints.join(',')}`;
    const cached = readers.get(key);
    // Forgotten since: say so rather than answer from the cache.
    if (cached && !existsSync(join(ds.snapshotDir(ref), MANIFEST_NAME))) {
      readers.delete(key);
      throw new CairnError('NOT_FOUND', `snapshot ${ref.type}/${ref.id}/${ref.time} is gone`);
    }
    if (cached) return cached;
    const opened = new FolderArchiveReader(ds.openSnapshot(ref, { crypt: keys }));
    readers.set(key, opened);
    if (readers.size > 4) readers.delete(readers.keys().next().value!);
    return opened;
  };
  return {
    ...createRemoteQueries(),
    'groups.list': ({ store }) => views.groupRows(openStore(store)),
    'snapshots.list': ({ store, group }) => views.snapshotRows(openStore(store), group),
    'snapshot.browse': ({ store, snapshot, path, offset, limit }, keys) =>
      browseFolder(reader(store, snapshot, keys), path, offset, limit),
    'snapshot.diff': ({ store, from, to }, keys) => snapshotDiff(openStore(store), from, to, keys),
    'path.history': ({ store, group, path }, keys) => pathHistory(openStore(store), group, path, keys),
    'snapshot.preview': ({ store, snapshot, path }, keys) => previewFile(reader(store, snapshot, keys), path),
    'restore.in-place-preview': ({ store, ...req }, keys) => inPlacePreview(openStore(store), req, keys),
    'restore.preview': ({ store, snapshot, paths, target }, keys) =>
      previewRestore(reader(store, snapshot, keys), paths, target),
    'excludes.preview': ({ source, patterns }) => previewExcludes(source, patterns, { limit: 500 }),
    'store.activity': ({ store }) => storeActivity(views, openStore(store)),
    'store.usage': ({ store }) => {
      const { chunks, bytes } = openStore(store).chunks.stats();
      return { chunks, bytes };
    },
    'group.prune-simulate': ({ store, group, keep }) =>
      pruneGroup(openStore(store), group, keep, { dryRun: true }).map((o) => ({
        path: `${group.type}/${group.id}/${formatBackupTime(o.snapshot.time)}`,
        time: o.snapshot.time,
        protected: o.snapshot.protected,
        mark: o.mark,
        reason: o.reason,
        outcome: o.outcome,
        error: o.error,
      })),
  };
}
