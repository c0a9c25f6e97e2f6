import type { ChunkStore } from '../chunk-store/chunk-store.js';
import type { Manifest } from '../backup/manifest.js';
import type { FolderArchiveReader } from './folder-reader.js';
import type { ArchiveStreamWriter } from './stream-writer.js';

/** The manifest's note (under `cairn-backup`) of how many bytes of the metadata stream the archive uses. */
export const METADATA_IN_USE = 'metadataBytesInUse';

/**
 * A backup's metadata stream may begin as its base's (docs/FORMAT.md, "Appending to the base"): every base
 * metadata chunk is taken by reference, the records of folders whose subtree did not change stay where they
 * are, and only the records that changed are written, after the base's bytes. Scattered edits touch a tenth
 * of the folders of a tree of small projects, and with the changed records in place, nearly every metadata
 * chunk held one of them: the whole stream was written again for a few hundred small records.
 *
 * The base's records that were replaced stay in the stream, unused. Once the unused bytes of the base outweigh
 * those in use, the stream is written afresh instead, so it is never much more than twice what it holds.
 */
export function appendToBase(base: FolderArchiveReader, meta: ArchiveStreamWriter, chunks: ChunkStore): boolean {
  if (meta.offset !== 0) return false;
  const index = base.metaIndex;
  const inUse = metadataInUse(base.snapshot.manifest) ?? index.size;
  if (inUse * 2 < index.size) return false;
  // Touched first: marks them in use for a running GC, and proves every one is still there.
  for (let i = 0; i < index.chunkCount; i++) if (!chunks.touch(index.digest(i))) return false;
  for (let i = 0; i < index.chunkCount; i++) meta.inject(index.digest(i), index.chunkEnd(i) - index.chunkStart(i));
  return true;
}

/**
 * What a manifest says the metadata stream uses; undefined when it does not say (archives written before
 * appending existed, whose streams hold nothing unused). Only a hint: a wrong one costs space, never data.
 */
export function metadataInUse(manifest: Manifest): number | undefined {
  const note = manifest.unprotected['cairn-backup'];
  const value =
    typeof note === 'object' && note !== null ? (note as Record<string, unknown>)[METADATA_IN_USE] : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Whether the base's trailer is, byte for byte, the one this backup would write in its place (`trailerAt`).
 * When nothing was appended, the stream then is the base's: an unchanged tree writes no metadata chunk.
 */
export function baseTrailerStands(base: FolderArchiveReader, trailerAt: (at: number) => Buffer): boolean {
  const at = base.trailerOffset;
  const trailer = trailerAt(at);
  return trailer.length === base.metaIndex.size - at && trailer.equals(base.meta.read(at, trailer.length));
}
