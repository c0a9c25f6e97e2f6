import { Chunker } from '../chunker/chunker.js';
import { sha256 } from '../chunk-store/digest.js';
import type { DynamicIndexWriter } from '../index/dynamic-index.js';
import type { ChunkSink } from './chunk-sink.js';

/**
 * One chunked archive stream (the folder's payload or metadata): bytes go through the content-defined chunker
 * into the chunk store and the dynamic index. Callers can also force a cut (so a large file starts and ends on
 * chunk boundaries) and inject chunks that are already stored (reused, unchanged data; nothing is read).
 */
export class ArchiveStreamWriter {
  private readonly chunker: Chunker;
  private pending: Buffer;
  private pendingLength = 0;
  private position = 0;

  constructor(private readonly index: DynamicIndexWriter, private readonly sink: ChunkSink, avgChunkSize: number) {
    this.chunker = new Chunker(avgChunkSize);
    this.pending = Buffer.allocUnsafe(this.chunker.params.max);
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
    let start = 0;
    for (const cut of this.chunker.scan(data)) {
      if (this.pendingLength === 0) {
        this.emit(data.subarray(start, cut));
      } else {
        this.appendPending(data.subarray(start, cut));
        this.emit(this.pending.subarray(0, this.pendingLength));
        this.pendingLength = 0;
      }
      start = cut;
    }
    this.appendPending(data.subarray(start));
    this.position += data.length;
  }

  /** Ends the current chunk here (if it has any bytes) and starts the chunker afresh. */
  forceCut(): void {
    if (this.pendingLength > 0) {
      this.emit(this.pending.subarray(0, this.pendingLength));
      this.pendingLength = 0;
    }
    this.chunker.reset();
  }

  /**
   * True when the bytes since the last boundary are exactly a known chunk. Used at a changed file's old end:
   * if its old last chunk is intact, cutting there keeps it (an append then costs only the appended bytes).
   */
  pendingEquals(length: number, digest: Uint8Array): boolean {
    return this.pendingLength === length && sha256(this.pending.subarray(0, length)).equals(digest);
  }

  /** Appends an already stored chunk by reference, after ending the current chunk. */
  inject(digest: Uint8Array, length: number): void {
    this.forceCut();
    this.index.add(length, digest);
    this.position += length;
  }

  /** Flushes the last chunk. The caller closes the index (through its snapshot writer). */
  finish(): void {
    this.forceCut();
  }

  private appendPending(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pending.set(data, this.pendingLength);
    this.pendingLength += data.length;
  }

  private emit(data: Uint8Array): void {
    const stored = this.sink.put(data);
    this.index.add(stored.length, stored.digest);
  }
}
