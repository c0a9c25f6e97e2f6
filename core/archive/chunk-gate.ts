import { CairnError } from '../errors.js';

/**
 * Where a restore gets chunks that are not all in its store yet (a remote's cache, docs/REMOTES.md): the feed
 * is told the reads to come, in order, fetches their chunks ahead of them and keeps them until they are read.
 * The reading threads wait on its gate (shared memory) for each chunk; the restore's own thread holds ranges.
 */
export interface ChunkFeed {
  /** What the reading threads wait on (a worker thread builds a ChunkGate from it). */
  readonly gate: ChunkGateData;
  /** A read of [offset, offset + size) of the data stream will come, after those added before. */
  add(offset: number, size: number): void;
  /** Every read is added: the rest is fetched in the order of first use, and the readers may begin. */
  seal(): void;
  /** On this thread: the chunks of [offset, offset + size) present, and kept until the returned release. */
  hold(offset: number, size: number): Promise<() => void>;
  /** Aborted when fetching failed, with the failure as its reason (the error a restore then reports). */
  readonly signal: AbortSignal;
  /** Stops fetching and waits for what is in flight: nothing is written into the cache after it resolves. */
  close(): Promise<void>;
}

/** What crosses to a worker thread: the shared words, and how a chunk that could not be had is named. */
export interface ChunkGateData {
  buffer: SharedArrayBuffer;
  /** Chunks in the data stream's index (the slot table has one word each). */
  positions: number;
  /** "remote NAME", who is named when a chunk cannot be had. */
  source: string;
  /** The object key of a chunk with its digest as `{hex}` (e.g. `prefix/.chunks/{hex4}/{hex}`). */
  objectKey: string;
}

/** Reading threads of one restore (its own thread is consumer 0). */
export const MAX_CONSUMERS = 16;
/** A consumer that reads nothing (any more). */
export const INACTIVE = 0x7fffffff;

const STATE = 0; // 0 running, 1 stopped (failed or cancelled)
const PROGRESS = 1; // bumped whenever a consumer moves on; the feeder waits on it
const HEADER = 4;
/** Per consumer two words: the first and the last chunk position of the read it is at. */
const SLOTS = HEADER + 2 * MAX_CONSUMERS;

export enum ChunkStatus {
  Pending = 0,
  Ready = 1,
  /** The remote lacks the object. */
  Missing = 2,
  /** The remote's object is not a sound blob (its CRC, its header). */
  Damaged = 3,
}

/** A new gate for a data stream of `positions` chunks: no slots yet, every consumer at the start. */
export function newGateData(positions: number, source: string, objectKey: string): ChunkGateData {
  const buffer = new SharedArrayBuffer(4 * (SLOTS + 2 * positions));
  const words = new Int32Array(buffer);
  words.fill(-1, SLOTS, SLOTS + positions);
  words.fill(INACTIVE, HEADER, SLOTS);
  // Consumer 0 (the restore's thread) holds everything from the start until it says otherwise.
  words[HEADER] = 0;
  words[HEADER + 1] = 0;
  return { buffer, positions, source, objectKey };
}

/**
 * Both sides of the shared words. Chunk positions of the index map to slots (one per distinct chunk of the
 * reads; -1: nothing to wait for); a slot's status says whether its chunk is in the store. Each consumer
 * publishes the chunk positions of the read it is at, moving forward only: it reads nothing before the first,
 * and only chunks of that range until it moves on.
 */
export class ChunkGate {
  private readonly words: Int32Array;

  constructor(readonly data: ChunkGateData) {
    this.words = new Int32Array(data.buffer);
  }

  // ---- the reading side ----

  /** Consumer `c` reads chunks `first` to `last` now, and later only ones after `first` (INACTIVE: it is done). */
  enter(c: number, first: number, last = first): void {
    Atomics.store(this.words, HEADER + 2 * c + 1, last);
    Atomics.store(this.words, HEADER + 2 * c, first);
    Atomics.add(this.words, PROGRESS, 1);
    Atomics.notify(this.words, PROGRESS);
  }

  /**
   * Blocks this (worker) thread until the chunk at `position` is in the store; throws CORRUPT or NOT_FOUND,
   * naming the remote's object, for one that could not be had, and CANCELLED when fetching stopped.
   */
  waitSync(position: number, digestHex: string, stopped: () => boolean): void {
    const slot = this.slotOf(position);
    if (slot < 0) return;
    const at = this.statusIndex(slot);
    for (;;) {
      const status = Atomics.load(this.words, at);
      if (status === ChunkStatus.Ready) return;
      if (status !== ChunkStatus.Pending) throw this.unavailable(status, digestHex);
      if (stopped() || Atomics.load(this.words, STATE) !== 0)
        throw new CairnError('CANCELLED', 'restore cancelled: fetching its chunks stopped');
      Atomics.wait(this.words, at, ChunkStatus.Pending, 100);
    }
  }

  /** The error for a chunk that could not be had. */
  unavailable(status: ChunkStatus, digestHex: string): CairnError {
    const key = this.data.objectKey.replace('{hex4}', digestHex.slice(0, 4)).replace('{hex}', digestHex);
    return status === ChunkStatus.Missing
      ? new CairnError('NOT_FOUND', `${this.data.source} lacks chunk ${digestHex} (${key})`)
      : new CairnError('CORRUPT', `${this.data.source}: chunk ${digestHex} is damaged there (${key})`);
  }

  // ---- the feeding side ----

  slotOf(position: number): number {
    return Atomics.load(this.words, SLOTS + position);
  }

  setSlot(position: number, slot: number): void {
    Atomics.store(this.words, SLOTS + position, slot);
  }

  setStatus(slot: number, status: ChunkStatus): void {
    const at = this.statusIndex(slot);
    Atomics.store(this.words, at, status);
    Atomics.notify(this.words, at);
  }

  status(slot: number): ChunkStatus {
    return Atomics.load(this.words, this.statusIndex(slot)) as ChunkStatus;
  }

  /** Fetching stopped: every waiting reader gives up within its next wait. */
  stop(): void {
    Atomics.store(this.words, STATE, 1);
  }

  /** The reads the consumers are at, lowest first (the active ones). */
  reads(): { first: number; last: number }[] {
    const out: { first: number; last: number }[] = [];
    for (let c = 0; c < MAX_CONSUMERS; c++) {
      const first = Atomics.load(this.words, HEADER + 2 * c);
      if (first !== INACTIVE) out.push({ first, last: Atomics.load(this.words, HEADER + 2 * c + 1) });
    }
    return out.sort((a, b) => a.first - b.first);
  }

  /** Resolves when a consumer moves on, or after `ms`. */
  async progressed(ms: number): Promise<void> {
    const seen = Atomics.load(this.words, PROGRESS);
    const waited = Atomics.waitAsync(this.words, PROGRESS, seen, ms);
    if (waited.async) await waited.value;
  }

  private statusIndex(slot: number): number {
    return SLOTS + this.data.positions + slot;
  }
}
