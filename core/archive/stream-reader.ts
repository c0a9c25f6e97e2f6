import type { ChunkSource } from '../chunk-store/chunk-source.js';
import { CairnError, isCairnError } from '../errors.js';
import type { ChunkIndex } from '../index/index-format.js';

/**
 * Random reads from an archive stream with a small cache of decoded chunks: browsing reads many small
 * records from the same few chunks, and restoring small files reads many files from one chunk.
 * Every chunk is verified (CRC, digest, length) when it is first decoded.
 */
export class CachedStreamReader {
  private readonly cache = new Map<number, Buffer>();

  /**
   * `onVerified` hears of every chunk found sound (verify counts it, so its chunk pass need not decode it again);
   * `beforeRead` is called before a chunk is read from the store (a restore from a remote waits there for it).
   */
  constructor(
    private readonly chunks: ChunkSource,
    readonly index: ChunkIndex,
    private readonly capacity = 8,
    private readonly onVerified?: (digest: Buffer, length: number) => void,
    private readonly beforeRead?: (i: number, digest: Buffer) => void,
  ) {}

  private chunk(i: number): Buffer {
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const start = this.index.chunkStart(i);
    const digest = this.index.digest(i);
    this.beforeRead?.(i, digest);
    const data = this.chunks.readChunk(digest, this.index.chunkEnd(i) - start);
    this.onVerified?.(digest, data.length);
    this.cache.set(i, data);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return data;
  }

  /**
   * Yields the bytes [offset, offset + length) chunk slice by chunk slice. With `onDamaged`, a damaged or missing
   * chunk is told there and its part yielded as zeros (a `.damaged` copy); without, it throws.
   */
  *slices(offset: number, length: number, onDamaged?: (chunk: string, message: string) => void): Generator<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.index.size) {
      throw new CairnError(
        'CORRUPT',
        `${this.index.path}: range [${offset}, ${offset + length}) outside the stream's ${this.index.size} bytes`,
      );
    }
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const i = this.index.chunkAt(pos);
      const start = this.index.chunkStart(i);
      const data = onDamaged ? this.chunkOrZeros(i, onDamaged) : this.chunk(i);
      const slice = data.subarray(pos - start, Math.min(data.length, end - start));
      yield slice;
      pos += slice.length;
    }
  }

  private chunkOrZeros(i: number, onDamaged: (chunk: string, message: string) => void): Buffer {
    try {
      return this.chunk(i);
    } catch (err) {
      if (!isCairnError(err, 'CORRUPT') && !isCairnError(err, 'NOT_FOUND')) throw err;
      onDamaged(this.index.digest(i).toString('hex'), err.message);
      return Buffer.alloc(this.index.chunkEnd(i) - this.index.chunkStart(i));
    }
  }

  read(offset: number, length: number): Buffer {
    const parts = [...this.slices(offset, length)];
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }
}
