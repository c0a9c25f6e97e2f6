import { DATA_ARCHIVE, EntryKind, META_ARCHIVE, type DirectoryEntry } from '../archive/archive-format.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';

const MAX_FILES_PER_CHUNK = 20;

/**
 * What a bad chunk means to the user: for each payload range, the files of the folder archive whose
 * contents it holds; for the metadata stream, the listing itself; for an image, the byte range.
 */
export function filesInPayloadRanges(
  store: Datastore,
  info: SnapshotInfo,
  archive: string,
  ranges: readonly { start: number; end: number }[],
  crypt?: CryptConfig,
): string[][] {
  if (archive === META_ARCHIVE) return ranges.map(() => ['the folder listing (names, sizes and metadata)']);
  if (archive !== DATA_ARCHIVE) return ranges.map((r) => [`${archive} bytes ${r.start}-${r.end}`]);
  const reader = new FolderArchiveReader(store.openSnapshot(info, { crypt }));
  const hits: string[][] = ranges.map(() => []);
  const walk = (dir: DirectoryEntry, prefix: string): void => {
    for (const entry of reader.readDirectory(dir)) {
      const path = `${prefix}/${entry.name.toString()}`;
      if (entry.kind === EntryKind.Directory) walk(entry, path);
      else if (entry.kind === EntryKind.File && entry.size > 0) {
        const end = entry.payloadOffset + entry.size;
        ranges.forEach((r, k) => {
          if (entry.payloadOffset < r.end && end > r.start && hits[k]!.length < MAX_FILES_PER_CHUNK)
            hits[k]!.push(path);
        });
      }
    }
  };
  walk(reader.root, '');
  return hits;
}
