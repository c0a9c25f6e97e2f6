import type { ChunkSource } from '../chunk-store/chunk-source.js';
import { CairnError } from '../errors.js';
import { DynamicIndexReader } from './dynamic-index.js';
import { FixedIndexReader } from './fixed-index.js';
import type { ChunkIndex } from './index-format.js';

/** Opens a `.fidx` or `.didx` by its extension (from `contents` when its bytes are in memory already). */
export function openIndex(path: string, contents?: Buffer): ChunkIndex {
  if (path.endsWith('.fidx')) return new FixedIndexReader(path, contents);
  if (path.endsWith('.didx')) return new DynamicIndexReader(path, contents);
  throw new CairnError('INVALID_NAME', `${path} is not an index file (.fidx or .didx)`);
}

/**
 * Streams the bytes [start, end) of an archive: each chunk is read, its CRC and digest checked, and the
 * needed slice yielded. Chunks are decoded one at a time, so memory stays at one chunk.
 */
export function* readIndexRange(
  chunks: ChunkSource,
  index: ChunkIndex,
  start = 0,
  end = index.size,
): Generator<Buffer> {
  if (start < 0 || end > index.size || start > end) {
    throw new CairnError('INVALID_ARGUMENT', `range [${start}, ${end}) outside the archive's ${index.size} bytes`);
  }
  if (start === end) return;
  for (let i = index.chunkAt(start); i < index.chunkCount && index.chunkStart(i) < end; i++) {
    const chunkStart = index.chunkStart(i);
    const length = index.chunkEnd(i) - chunkStart;
    const data = chunks.readChunk(index.digest(i), length);
    yield data.subarray(Math.max(0, start - chunkStart), Math.min(length, end - chunkStart));
  }
}
