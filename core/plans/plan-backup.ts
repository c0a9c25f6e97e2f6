import type { PlanSource } from '../../contract/plans.js';
import { backupFolder, type FolderBackupProgress } from '../archive/folder-backup.js';
import type { SnapshotRef } from '../backup/backup-names.js';
import { assertSeparateSources } from '../backup/source-set.js';
import type { Datastore } from '../datastore/datastore.js';
import { backupImage, type ImageTransferProgress } from '../image/image-backup.js';
import { backupImages, ImagesAlongside, type ImageArchiveResult } from '../image/image-set.js';
import type { Logger } from '../log.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { LeftOutEntry } from '../archive/left-out.js';

export interface PlanBackupOptions {
  /** The plan's group id. */
  id: string;
  excludes: readonly string[];
  allowOtherSource?: boolean;
  /** Encrypt the snapshot with this key (the plan's encryption). */
  crypt?: CryptConfig;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: FolderBackupProgress | ImageTransferProgress) => void;
  workers?: number;
}

/** What a plan's run records of its backup. */
export interface PlanBackupResult {
  snapshot: SnapshotRef;
  files?: number;
  bytes: number;
  newBytes: number;
  warnings?: number;
  /** The folders' entries that could not be backed up (core/archive/left-out.ts). */
  leftOut?: { count: number; named: LeftOutEntry[] };
}

/**
 * A plan's backup: every source in one snapshot of its group. Its folders are one folder archive (one folder
 * its root, several the entries of a virtual root: core/archive/multi-source.ts), and each disk image a
 * `<name>.img.fidx` beside it (core/image/image-set.ts); a plan of one image is an image backup as by hand.
 * Sources inside one another, or holding the store, are refused before anything is locked.
 */
export async function backupPlanSources(
  store: Datastore,
  sources: readonly PlanSource[],
  options: PlanBackupOptions,
): Promise<PlanBackupResult> {
  assertSeparateSources(
    sources.map((s) => s.path),
    store.root,
  );
  const folders = sources.filter((s) => s.kind === 'folder').map((s) => s.path);
  const images = sources.filter((s) => s.kind === 'image').map((s) => s.path);
  const { excludes, ...common } = options;
  if (folders.length > 0) {
    const alongside = images.length > 0 ? new ImagesAlongside(store, images, common) : undefined;
    const r = await backupFolder(store, folders.length === 1 ? folders[0]! : folders, {
      ...common,
      excludes,
      alongside,
    });
    const beside = alongside?.results ?? [];
    return {
      snapshot: r.snapshot,
      // What the snapshot holds: the scan's totals count entries that were then skipped.
      files: r.stats.files,
      bytes: r.stats.bytes + total(beside, (i) => i.bytesTotal),
      newBytes: r.newBytes + total(beside, (i) => i.newBytes),
      warnings: r.warnings.length,
      leftOut: r.leftOut,
    };
  }
  if (images.length === 1) {
    const r = await backupImage(store, images[0]!, common);
    return { snapshot: r.snapshot, bytes: r.bytesTotal, newBytes: r.newBytes };
  }
  const r = await backupImages(store, { type: 'host', id: options.id }, images, common);
  return {
    snapshot: r.snapshot,
    bytes: total(r.images, (i) => i.bytesTotal),
    newBytes: total(r.images, (i) => i.newBytes),
  };
}

function total(images: readonly ImageArchiveResult[], figure: (image: ImageArchiveResult) => number): number {
  return images.reduce((n, i) => n + figure(i), 0);
}
