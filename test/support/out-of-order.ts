import { EntryKind, type FileEntry } from '../../core/archive/archive-format.js';
import { backupFolder } from '../../core/archive/folder-backup.js';
import type { FolderArchiveReader } from '../../core/archive/folder-reader.js';
import type { Datastore, SnapshotInfo } from '../../core/datastore/datastore.js';
import { textBytes } from './data.js';
import { put } from './tree.js';

/**
 * A tree of small files in a few folders (one chunk holds them all), backed up, then a file in the middle of the
 * first folder changed and the tree backed up again. In the second (incremental) snapshot the unchanged files
 * keep their place in the base's chunk, injected as it is, and the changed file's new content comes after that
 * chunk: every unchanged file after it in the tree lies before it in the payload. Returns the second snapshot.
 */
export async function outOfOrderSnapshot(
  store: Datastore,
  src: string,
  id: string,
  options: { chunkSize?: number } = {},
): Promise<SnapshotInfo> {
  for (const folder of ['a', 'b', 'c'])
    for (let i = 0; i < 60; i++)
      put(src, `${folder}/f${String(i).padStart(3, '0')}.txt`, textBytes(1_500 + i * 37, i + folder.charCodeAt(0)));
  await backupFolder(store, src, { id, chunkSize: options.chunkSize });
  put(src, 'a/f030.txt', textBytes(9_000, 999));
  const { snapshot } = await backupFolder(store, src, { id, chunkSize: options.chunkSize });
  return store.snapshotInfo(snapshot);
}

/** Every file of an archive with content, in the order a restore plans them (the tree's, depth first). */
export function forEachFile(reader: FolderArchiveReader, visit: (file: FileEntry) => void): void {
  const walk = (path: string): void => {
    for (const e of reader.list(path)) {
      if (e.kind === EntryKind.Directory) walk(path ? `${path}/${e.name.toString()}` : e.name.toString());
      else if (e.kind === EntryKind.File && e.size > 0) visit(e);
    }
  };
  walk('');
}

/** How many files, in the order a restore plans them, lie before an earlier one in the payload. */
export function filesOutOfPayloadOrder(reader: FolderArchiveReader): number {
  let furthest = -1;
  let count = 0;
  forEachFile(reader, (file) => {
    if (file.payloadOffset < furthest) count++;
    furthest = Math.max(furthest, file.payloadOffset);
  });
  return count;
}
