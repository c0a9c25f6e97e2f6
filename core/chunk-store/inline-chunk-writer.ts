import type { ChunkStore } from './chunk-store.js';
import type { ChunkCounters, ChunkTarget, StoredChunk } from './chunk-writer-pool.js';
import type { ChunkCodec } from './chunk-codec.js';
import type { Logger } from '../log.js';

/**
 * Stores chunks on the calling thread: hash, and unless the store has the chunk (then it is only touched),
 * compress and insert. For small jobs, tests and a folder backup's metadata stream; big jobs use ChunkWriterPool.
 */
export class InlineChunkWriter implements ChunkTarget {
  /** `counters` may be shared with another target, so that a job's totals add up in one place. */
  constructor(
    private readonly chunks: ChunkStore,
    readonly codec: ChunkCodec,
    readonly counters: ChunkCounters = { chunks: 0, newChunks: 0, newBytes: 0, dedupBytes: 0 },
    private readonly log: Logger = chunks.log,
  ) {}

  put(data: Uint8Array): StoredChunk {
    const digest = this.codec.digest(data);
    this.counters.chunks++;
    if (this.chunks.markIfPresent(digest, data.length, this.log)) {
      this.counters.dedupBytes += data.length;
      return { digest, length: data.length, written: 0 };
    }
    const result = this.chunks.insert(digest, this.codec.encode(data));
    if (result.duplicate) this.counters.dedupBytes += data.length;
    else {
      this.counters.newChunks++;
      this.counters.newBytes += result.written;
    }
    return { digest, length: data.length, written: result.written };
  }

  async close(): Promise<void> {}
}
