import type { ChunkCodec } from './chunk-codec.js';
import type { ChunkStore } from './chunk-store.js';
import { ChunkWriterPool, type ChunkTarget } from './chunk-writer-pool.js';
import { InlineChunkWriter } from './inline-chunk-writer.js';
import type { Logger } from '../log.js';

/** Worker threads for a job's chunk writing; 0 stores on the job's own thread. */
export function openChunkTarget(
  store: ChunkStore,
  codec: ChunkCodec,
  maxChunkSize: number,
  workers = 2,
  log?: Logger,
): ChunkTarget {
  return workers > 0
    ? new ChunkWriterPool(store, codec, maxChunkSize, workers, log)
    : new InlineChunkWriter(store, codec, undefined, log);
}
