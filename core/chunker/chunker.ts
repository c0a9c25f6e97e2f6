import { buzhashTable } from './buzhash-table.js';
import { chunkerParams, WINDOW_SIZE, type ChunkerParams } from './chunker-params.js';
import { BUZHASH_WASM_BASE64 } from './generated/buzhash-wasm.js';

// Memory layout shared with buzhash.wat.
const HISTORY = 4096 - WINDOW_SIZE;
const DATA = 4096;
const BLOCK = 4 * 1024 * 1024;

interface BuzhashExports {
  memory: WebAssembly.Memory;
  configure(min: number, max: number, mask: number): void;
  chunkLength(): number;
  scan(pos: number, end: number): number;
}

let compiled: WebAssembly.Module | undefined;

function wasmModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(BUZHASH_WASM_BASE64, 'base64'));
  return compiled;
}

/**
 * Streaming content-defined chunker: buzhash over a 64-byte window with PBS's cut rule, run in WebAssembly.
 * Feeding the same bytes in any split yields the same boundaries. One instance per stream; not thread-safe.
 */
export class Chunker {
  readonly params: ChunkerParams;
  private readonly wasm: BuzhashExports;
  private readonly mem: Uint8Array;

  constructor(avg?: number) {
    this.params = chunkerParams(avg);
    this.wasm = new WebAssembly.Instance(wasmModule(), {}).exports as unknown as BuzhashExports;
    this.mem = new Uint8Array(this.wasm.memory.buffer);
    new Uint32Array(this.wasm.memory.buffer, 0, 256).set(buzhashTable());
    this.reset();
  }

  /** Forgets the current chunk: the next byte starts a new one. */
  reset(): void {
    const { min, max, mask } = this.params;
    this.wasm.configure(min, max, mask);
  }

  /** Bytes consumed since the last boundary. */
  get pending(): number {
    return this.wasm.chunkLength();
  }

  /** Feeds bytes; returns the exclusive end offsets (within `data`) of the chunks that end in it. */
  scan(data: Uint8Array): number[] {
    const cuts: number[] = [];
    for (let offset = 0; offset < data.length; offset += BLOCK) {
      const length = Math.min(BLOCK, data.length - offset);
      this.mem.set(data.subarray(offset, offset + length), DATA);
      const end = DATA + length;
      let pos = DATA;
      while (pos < end) {
        const cut = this.wasm.scan(pos, end);
        if (cut < 0) break;
        cuts.push(offset + cut - DATA);
        pos = cut;
      }
      // The next block's leaving bytes are this block's last 64 (copyWithin handles short blocks too).
      this.mem.copyWithin(HISTORY, end - WINDOW_SIZE, end);
    }
    return cuts;
  }
}
