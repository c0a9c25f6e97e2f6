import { buzhashTable } from './buzhash-table.js';

const PAGE = 64 * 1024;

/**
 * The WebAssembly memory the chunkers scan in (buzhash.wat): the buzhash table at its start, then regions handed
 * out for good, page by page. A chunk writer pool builds its chunks in regions of it (its slots), so a chunker
 * scans a chunk where it lies instead of copying every byte in first (4 % of a first backup's CPU, on the job's
 * thread). Shared, so that the chunk writers' threads read the same slots; growing it keeps every region where
 * it is. Pages never written are only address space.
 */
export class ChunkMemory {
  readonly memory: WebAssembly.Memory;
  private top = PAGE;
  private pages = 1;

  /** `maxBytes`: address space to reserve; regions beyond it are refused (allocate returns undefined). */
  constructor(private readonly maxBytes: number) {
    const maximum = Math.max(1, Math.ceil(maxBytes / PAGE));
    this.memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true });
    new Uint32Array(this.memory.buffer, 0, 256).set(buzhashTable());
  }

  /** A region of `size` bytes of its own, or undefined when the memory is full. */
  allocate(size: number): { bytes: Uint8Array; offset: number } | undefined {
    const offset = this.top;
    const end = offset + Math.ceil(size / PAGE) * PAGE;
    if (end > this.maxBytes) return undefined;
    const needed = end / PAGE;
    if (needed > this.pages) {
      this.memory.grow(needed - this.pages);
      this.pages = needed;
    }
    this.top = end;
    return { bytes: new Uint8Array(this.memory.buffer, offset, size), offset };
  }

  /** The whole memory as it is now (a new object after it grew; earlier ones stay valid for their regions). */
  get buffer(): SharedArrayBuffer {
    return this.memory.buffer as unknown as SharedArrayBuffer;
  }
}
