import type { ChunkStore } from '../chunk-store/chunk-store.js';
import type { DynamicIndexReader } from '../index/dynamic-index.js';
import type { ArchiveStreamWriter } from './stream-writer.js';

/**
 * Maps unchanged files of the base snapshot into the new payload stream without reading them: the base chunks
 * covering a file are injected by reference, and consecutive unchanged files share one injected run.
 * New bytes written between two unchanged files only end the run, they never rewrite it.
 */
export class ChunkReuser {
  /** The run of base chunks [first, last] injected contiguously, starting at newStart in the new stream. */
  private run: { first: number; last: number; newStart: number; newEnd: number } | undefined;
  reusedBytes = 0;
  injectedBytes = 0;

  constructor(
    private readonly base: DynamicIndexReader,
    private readonly writer: ArchiveStreamWriter,
    private readonly chunks: ChunkStore,
  ) {}

  /**
   * Returns the new stream offset of base bytes [offset, offset + size), or undefined if a chunk they need is
   * missing from the store (then the caller reads the file again).
   */
  reuse(offset: number, size: number): number | undefined {
    if (size <= 0 || offset + size > this.base.size) return undefined;
    const first = this.base.chunkAt(offset);
    const last = this.base.chunkAt(offset + size - 1);
    const run = this.run;
    if (run && first >= run.first && last <= run.last) {
      this.reusedBytes += size;
      return run.newStart + offset - this.base.chunkStart(run.first);
    }
    // Extend the run when nothing was written since it ended and the file continues it.
    if (
      run &&
      first >= run.first &&
      first <= run.last + 1 &&
      this.writer.offset === run.newEnd &&
      this.writer.pendingBytes === 0
    ) {
      if (!this.touchAll(run.last + 1, last)) return undefined;
      for (let i = run.last + 1; i <= last; i++) this.injectBase(i);
      run.last = last;
      run.newEnd = this.writer.offset;
      this.reusedBytes += size;
      return run.newStart + offset - this.base.chunkStart(run.first);
    }
    if (!this.touchAll(first, last)) return undefined;
    this.writer.forceCut();
    const newStart = this.writer.offset;
    for (let i = first; i <= last; i++) this.injectBase(i);
    this.run = { first, last, newStart, newEnd: this.writer.offset };
    this.reusedBytes += size;
    return newStart + offset - this.base.chunkStart(first);
  }

  /** Marks the chunks in use (and proves they are still there). */
  private touchAll(first: number, last: number): boolean {
    for (let i = first; i <= last; i++) if (!this.chunks.touch(this.base.digest(i))) return false;
    return true;
  }

  private injectBase(i: number): void {
    const length = this.base.chunkEnd(i) - this.base.chunkStart(i);
    this.writer.inject(this.base.digest(i), length);
    this.injectedBytes += length;
  }
}
