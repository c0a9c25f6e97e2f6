import {
  MAX_IN_PLACE_ITEMS,
  type ConflictChoice,
  type InPlaceAction,
  type InPlaceItemRow,
  type InPlacePreview,
  type PathHistory,
} from '../contract/find.js';
import type { GroupRef, SnapshotRef } from '../contract/model.js';
import { recordedSources, restoreInPlace } from '../core/archive/in-place.js';
import { pathVersions } from '../core/archive/path-versions.js';
import { parseSnapshotPath, snapshotPath } from '../core/backup/backup-names.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import type { Datastore } from '../core/datastore/datastore.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';

/**
 * The queries that start from a file, run on the query worker: a path's history across a group, and the preview of a
 * restore to the original place (a dry run: local files are looked at, nothing is written).
 */
export function pathHistory(
  store: Datastore,
  group: GroupRef,
  path: string,
  keys: readonly CryptConfig[],
): PathHistory {
  const r = pathVersions(store, group, path, { keys: [...keys] });
  return {
    path: r.path,
    unreadable: r.unreadable,
    versions: r.versions.map((v) => ({
      state: v.state,
      from: refOf(v.from),
      to: refOf(v.to),
      snapshots: v.snapshots,
      changed: v.changed,
      ...(v.kind === undefined ? {} : { kind: v.kind }),
      ...(v.size === undefined ? {} : { size: v.size }),
      ...(v.mtime === undefined ? {} : { mtime: v.mtime }),
      ...(v.digest === undefined ? {} : { digest: v.digest }),
    })),
  };
}

function refOf(path: string): SnapshotRef {
  const { type, id, time } = parseSnapshotPath(path);
  return { type, id, time };
}

/** The order a preview lists items in: what needs a decision first, what stays as it is last. */
const ACTION_ORDER: readonly InPlaceAction[] = [
  'newer-local',
  'overwrite',
  'keep-both',
  'skip',
  'restore',
  'unchanged',
];

/** The dry run of an in-place restore, with the folders the snapshot records (the host checked them). */
export async function inPlacePreview(
  store: Datastore,
  req: { snapshot: SnapshotRef; path: string; conflict: ConflictChoice; overwriteNewer?: boolean },
  keys: readonly CryptConfig[],
): Promise<InPlacePreview> {
  const manifest = store.readManifest(req.snapshot);
  const crypt = keyForSnapshot(manifest, keys, snapshotPath(req.snapshot));
  const plan = (overwriteNewer: boolean) =>
    restoreInPlace(store, req.snapshot, {
      path: req.path,
      conflict: req.conflict,
      overwriteNewer,
      dryRun: true,
      crypt,
    });
  const r = await plan(req.overwriteNewer === true);
  // With changed files included, a second look tells which they are: they stay flagged in the list.
  const plain = req.overwriteNewer ? await plan(false) : r;
  const changed = new Set(plain.items.filter((i) => i.action === 'newer-local').map((i) => i.localPath));
  const items: InPlaceItemRow[] = r.items
    .map((i) => ({
      path: i.archivePath.replace(/^\//, ''),
      localPath: i.localPath,
      action: i.action,
      ...(i.restoredAs ? { restoredAs: i.restoredAs } : {}),
      ...(changed.has(i.localPath) ? { changedSince: true } : {}),
    }))
    .sort((a, b) => rank(a) - rank(b));
  const sources = (recordedSources(manifest) ?? []).map((s) => s.path);
  return { sources, items: items.slice(0, MAX_IN_PLACE_ITEMS), counts: r.counts, changedSince: changed.size };
}

/** Files changed since the backup first, then by what needs a decision. */
function rank(item: InPlaceItemRow): number {
  return (item.changedSince ? 0 : ACTION_ORDER.length) + ACTION_ORDER.indexOf(item.action);
}
