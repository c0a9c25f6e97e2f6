import { createHash } from 'node:crypto';
import { FIXED_INDEX_MAGIC } from '../blob/magic.js';
import { assertValidChunkSize } from '../chunker/chunker-params.js';
import { DIGEST_SIZE } from '../chunk-store/digest.js';
import { CairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import {
  checkIndexCsum,
  CSUM_OFFSET,
  indexTmpPath,
  newHeader,
  readIndexFile,
  type ChunkIndex,
} from './index-format.js';

const SIZE_OFFSET = 64;
const CHUNK_SIZE_OFFSET = 72;

export interface IndexCloseResult {
  csum: Buffer;
  size: number;
  chunkCount: number;
}

/**
 * Writes a `.fidx`: equal chunks of `chunkSize`, only the last may be shorter (spec 3.1). Digests may be set
 * in any order (parallel encoders finish out of order); the file appears, complete, only at close().
 */
export class FixedIndexWriter {
  private digests: Buffer;
  /** Which positions were set, so close() can tell a hole (an all-zero digest) from a chunk. */
  private present = new Uint8Array(128);
  private filled = 0;
  private count = 0;
  private size = 0;
  private sizeFixed = false;
  private closed = false;

  constructor(
    readonly path: string,
    readonly chunkSize: number,
  ) {
    assertValidChunkSize(chunkSize);
    indexTmpPath(path, 'fidx');
    this.digests = Buffer.alloc(128 * DIGEST_SIZE);
  }

  /** Records the chunk covering [offset, offset + length). */
  set(offset: number, length: number, digest: Uint8Array): void {
    if (this.closed) throw new Error('fixed index writer already closed');
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new CairnError('INVALID_ARGUMENT', `chunk offset ${offset} is not a whole number of bytes from 0 up`);
    }
    if (offset % this.chunkSize !== 0)
      throw new CairnError('INVALID_ARGUMENT', `chunk offset ${offset} is not aligned to ${this.chunkSize}`);
    if (!Number.isInteger(length) || length <= 0 || length > this.chunkSize)
      throw new CairnError('INVALID_ARGUMENT', `chunk length ${length} out of range`);
    if (digest.length !== DIGEST_SIZE) throw new CairnError('INVALID_ARGUMENT', 'digest must be 32 bytes');
    const end = offset + length;
    if (length < this.chunkSize) {
      // Chunks may come in any order: a short one must end exactly where the archive ends, at or after every chunk so far.
      if (this.sizeFixed ? end !== this.size : end < this.size)
        throw new CairnError('INVALID_ARGUMENT', 'only the last chunk may be short');
      this.sizeFixed = true;
    } else if (this.sizeFixed && end > this.size) {
      throw new CairnError('INVALID_ARGUMENT', `chunk at ${offset} lies beyond the short last chunk`);
    }
    const i = offset / this.chunkSize;
    while ((i + 1) * DIGEST_SIZE > this.digests.length) {
      const grown = Buffer.alloc(this.digests.length * 2);
      this.digests.copy(grown);
      this.digests = grown;
      const present = new Uint8Array(this.present.length * 2);
      present.set(this.present);
      this.present = present;
    }
    this.digests.set(digest, i * DIGEST_SIZE);
    if (!this.present[i]) {
      this.present[i] = 1;
      this.filled++;
    }
    this.count = Math.max(this.count, i + 1);
    this.size = Math.max(this.size, end);
  }

  /**
   * Writes `<name>.tmp_fidx` with the final csum and renames it into place. Not fsynced here, like the dynamic
   * index: at sync level `filesystem` the snapshot's finish syncs the filesystem before its manifest makes it count.
   */
  close(): IndexCloseResult {
    if (this.closed) throw new Error('fixed index writer already closed');
    this.closed = true;
    const expected = Math.ceil(this.size / this.chunkSize);
    if (expected !== this.count || this.filled !== this.count)
      throw new CairnError('INVALID_ARGUMENT', 'fixed index has gaps');
    const entries = this.digests.subarray(0, this.count * DIGEST_SIZE);
    const csum = createHash('sha256').update(entries).digest();
    const header = newHeader(FIXED_INDEX_MAGIC);
    csum.copy(header, CSUM_OFFSET);
    header.writeBigUInt64LE(BigInt(this.size), SIZE_OFFSET);
    header.writeBigUInt64LE(BigInt(this.chunkSize), CHUNK_SIZE_OFFSET);
    writeFileAtomicSync(this.path, Buffer.concat([header, entries]), {
      tmpPath: indexTmpPath(this.path, 'fidx'),
      action: 'publish index',
    });
    return { csum, size: this.size, chunkCount: this.count };
  }

  abort(): void {
    this.closed = true;
  }
}

export class FixedIndexReader implements ChunkIndex {
  readonly kind = 'fixed';
  readonly size: number;
  readonly chunkSize: number;
  readonly chunkCount: number;
  readonly csum: Buffer;
  readonly ctime: number;
  private readonly entries: Buffer;

  /** `contents`: the file's bytes when they are in memory already (see readIndexFile). */
  constructor(
    readonly path: string,
    contents?: Buffer,
  ) {
    const { file, entries } = readIndexFile(path, FIXED_INDEX_MAGIC, 'fixed index (.fidx)', contents);
    this.size = Number(file.readBigUInt64LE(SIZE_OFFSET));
    const rawChunkSize = file.readBigUInt64LE(CHUNK_SIZE_OFFSET);
    this.chunkSize = Number(rawChunkSize);
    this.ctime = Number(file.readBigInt64LE(24));
    // BigInt: Number's & works on 32 bits and would pass e.g. 2^32 + 2^16.
    if (rawChunkSize === 0n || (rawChunkSize & (rawChunkSize - 1n)) !== 0n || !Number.isSafeInteger(this.chunkSize)) {
      throw new CairnError('CORRUPT', `${path}: chunk size ${rawChunkSize} is not a power of two`);
    }
    this.chunkCount = Math.ceil(this.size / this.chunkSize);
    if (entries.length !== this.chunkCount * DIGEST_SIZE) {
      throw new CairnError(
        'CORRUPT',
        `${path}: entry area is ${entries.length} bytes but size ${this.size} with chunk size ` +
          `${this.chunkSize} needs ${this.chunkCount * DIGEST_SIZE} (${entries.length < this.chunkCount * DIGEST_SIZE ? 'truncated' : 'oversized'})`,
      );
    }
    this.csum = checkIndexCsum(path, file, entries);
    this.entries = entries;
  }

  digest(i: number): Buffer {
    this.checkIndex(i);
    return this.entries.subarray(i * DIGEST_SIZE, (i + 1) * DIGEST_SIZE);
  }

  chunkStart(i: number): number {
    this.checkIndex(i);
    return i * this.chunkSize;
  }

  chunkEnd(i: number): number {
    this.checkIndex(i);
    return Math.min((i + 1) * this.chunkSize, this.size);
  }

  chunkAt(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new RangeError(`offset ${offset} outside [0, ${this.size})`);
    return Math.floor(offset / this.chunkSize);
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunkCount)
      throw new RangeError(`chunk ${i} outside [0, ${this.chunkCount})`);
  }
}
