import { buzhashTable } from './buzhash-table.js';
import { chunkerParams, WINDOW_SIZE, type ChunkerParams } from './chunker-params.js';

/**
 * The straightforward buzhash scan, byte for byte as PBS describes it (window fill, then roll and test every
 * byte). Too slow for backups; it is the yardstick the fast WebAssembly chunker is tested and benchmarked against.
 */
export class ReferenceChunker {
  readonly params: ChunkerParams;
  private readonly table = buzhashTable();
  private readonly window = new Uint8Array(WINDOW_SIZE);
  private h = 0;
  private windowFill = 0;
  private chunkLen = 0;

  constructor(avg?: number) {
    this.params = chunkerParams(avg);
  }

  /** Feeds bytes; returns the exclusive end offsets (within `data`) of the chunks that end in it. */
  scan(data: Uint8Array): number[] {
    const cuts: number[] = [];
    const { min, max, mask, threshold } = this.params;
    const t = this.table;
    let i = 0;
    while (i < data.length) {
      if (this.windowFill < WINDOW_SIZE) {
        const b = data[i++]!;
        this.window[this.windowFill++] = b;
        this.h = ((this.h << 1) | (this.h >>> 31)) ^ t[b]!;
        this.chunkLen++;
        continue;
      }
      const idx = this.chunkLen & (WINDOW_SIZE - 1);
      const e = data[i++]!;
      const l = this.window[idx]!;
      this.h = ((this.h << 1) | (this.h >>> 31)) ^ t[l]! ^ t[e]!;
      this.chunkLen++;
      this.window[idx] = e;
      const len = this.chunkLen;
      const cut = len >= max || (len >= min && (this.h & mask) >>> 0 >= threshold);
      if (cut) {
        cuts.push(i);
        this.h = 0;
        this.chunkLen = 0;
        this.windowFill = 0;
      }
    }
    return cuts;
  }
}
