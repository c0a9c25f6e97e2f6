import { encodeBlob } from '../blob/data-blob.js';
import type { ChunkStore } from '../chunk-store/chunk-store.js';
import { sha256 } from '../chunk-store/digest.js';

/** What storing one chunk did. */
export interface StoredChunk {
  digest: Buffer;
  length: number;
  /** Encoded bytes newly written (0 when the store had the chunk). */
  written: number;
}

export interface ChunkCounters {
  chunks: number;
  newChunks: number;
  /** Encoded bytes written to the store. */
  newBytes: number;
  /** Logical bytes of chunks the store already had. */
  dedupBytes: number;
}

/**
 * Hashes a chunk and stores it unless present: a present chunk is only touched, so unchanged data costs
 * one SHA-256 and one utimes, no compression and no write.
 */
export class ChunkSink {
  readonly counters: ChunkCounters = { chunks: 0, newChunks: 0, newBytes: 0, dedupBytes: 0 };

  constructor(private readonly chunks: ChunkStore, private readonly compress: boolean) {}

  put(data: Uint8Array): StoredChunk {
    const digest = sha256(data);
    this.counters.chunks++;
    if (this.chunks.markIfPresent(digest)) {
      this.counters.dedupBytes += data.length;
      return { digest, length: data.length, written: 0 };
    }
    const result = this.chunks.insert(digest, encodeBlob(data, { compress: this.compress }));
    if (result.duplicate) this.counters.dedupBytes += data.length;
    else {
      this.counters.newChunks++;
      this.counters.newBytes += result.written;
    }
    return { digest, length: data.length, written: result.written };
  }
}
