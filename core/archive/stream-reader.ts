import type { ChunkSource } from '../chunk-store/chunk-source.js';
import { CairnError, isCairnError } from '../errors.js';
import type { ChunkIndex } from '../index/index-format.js';
import type { PlacedChunk } from './file-writer.js';

/** How many of a file's chunks wholeChunks groups at a time (4 GiB of 1 MiB chunks). */
const PLACES_WINDOW = 4096;

/** What `slices` may be told besides the range. */
export interface SliceOptions {
  /** A damaged or missing chunk is told here and its part yielded as zeros (a `.damaged` copy); without, it throws. */
  onDamaged?: (chunk: string, message: string) => void;
  /**
   * The caller checks every byte it is given against a digest of its own (a small file's SHA-256 on restore):
   * the chunks are read without computing their digests, their length and CRC (or an encrypted chunk's GCM tag)
   * still checked. A chunk kept from such a read is read again, checked, when a later read wants it checked.
   */
  contentChecked?: boolean;
}

interface CachedChunk {
  data: Buffer;
  /** Its digest was checked (it was not read for a contentChecked slice). */
  checked: boolean;
}

/**
 * Random reads from an archive stream with a small cache of decoded chunks: browsing reads many small
 * records from the same few chunks, and restoring small files reads many files from one chunk.
 * Every chunk is verified (CRC, digest, length) when it is first decoded, unless the reader checks the bytes itself.
 * The cache is keyed by digest, not by place in the stream: a stream often holds the same chunk at places side
 * by side (a run of equal data, copies of a file one after the other), and an incremental snapshot more so;
 * keyed by place, a restore of the bench's incremental snapshot decoded 84 of its 644 chunks a second time.
 */
export class CachedStreamReader {
  /** Decoded chunks by digest (hex), the least recently used first. */
  private readonly cache = new Map<string, CachedChunk>();

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

  private chunk(i: number, check: boolean): Buffer {
    const digest = this.index.digest(i);
    const length = this.index.chunkEnd(i) - this.index.chunkStart(i);
    const key = digest.toString('hex');
    const hit = this.cache.get(key);
    // The same digest with another length in the index is damage the read below reports.
    if (hit && (hit.checked || !check) && hit.data.length === length) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.data;
    }
    this.beforeRead?.(i, digest);
    const data = this.chunks.readChunk(digest, length, check);
    if (check) this.onVerified?.(digest, data.length);
    this.cache.delete(key);
    this.cache.set(key, { data, checked: check });
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return data;
  }

  /** Yields the bytes [offset, offset + length) chunk slice by chunk slice. */
  *slices(offset: number, length: number, options: SliceOptions = {}): Generator<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.index.size) {
      throw new CairnError(
        'CORRUPT',
        `${this.index.path}: range [${offset}, ${offset + length}) outside the stream's ${this.index.size} bytes`,
      );
    }
    const { onDamaged, contentChecked = false } = options;
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const i = this.index.chunkAt(pos);
      const start = this.index.chunkStart(i);
      const data = onDamaged ? this.chunkOrZeros(i, onDamaged) : this.chunk(i, !contentChecked);
      const slice = data.subarray(pos - start, Math.min(data.length, end - start));
      // A chunk shorter than its place in the index (the reader checks lengths; this would never end).
      if (slice.length === 0)
        throw new CairnError('CORRUPT', `${this.index.path}: chunk ${i} is shorter than its index entry`);
      yield slice;
      pos += slice.length;
    }
  }

  /**
   * The chunks of [offset, offset + length), which lies on whole chunks (the caller checked), each distinct one
   * read once and checked, with every place (from `offset`) it goes: a file that holds a chunk many times (a disk
   * image's repeated extents) would have it decoded as often, far apart for the cache. A window of chunks at a
   * time, so a huge file's places are not held all at once.
   */
  *wholeChunks(offset: number, length: number): Generator<PlacedChunk> {
    const first = this.index.chunkAt(offset);
    const last = this.index.chunkAt(offset + length - 1);
    for (let from = first; from <= last; from += PLACES_WINDOW) {
      const places = new Map<string, { i: number; length: number; at: number[] }>();
      for (let i = from; i <= Math.min(last, from + PLACES_WINDOW - 1); i++) {
        const key = this.index.digest(i).toString('hex');
        const chunkLength = this.index.chunkEnd(i) - this.index.chunkStart(i);
        const at = this.index.chunkStart(i) - offset;
        const known = places.get(key);
        if (!known) places.set(key, { i, length: chunkLength, at: [at] });
        else if (known.length === chunkLength) known.at.push(at);
        else throw new CairnError('CORRUPT', `${this.index.path}: chunk ${key} is listed with two lengths`);
      }
      for (const { i, at } of places.values()) yield { data: this.chunk(i, true), at };
    }
  }

  /** Reads the chunks of [offset, offset + length) with their digests checked: throws the first damaged one's error. */
  checkChunks(offset: number, length: number): void {
    for (const slice of this.slices(offset, length)) void slice;
  }

  private chunkOrZeros(i: number, onDamaged: (chunk: string, message: string) => void): Buffer {
    try {
      return this.chunk(i, true);
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
