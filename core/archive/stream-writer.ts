import { createHash, type Hash } from 'node:crypto';
import { Chunker } from '../chunker/chunker.js';
import type { ChunkBuffer, ChunkTarget } from '../chunk-store/chunk-writer-pool.js';
import type { DynamicIndexWriter } from '../index/dynamic-index.js';

interface QueuedChunk {
  length: number;
  digest?: Buffer;
  error?: unknown;
  done?: Promise<void>;
}

/** A run of whole chunks whose digest list is being hashed as the chunks reach the index. */
interface DigestRun {
  start: number;
  /** Set when the run is complete. */
  end?: number;
  hash: Hash;
  /** Receives the digest. */
  target: Buffer;
}

/**
 * One chunked archive stream (the folder's payload or metadata): bytes go through the content-defined chunker
 * to the chunk target and into the dynamic index, in stream order even when chunks are stored out of order.
 * Callers can also force a cut (so a large file starts and ends on chunk boundaries) and inject chunks that
 * are already stored (reused, unchanged data; nothing is read). The chunk being built lives in a buffer lent
 * by the target, so a file can be read straight into it (`space`, `commit`) and stored without a copy.
 */
export class ArchiveStreamWriter {
  private readonly chunker: Chunker;
  /** Holds the bytes since the last boundary (none: nothing is pending). */
  private current: ChunkBuffer | undefined;
  private pendingLength = 0;
  /** The largest chunk the chunker makes: what a chunk buffer must hold. */
  private readonly capacity: number;
  private position = 0;
  private readonly queue: QueuedChunk[] = [];
  /** Stream offset up to which chunks are in the index. */
  private indexed = 0;
  private readonly runs: DigestRun[] = [];
  /** Whether the chunker scans in the target's memory, where its buffers lie (ChunkBuffer.memoryOffset). */
  private readonly scansInPlace: boolean;

  constructor(
    private readonly index: DynamicIndexWriter,
    private readonly target: ChunkTarget,
    avgChunkSize: number,
  ) {
    this.chunker = new Chunker(avgChunkSize, target.chunkMemory);
    this.scansInPlace = target.chunkMemory !== undefined && this.chunker.memory === target.chunkMemory;
    this.capacity = this.chunker.params.max;
  }

  /** The stream offset the next byte will get. */
  get offset(): number {
    return this.position;
  }

  /** Bytes written since the last chunk boundary. */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  write(data: Uint8Array): void {
    while (data.length > 0) {
      const room = this.space(data.length);
      room.set(data.subarray(0, room.length));
      this.commit(room.length);
      data = data.subarray(room.length);
    }
  }

  /**
   * Memory for up to `max` of the stream's next bytes (at least one), at the end of the chunk being built: fill
   * it, then `commit` how many bytes were put there. Nothing else may write to the stream in between.
   */
  space(max: number): Uint8Array {
    const bytes = (this.current ??= this.target.chunkBuffer(this.capacity)).bytes;
    return bytes.subarray(this.pendingLength, this.pendingLength + Math.min(max, this.capacity - this.pendingLength));
  }

  /**
   * Takes the first `n` bytes of the last `space` into the stream. The bytes after a cut move to the start of
   * a new buffer: little, as long as callers fill less than the chunker's minimum at a time.
   */
  commit(n: number): void {
    if (n === 0) return;
    let buffer = this.current!;
    // Byte i of the new bytes is at buffer.bytes[at + i].
    let at = this.pendingLength;
    const cuts =
      this.scansInPlace && buffer.memoryOffset !== undefined
        ? this.chunker.scanInPlace(buffer.memoryOffset + at, n)
        : this.chunker.scan(buffer.bytes.subarray(at, at + n));
    for (const cut of cuts) {
      const full = buffer;
      if (cut < n) {
        buffer = this.target.chunkBuffer(this.capacity);
        buffer.bytes.set(full.bytes.subarray(at + cut, at + n));
      }
      this.emit(full, at + cut);
      at = -cut;
    }
    this.current = at + n > 0 ? buffer : undefined;
    this.pendingLength = at + n;
    this.position += n;
  }

  /** Ends the current chunk here (if it has any bytes) and starts the chunker afresh. */
  forceCut(): void {
    if (this.pendingLength > 0) {
      this.emit(this.current!, this.pendingLength);
      this.current = undefined;
      this.pendingLength = 0;
    }
    this.chunker.reset();
  }

  /**
   * True when the bytes since the last boundary are exactly a known chunk. Used at a changed file's old end:
   * if its old last chunk is intact, cutting there keeps it (an append then costs only the appended bytes).
   */
  pendingEquals(length: number, digest: Uint8Array): boolean {
    return (
      this.pendingLength === length &&
      this.current !== undefined &&
      this.target.codec.digest(this.current.bytes.subarray(0, length)).equals(digest)
    );
  }

  /** Bytes of the stream whose chunks are in the index (the rest are still being stored). */
  get indexedOffset(): number {
    return this.indexed;
  }

  /** Where the last digest run ends: once indexedOffset reaches it, every run's digest has been delivered. */
  get digestsDoneAt(): number {
    const last = this.runs.at(-1);
    return last ? (last.end ?? Number.POSITIVE_INFINITY) : 0;
  }

  /**
   * Starts a run of whole chunks here (call right after forceCut): when it is ended and all its chunks are
   * indexed, `target` receives chunkListDigest of their digests (docs/FORMAT.md). One run is open at a time.
   */
  beginDigestRun(target: Buffer): void {
    if (this.pendingLength !== 0) throw new Error('a digest run must start on a chunk boundary');
    if (this.runs.at(-1)?.end === undefined && this.runs.length > 0) throw new Error('a digest run is already open');
    this.runs.push({ start: this.position, hash: createHash('sha256'), target });
  }

  /** Ends the open run here (call right after forceCut). */
  endDigestRun(): void {
    const run = this.runs.at(-1);
    if (!run || run.end !== undefined) throw new Error('no digest run is open');
    if (this.pendingLength !== 0) throw new Error('a digest run must end on a chunk boundary');
    run.end = this.position;
    this.finishRuns();
  }

  /** Forgets the open run (its file was not stored after all). */
  dropDigestRun(): void {
    if (this.runs.at(-1)?.end === undefined) this.runs.pop();
  }

  /** Appends an already stored chunk by reference, after ending the current chunk. */
  inject(digest: Uint8Array, length: number): void {
    this.forceCut();
    this.queue.push({ length, digest: Buffer.from(digest) });
    this.position += length;
    this.flushReady();
  }

  /** Waits until at most `maxQueued` chunks are still being stored (bounds memory and work in flight). */
  async drain(maxQueued = 0): Promise<void> {
    while (this.queue.length > maxQueued) {
      await this.queue[0]!.done;
      this.flushReady();
    }
  }

  /** Flushes the last chunk and waits for every chunk to be stored and indexed. */
  async finish(): Promise<void> {
    this.forceCut();
    await this.drain(0);
  }

  private emit(buffer: ChunkBuffer, length: number): void {
    const stored = this.target.putBuffer(buffer, length);
    if (stored instanceof Promise) {
      const item: QueuedChunk = { length };
      item.done = stored.then(
        (s) => {
          item.digest = s.digest;
        },
        (err: unknown) => {
          item.error = err;
        },
      );
      this.queue.push(item);
    } else {
      this.queue.push({ length: stored.length, digest: stored.digest });
    }
    this.flushReady();
  }

  /** Moves finished chunks from the head of the queue into the index, in order. */
  private flushReady(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.error !== undefined) throw head.error;
      if (!head.digest) return;
      this.index.add(head.length, head.digest);
      this.queue.shift();
      const run = this.runs[0];
      if (run && this.indexed >= run.start) {
        if (run.end !== undefined && this.indexed + head.length > run.end)
          throw new Error('a chunk crosses the end of a digest run');
        run.hash.update(head.digest);
      } else if (run && this.indexed + head.length > run.start) {
        throw new Error('a chunk crosses the start of a digest run');
      }
      this.indexed += head.length;
      this.finishRuns();
    }
  }

  /** Delivers the digests of the complete runs whose chunks are all indexed. */
  private finishRuns(): void {
    while (this.runs.length > 0 && this.runs[0]!.end !== undefined && this.indexed >= this.runs[0]!.end) {
      const run = this.runs.shift()!;
      run.hash.digest().copy(run.target);
    }
  }
}
