import { snapshotPath, toBackupId, type BackupGroupRef, type SnapshotRef } from '../backup/backup-names.js';
import { distinctNames, sortedSources } from '../backup/source-set.js';
import type { ManifestUnprotected } from '../backup/manifest.js';
import type { AlongsideArchives } from '../archive/folder-backup.js';
import type { Datastore } from '../datastore/datastore.js';
import type { SnapshotWriter } from '../datastore/snapshot-writer.js';
import { anySignal } from '../jobs/cancel.js';
import { imageArchiveName } from './image-archive.js';
import { writeImageArchive, type ImageBackupOptions, type ImageTransferProgress } from './image-backup.js';

/**
 * Several disk images in one snapshot, one `<name>.img.fidx` each (as PBS keeps a VM's disks): a plan's images,
 * alone or beside its folders' archive (core/plans/plan-backup.ts).
 */

/** One image of a set: the file, its archive, and once written, its figures. */
export interface ImageArchiveResult extends ImageTransferProgress {
  path: string;
  archive: string;
}

/**
 * The archive of each image (`paths` sorted): `disk.img` → `disk.img.fidx`, as for one image; where two would
 * share a name, their parents' names are joined in front (`vm1-disk.img.fidx`), as source-set.ts names sources.
 */
export function imageArchives(paths: readonly string[]): { path: string; archive: string }[] {
  const stems = distinctNames(paths, (parts) =>
    parts
      .map((part, i) => toBackupId(i === parts.length - 1 ? part.replace(/\.img$/i, '') : part) ?? 'image')
      .join('-'),
  );
  return paths.map((path, i) => ({ path, archive: imageArchiveName(path, stems[i]!) }));
}

/** Writes each image into `snapshot`, one after another; their figures in the order given. */
export async function writeImages(
  store: Datastore,
  snapshot: SnapshotWriter,
  images: readonly { path: string; archive: string }[],
  options: ImageBackupOptions,
): Promise<ImageArchiveResult[]> {
  const results: ImageArchiveResult[] = [];
  for (const image of images) {
    const progress = await writeImageArchive(store, snapshot, image.path, image.archive, options);
    results.push({ ...progress, ...image });
  }
  return results;
}

/**
 * What the manifest notes of each image (under `cairn-backup.images`): what listings add up for the snapshot.
 * The manifest is not encrypted: an encrypted backup (`named` false) does not name the image files there.
 */
export function imagesNote(results: readonly ImageArchiveResult[], named: boolean): Record<string, unknown>[] {
  return results.map((r) => ({
    path: named ? r.path : undefined,
    archive: r.archive,
    bytes: r.bytesTotal,
    newBytes: r.newBytes,
    newChunks: r.newChunks,
    dedupBytes: r.dedupBytes,
  }));
}

/**
 * The images of a folder backup's snapshot: written once its folder archive is (folder-backup.ts's
 * `alongside`); `results` holds their figures afterwards.
 */
export class ImagesAlongside implements AlongsideArchives {
  readonly paths: string[];
  results: ImageArchiveResult[] = [];
  private readonly images: { path: string; archive: string }[];

  constructor(
    private readonly store: Datastore,
    paths: readonly string[],
    private readonly options: ImageBackupOptions,
  ) {
    this.paths = sortedSources(paths);
    this.images = imageArchives(this.paths);
  }

  async write(snapshot: SnapshotWriter, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    this.results = await writeImages(this.store, snapshot, this.images, { ...this.options, signal });
    return { images: imagesNote(this.results, !this.options.crypt) };
  }
}

export interface ImageSetResult {
  snapshot: SnapshotRef;
  path: string;
  images: ImageArchiveResult[];
}

/**
 * Backs up several images as one snapshot of `group`: its locks, the group's source (every image, sorted),
 * the images, the manifest last. A failure or cancel removes the snapshot.
 */
export async function backupImages(
  store: Datastore,
  group: BackupGroupRef,
  paths: readonly string[],
  options: ImageBackupOptions = {},
): Promise<ImageSetResult> {
  const sorted = sortedSources(paths);
  const session = store.startBackup(group);
  try {
    store.assertGroupEncryption(group, options.crypt);
    store.assertGroupSource(group, sorted, options.allowOtherSource, options.crypt);
    const signal = anySignal(options.signal, session.signal);
    const { crypt, masterKeyBlob, log } = options;
    const snapshot = store.beginSnapshot(group, { session, log, crypt, masterKeyBlob });
    let images: ImageArchiveResult[];
    try {
      images = await writeImages(store, snapshot, imageArchives(sorted), { ...options, signal });
      const note = { kind: 'images', images: imagesNote(images, !crypt) };
      snapshot.finish({ chunk_upload_stats: uploadStats(images), 'cairn-backup': note });
    } catch (err) {
      snapshot.abort();
      throw err;
    }
    store.recordGroupSource(group, sorted, options.log, options.crypt);
    return { snapshot: snapshot.ref, path: snapshotPath(snapshot.ref), images };
  } finally {
    session.release();
  }
}

/** PBS's upload figures of a snapshot of images, as backupImage writes them for one. */
function uploadStats(images: readonly ImageArchiveResult[]): NonNullable<ManifestUnprotected['chunk_upload_stats']> {
  const sum = (f: (r: ImageArchiveResult) => number): number => images.reduce((n, r) => n + f(r), 0);
  return {
    count: sum((r) => r.newChunks),
    size: sum((r) => r.bytesDone - r.dedupBytes),
    compressed_size: sum((r) => r.newBytes),
    duplicates: sum((r) => r.chunks - r.newChunks),
  };
}
