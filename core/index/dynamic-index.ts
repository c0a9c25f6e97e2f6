import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { DYNAMIC_INDEX_MAGIC } from '../blob/magic.js';
import { DIGEST_SIZE } from '../chunk-store/digest.js';
import { CairnError, ioError } from '../errors.js';
import { writeAllSync } from '../fs/atomic-write.js';
import type { IndexCloseResult } from './fixed-index.js';
import {
  checkIndexCsum,
  CSUM_OFFSET,
  INDEX_HEADER_SIZE,
  indexTmpPath,
  newHeader,
  readIndexFile,
  type ChunkIndex,
} from './index-format.js';

export const DYNAMIC_ENTRY_SIZE = 40;
const BUFFER_SIZE = 1024 * 1024;

/**
 * Writes a `.didx` (spec 3.2, 3.3): entries {end u64, digest} appended through a 1 MiB buffer with a running
 * SHA-256 into `<name>.tmp_didx`; close() writes the csum into the header and renames the file into place.
 */
export class DynamicIndexWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private readonly hash: Hash = createHash('sha256');
  private readonly buffer = Buffer.alloc(BUFFER_SIZE);
  private buffered = 0;
  private end = 0;
  private count = 0;
  private filePos = INDEX_HEADER_SIZE;

  constructor(readonly path: string) {
    this.tmp = indexTmpPath(path, 'didx');
    try {
      this.fd = openSync(this.tmp, 'w', 0o644);
      writeAllSync(this.fd, newHeader(DYNAMIC_INDEX_MAGIC), 0);
    } catch (err) {
      this.abort();
      throw ioError('create index', this.tmp, err);
    }
  }

  /** Number of bytes the archive holds so far (the last end offset). */
  get size(): number {
    return this.end;
  }

  get chunkCount(): number {
    return this.count;
  }

  /** Appends the next chunk, `length` bytes long. */
  add(length: number, digest: Uint8Array): void {
    if (this.fd === undefined) throw new Error('dynamic index writer is closed');
    if (!Number.isInteger(length) || length <= 0)
      throw new CairnError('INVALID_ARGUMENT', `chunk length ${length} must be positive`);
    if (digest.length !== DIGEST_SIZE) throw new CairnError('INVALID_ARGUMENT', 'digest must be 32 bytes');
    this.end += length;
    if (this.buffered + DYNAMIC_ENTRY_SIZE > BUFFER_SIZE) this.flush();
    this.buffer.writeBigUInt64LE(BigInt(this.end), this.buffered);
    this.buffer.set(digest, this.buffered + 8);
    this.buffered += DYNAMIC_ENTRY_SIZE;
    this.count++;
  }

  private flush(): void {
    if (this.buffered === 0 || this.fd === undefined) return;
    const data = this.buffer.subarray(0, this.buffered);
    this.hash.update(data);
    try {
      writeAllSync(this.fd, data, this.filePos);
    } catch (err) {
      throw ioError('write index', this.tmp, err);
    }
    this.filePos += this.buffered;
    this.buffered = 0;
  }

  close(): IndexCloseResult {
    if (this.fd === undefined) throw new Error('dynamic index writer is closed');
    try {
      this.flush();
      const csum = this.hash.digest();
      writeAllSync(this.fd, csum, CSUM_OFFSET);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
      return { csum, size: this.end, chunkCount: this.count };
    } catch (err) {
      this.abort();
      throw err instanceof CairnError ? err : ioError('publish index', this.path, err);
    }
  }

  /** Drops the unfinished index: the tmp file is removed. */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      /* never created or already gone */
    }
  }
}

export class DynamicIndexReader implements ChunkIndex {
  readonly kind = 'dynamic';
  readonly size: number;
  readonly chunkCount: number;
  readonly csum: Buffer;
  readonly ctime: number;
  private readonly entries: Buffer;
  private readonly ends: Float64Array;

  /** `contents`: the file's bytes when they are in memory already (see readIndexFile). */
  constructor(
    readonly path: string,
    contents?: Buffer,
  ) {
    const { file, entries } = readIndexFile(path, DYNAMIC_INDEX_MAGIC, 'dynamic index (.didx)', contents);
    if (entries.length % DYNAMIC_ENTRY_SIZE !== 0) {
      throw new CairnError(
        'CORRUPT',
        `${path}: entry area of ${entries.length} bytes is not a multiple of ${DYNAMIC_ENTRY_SIZE} (truncated?)`,
      );
    }
    this.csum = checkIndexCsum(path, file, entries);
    this.ctime = Number(file.readBigInt64LE(24));
    this.entries = entries;
    this.chunkCount = entries.length / DYNAMIC_ENTRY_SIZE;
    this.ends = new Float64Array(this.chunkCount);
    let prev = 0;
    for (let i = 0; i < this.chunkCount; i++) {
      const end = Number(entries.readBigUInt64LE(i * DYNAMIC_ENTRY_SIZE));
      if (end <= prev) throw new CairnError('CORRUPT', `${path}: end offsets not increasing at entry ${i}`);
      this.ends[i] = end;
      prev = end;
    }
    this.size = prev;
  }

  digest(i: number): Buffer {
    this.checkIndex(i);
    const at = i * DYNAMIC_ENTRY_SIZE + 8;
    return this.entries.subarray(at, at + DIGEST_SIZE);
  }

  chunkStart(i: number): number {
    this.checkIndex(i);
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  chunkEnd(i: number): number {
    this.checkIndex(i);
    return this.ends[i]!;
  }

  /** Binary search over the end offsets. */
  chunkAt(offset: number): number {
    if (offset < 0 || offset >= this.size) throw new RangeError(`offset ${offset} outside [0, ${this.size})`);
    let lo = 0;
    let hi = this.chunkCount - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.chunkCount)
      throw new RangeError(`chunk ${i} outside [0, ${this.chunkCount})`);
  }
}
