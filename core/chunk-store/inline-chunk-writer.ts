import type { ChunkStore } from './chunk-store.js';
import type { ChunkBuffer, ChunkCounters, ChunkTarget, StoredChunk } from './chunk-writer-pool.js';
import type { ChunkCodec } from './chunk-codec.js';
import type { Logger } from '../log.js';

/**
 * Stores chunks on the calling thread: hash, and unless the store has the chunk (then it is only touched),
 * compress and insert. For small jobs, tests and a folder backup's metadata stream; big jobs use ChunkWriterPool.
 */
export class InlineChunkWriter implements ChunkTarget {
  /** Buffers handed back by putBuffer, lent again by chunkBuffer. */
  private readonly spare: Uint8Array[] = [];

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

  chunkBuffer(capacity: number): ChunkBuffer {
    const i = this.spare.findIndex((b) => b.length >= capacity);
    return { bytes: i >= 0 ? this.spare.splice(i, 1)[0]! : Buffer.allocUnsafe(capacity) };
  }

  putBuffer(buffer: ChunkBuffer, length: number): StoredChunk {
    try {
      return this.put(buffer.bytes.subarray(0, length));
    } finally {
      this.spare.push(buffer.bytes);
    }
  }

  async close(): Promise<void> {}
}
