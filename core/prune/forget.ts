import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { groupPath, snapshotPath, type BackupGroupRef, type SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { assertReachedWithoutSymlink } from '../fs/inside-root.js';
import { withLock } from '../locks/with-lock.js';

/** A snapshot being removed is first renamed to this hidden prefix: it vanishes at once, and GC cleans up a removal a crash interrupted. */
export const FORGOTTEN_PREFIX = '.forgotten-';

/**
 * Removes one snapshot (spec 6.3): alone with it (a running backup holding it as base or writing it, or a
 * restore reading it, makes this fail naming the holder), never a protected one. Its chunks stay for GC.
 */
export function forgetSnapshot(store: Datastore, ref: SnapshotRef, options: { unfinishedOnly?: boolean } = {}): void {
  removeSnapshot(store, ref, options);
  removeGroupIfUnused(store, ref);
}

/** The removal itself, for callers that deal with the group afterwards (delete group holds its lock already). */
function removeSnapshot(store: Datastore, ref: SnapshotRef, options: { unfinishedOnly?: boolean }): void {
  const path = snapshotPath(ref);
  withLock(store.lockSnapshotExclusive(ref, `forget of ${path}`), () => {
    const info = store.snapshotInfo(ref);
    if (options.unfinishedOnly && info.finished) return;
    if (info.protected) throw new CairnError('PROTECTED', `snapshot ${path} is protected; unprotect it first`);
    const dir = store.snapshotDir(ref);
    assertReachedWithoutSymlink(store.root, dir, `forget snapshot ${path} at`);
    const doomed = join(store.groupDir(ref), `${FORGOTTEN_PREFIX}${ref.time}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(dir, doomed);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new CairnError('NOT_FOUND', `snapshot ${path} does not exist`);
      throw ioError('forget snapshot', path, err);
    }
    rmSync(doomed, { recursive: true, force: true });
  });
}

/** Removes every snapshot of a group that is not protected, then the group if it is empty. `onRemoved` counts them as they go. */
export function deleteGroup(
  store: Datastore,
  group: BackupGroupRef,
  options: { onRemoved?: (removed: number) => void } = {},
): { removed: number; kept: number } {
  let removed = 0;
  let kept = 0;
  withLock(store.lockGroup(group, `deletion of ${groupPath(group)}`), () => {
    for (const snap of store.listSnapshots(group)) {
      if (snap.protected) {
        kept++;
        continue;
      }
      removeSnapshot(store, snap, {});
      removed++;
      options.onRemoved?.(removed);
    }
    store.removeGroupIfEmpty(group);
  });
  return { removed, kept };
}

/** After the last snapshot went, the group goes too, unless a backup is starting in it right now. */
function removeGroupIfUnused(store: Datastore, group: BackupGroupRef): void {
  if (store.listSnapshots(group).length > 0) return;
  let lock;
  try {
    lock = store.lockGroup(group, `cleanup of ${groupPath(group)}`);
  } catch {
    return;
  }
  withLock(lock, () => store.removeGroupIfEmpty(group));
}
