import type { ActionRequest, ActionResponse } from '../contract/actions.js';
import { previewExcludes } from '../core/archive/exclude-preview.js';
import { formatBackupTime } from '../core/backup/backup-names.js';
import { pruneGroup } from '../core/prune/prune.js';
import { browseSnapshot, openStore, snapshotDiff, SnapshotViews } from './store-views.js';

/**
 * The read-only actions that may take long (listing 10,000 snapshots, a folder of 100,000 files, a diff, a
 * scan of the folder to back up). They run in the query worker, never on the host's main thread. Paths in
 * requests were checked by the service before they got here.
 */
export const QUERY_ACTIONS = ['groups.list', 'snapshots.list', 'snapshot.browse', 'snapshot.diff', 'excludes.preview', 'group.prune-simulate'] as const;
export type QueryAction = (typeof QUERY_ACTIONS)[number];

export type Queries = { [K in QueryAction]: (req: ActionRequest<K>) => ActionResponse<K> | Promise<ActionResponse<K>> };

export function createQueries(): Queries {
  // One cache of manifest summaries for the worker's life: listing a big group again reads only what changed.
  const views = new SnapshotViews();
  return {
    'groups.list': ({ store }) => views.groupRows(openStore(store)),
    'snapshots.list': ({ store, group }) => views.snapshotRows(openStore(store), group),
    'snapshot.browse': ({ store, snapshot, path }) => browseSnapshot(openStore(store), snapshot, path),
    'snapshot.diff': ({ store, from, to }) => snapshotDiff(openStore(store), from, to),
    'excludes.preview': ({ source, patterns }) => previewExcludes(source, patterns, { limit: 500 }),
    'group.prune-simulate': ({ store, group, keep }) => pruneGroup(openStore(store), group, keep, { dryRun: true }).map((o) => ({
      path: `${group.type}/${group.id}/${formatBackupTime(o.snapshot.time)}`, time: o.snapshot.time, protected: o.snapshot.protected,
      mark: o.mark, reason: o.reason, outcome: o.outcome, error: o.error,
    })),
  };
}
