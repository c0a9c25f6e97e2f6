import { ChunkMemory } from './chunk-memory.js';
import { chunkerParams, WINDOW_SIZE, type ChunkerParams } from './chunker-params.js';
import { BUZHASH_WASM_BASE64 } from './generated/buzhash-wasm.js';

// A copy's room in the chunker's region of its ChunkMemory: the 64 stream bytes before it, then the block.
const HISTORY = 4096 - WINDOW_SIZE;
const DATA = 4096;
const BLOCK = 4 * 1024 * 1024;
/** A memory of a chunker's own: the table's page, then its room (whole pages). */
const OWN_MEMORY_BYTES = 2 * 64 * 1024 + BLOCK;

interface BuzhashExports {
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
 * Bytes are scanned where they lie when they are in its ChunkMemory (scanInPlace), else copied into a region
 * of its own there (scan).
 */
export class Chunker {
  readonly params: ChunkerParams;
  private readonly wasm: BuzhashExports;
  private readonly mem: Uint8Array;
  /** Where the copy's room starts in the memory. */
  private readonly base: number;

  /** The memory it scans in: the one it was given, unless that had no room left for it (then one of its own). */
  readonly memory: ChunkMemory;

  constructor(avg?: number, memory?: ChunkMemory) {
    this.params = chunkerParams(avg);
    let room = memory?.allocate(DATA + BLOCK);
    this.memory = room ? memory! : new ChunkMemory(OWN_MEMORY_BYTES);
    room ??= this.memory.allocate(DATA + BLOCK)!;
    this.wasm = new WebAssembly.Instance(wasmModule(), { env: { memory: this.memory.memory } })
      .exports as unknown as BuzhashExports;
    this.mem = room.bytes;
    this.base = room.offset;
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
      for (const cut of this.scanAt(this.base + DATA, length)) cuts.push(offset + cut);
      // The next block's leaving bytes are this block's last 64 (copyWithin handles short blocks too).
      this.mem.copyWithin(HISTORY, DATA + length - WINDOW_SIZE, DATA + length);
    }
    return cuts;
  }

  /**
   * Feeds the `length` bytes at `offset` of its ChunkMemory, where the bytes of the current chunk before them lie
   * right before them (a chunk built from the start of a slot); returns the cuts as scan does.
   */
  scanInPlace(offset: number, length: number): number[] {
    const cuts = this.scanAt(offset, length);
    // A copy may come next (scan): its leaving bytes are these bytes' last 64.
    this.mem.set(new Uint8Array(this.memory.buffer, offset + length - WINDOW_SIZE, WINDOW_SIZE), HISTORY);
    return cuts;
  }

  /** Scans memory [at, at + length); the cuts relative to `at`. */
  private scanAt(at: number, length: number): number[] {
    const cuts: number[] = [];
    const end = at + length;
    let pos = at;
    while (pos < end) {
      const cut = this.wasm.scan(pos, end);
      if (cut < 0) break;
      cuts.push(cut - at);
      pos = cut;
    }
    return cuts;
  }
}
