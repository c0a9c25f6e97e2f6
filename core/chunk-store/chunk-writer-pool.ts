import { Worker } from 'node:worker_threads';
import { ChunkMemory } from '../chunker/chunk-memory.js';
import { CairnError, type CairnErrorCode } from '../errors.js';
import { workerScriptUrl } from '../jobs/worker-url.js';
import type { Logger } from '../log.js';
import type { ChunkCodec } from './chunk-codec.js';
import type { ChunkStore } from './chunk-store.js';
import type { ChunkRequest, ChunkResponse, ChunkWriterWorkerData } from './chunk-writer-worker.js';

export interface StoredChunk {
  digest: Buffer;
  length: number;
  /** Encoded bytes newly written (0 when the store had the chunk). */
  written: number;
}

export interface ChunkCounters {
  chunks: number;
  newChunks: number;
  newBytes: number;
  /** Logical bytes of chunks the store already had. */
  dedupBytes: number;
}

/** Memory to build one chunk in, lent by a ChunkTarget until the chunk is handed back with putBuffer. */
export interface ChunkBuffer {
  readonly bytes: Uint8Array;
  /** The shared slot it is (ChunkWriterPool), so that only numbers cross to the worker. */
  readonly slot?: number;
  /** Where `bytes` starts in the target's chunkMemory, if it lies there: a chunker scans it in place. */
  readonly memoryOffset?: number;
}

/** Where chunks go: stored at once on this thread, or handed to worker threads. */
export interface ChunkTarget {
  readonly counters: ChunkCounters;
  /** How this target addresses and encodes chunks (keyed digests when the job encrypts). */
  readonly codec: ChunkCodec;
  /** Stores a copy of `data`. */
  put(data: Uint8Array): StoredChunk | Promise<StoredChunk>;
  /**
   * A buffer of at least `capacity` bytes to build the next chunk in, such as by reading a file straight into
   * it: putBuffer then stores the chunk without copying it again.
   */
  chunkBuffer(capacity: number): ChunkBuffer;
  /** Stores the first `length` bytes of a buffer from chunkBuffer, which is the target's again from here on. */
  putBuffer(buffer: ChunkBuffer, length: number): StoredChunk | Promise<StoredChunk>;
  /** The memory the buffers lie in, when they do (ChunkBuffer.memoryOffset): a stream's chunker scans in it. */
  readonly chunkMemory?: ChunkMemory;
  close(): Promise<void>;
}

/** Address space a pool's ChunkMemory reserves: ~120 slots of 4 MiB (a folder backup uses ~20). */
const CHUNK_MEMORY_BYTES = 512 * 1024 * 1024;

/** How long close() waits for a worker to finish its queue (a few chunks, normally milliseconds). */
const CLOSE_TIMEOUT_MS = 30_000;

interface Pending {
  resolve(chunk: StoredChunk): void;
  reject(err: Error): void;
  length: number;
  worker: number;
  /** The shared slot holding the chunk, free again once the worker answers. */
  slot?: number;
}

/**
 * Hashes, compresses and stores chunks on worker threads (one per core by default), while the job thread
 * reads and chunks. Each chunk is in a slot: a reused SharedArrayBuffer that every worker knows (a folder
 * backup reads files straight into one, chunkBuffer; put copies into one), so a request carries only
 * numbers, no fresh memory is touched per chunk, and no buffer changes hands (moving
 * ArrayBuffers between threads made V8 count them as new external memory and collect garbage far more
 * often). Results come back as promises; callers keep index order themselves.
 */
export class ChunkWriterPool implements ChunkTarget {
  readonly counters: ChunkCounters = { chunks: 0, newChunks: 0, newBytes: 0, dedupBytes: 0 };
  private readonly workers: Worker[] = [];
  /** Settles when each worker has exited (for whatever reason). */
  private readonly exits: Promise<void>[] = [];
  private readonly inFlight: number[] = [];
  private readonly pending = new Map<number, Pending>();
  /** The slots lie here while it has room (then in SharedArrayBuffers of their own), and so do the chunkers. */
  readonly chunkMemory: ChunkMemory;
  private slots = 0;
  private readonly slotViews: Uint8Array[] = [];
  /** Each slot's offset in chunkMemory (undefined: a buffer of its own). */
  private readonly slotOffsets: (number | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private nextId = 0;
  private failure: Error | undefined;

  private readonly workerData: ChunkWriterWorkerData;

  /** The worker threads start with the first chunk: a backup that stores none (nothing changed) needs none. */
  private readonly log: Logger;

  /** `log` gets what the workers' stores log (a damaged copy moved aside). */
  constructor(
    store: ChunkStore,
    readonly codec: ChunkCodec,
    private readonly bufferSize: number,
    private readonly workerCount = 2,
    log?: Logger,
    chunkMemoryBytes = CHUNK_MEMORY_BYTES,
  ) {
    this.chunkMemory = new ChunkMemory(chunkMemoryBytes);
    this.workerData = { root: store.base, syncLevel: store.syncLevel, codec: codec.toData() };
    this.log = log ?? store.log;
  }

  private startWorkers(): void {
    const url = workerScriptUrl(import.meta.url, './chunk-writer-worker.js');
    for (let i = 0; i < this.workerCount; i++) {
      // Named, so `top -H` and the bench's per-thread profile tell them apart.
      const worker = new Worker(url, { workerData: this.workerData, name: `cairn-chunks-${i}` });
      worker.on('message', (res: ChunkResponse) => this.onResponse(res));
      worker.on('error', (err) => this.fail(err));
      this.exits.push(
        new Promise((resolve) =>
          worker.on('exit', (code) => {
            if (code !== 0) this.fail(new Error(`chunk writer ${i} exited with code ${code}`));
            resolve();
          }),
        ),
      );
      // Slots lent out before the first chunk (chunkBuffer) are announced like later ones.
      this.slotViews.forEach((view, slot) => worker.postMessage(slotMessage(slot, view)));
      this.workers.push(worker);
      this.inFlight.push(0);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  put(data: Uint8Array): Promise<StoredChunk> {
    const buffer = this.chunkBuffer(data.length);
    buffer.bytes.set(data);
    return this.putBuffer(buffer, data.length);
  }

  /** A free shared slot, or (larger than any slot: not made by the chunkers) memory of its own. */
  chunkBuffer(capacity: number): ChunkBuffer {
    if (capacity > this.bufferSize) return { bytes: new Uint8Array(capacity) };
    const slot = this.freeSlots.pop() ?? this.newSlot();
    return { bytes: this.slotViews[slot]!, slot, memoryOffset: this.slotOffsets[slot] };
  }

  putBuffer(buffer: ChunkBuffer, length: number): Promise<StoredChunk> {
    if (this.failure) {
      if (buffer.slot !== undefined) this.freeSlots.push(buffer.slot);
      return Promise.reject(this.failure);
    }
    if (this.workers.length === 0) this.startWorkers();
    let worker = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.inFlight[i]! < this.inFlight[worker]!) worker = i;
    const id = this.nextId++;
    this.inFlight[worker]!++;
    const { slot } = buffer;
    const request: ChunkRequest =
      slot !== undefined
        ? { type: 'chunk', id, slot, length }
        : { type: 'chunk', id, buffer: buffer.bytes.buffer as ArrayBuffer, length };
    const transfer = slot !== undefined ? [] : [buffer.bytes.buffer as ArrayBuffer];
    return new Promise<StoredChunk>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, length, worker, slot });
      this.workers[worker]!.postMessage(request, transfer);
    });
  }

  /** A new shared slot, announced to every running worker before any request names it. */
  private newSlot(): number {
    const slot = this.slots++;
    const region = this.chunkMemory.allocate(this.bufferSize);
    const view = region?.bytes ?? new Uint8Array(new SharedArrayBuffer(this.bufferSize));
    this.slotViews.push(view);
    this.slotOffsets.push(region?.offset);
    const message = slotMessage(slot, view);
    for (const w of this.workers) w.postMessage(message);
    return slot;
  }

  private onResponse(res: ChunkResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    this.inFlight[p.worker]!--;
    if (p.slot !== undefined) this.freeSlots.push(p.slot);
    if ('error' in res) {
      const err = new CairnError((res.error.code as CairnErrorCode | undefined) ?? 'IO', res.error.message);
      this.fail(err);
      p.reject(err);
      return;
    }
    for (const warning of res.warnings ?? []) this.log.warn(warning);
    this.counters.chunks++;
    if (res.written > 0) {
      this.counters.newChunks++;
      this.counters.newBytes += res.written;
    } else {
      this.counters.dedupBytes += p.length;
    }
    p.resolve({ digest: Buffer.from(res.digest), length: p.length, written: res.written });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /**
   * Lets each worker finish the chunks it was given, then exit. Not `terminate()`: a worker stopped inside
   * zstd compression aborts the whole process as Node tears the thread down ("close before init", Node 24),
   * and a chunk being written would be cut off. A worker that does not exit in time is terminated anyway.
   */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w, i) => {
        w.postMessage({ type: 'close' } satisfies ChunkRequest);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS);
        });
        if ((await Promise.race([this.exits[i]!, late])) === 'late') await w.terminate();
        clearTimeout(timer);
      }),
    );
  }
}

/** Tells a worker where a slot lies: a SharedArrayBuffer (the memory's, as it was when the slot was made) and offset. */
function slotMessage(slot: number, view: Uint8Array): ChunkRequest {
  return { type: 'slot', slot, buffer: view.buffer as SharedArrayBuffer, offset: view.byteOffset };
}
