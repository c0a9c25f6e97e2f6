import { ChunkGate, ChunkStatus, newGateData, type ChunkFeed, type ChunkGateData } from '../archive/chunk-gate.js';
import { ENCRYPTED_HEADER_SIZE } from '../blob/data-blob.js';
import { CairnError } from '../errors.js';
import type { ChunkIndex } from '../index/index-format.js';
import { anySignal } from '../jobs/cancel.js';
import type { Logger } from '../log.js';
import type { CacheLedger } from './cache-ledger.js';

/** What a feed needs of the remote's cache (RemoteCache gives it). */
export interface FeedCache {
  /** "remote NAME", and a chunk's object key with `{hex4}` and `{hex}` in it, for errors. */
  readonly source: string;
  readonly objectKey: string;
  /** The cache bound, in bytes on disk. */
  readonly maxBytes: number;
  readonly ledger: CacheLedger;
  /** The chunk is in the cache and sound (checked once per use of the cache). */
  present(hex: string, length: number): boolean;
  /** Fetches, checks and inserts a chunk; what went wrong with the object itself is an answer, not a throw. */
  fetch(hex: string, signal: AbortSignal): Promise<FetchOutcome>;
  /** A chunk the cache itself keeps for now (a snapshot's metadata stream while it is read). */
  pinned(hex: string): boolean;
  /** Deletes a chunk's file (the ledger is told by the caller). */
  evict(hex: string): void;
}

export type FetchOutcome = { kind: 'ok' } | { kind: 'missing' } | { kind: 'damaged'; message: string };

export interface ChunkFeedOptions {
  /** Requests in flight (default 12). */
  parallel?: number;
  signal?: AbortSignal;
  log?: Logger;
  /** Told the data length of each chunk as it arrives in the cache (or is found there). */
  onReady?: (length: number) => void;
}

export const DEFAULT_FETCH_PARALLEL = 12;

interface Slot {
  readonly hex: string;
  readonly length: number;
  /** The chunk positions of the reads that use it, ascending (none: a hold's, outside the plan). */
  readonly uses: number[];
  state: 'pending' | 'fetching' | 'ready' | 'failed';
  /** Where it waits in the queue: the position it is needed at next (-1: not queued). */
  key: number;
  /** Settles when a fetch ends (it never rejects: a failure of the feed is `failure`). */
  promise?: Promise<void>;
  error?: CairnError;
}

/** A blob on disk is at most its data plus a header; the room a fetch asks for before its size is known. */
const BLOB_OVERHEAD = ENCRYPTED_HEADER_SIZE;
/** How long the feeder waits, at most, before it looks at the readers' progress again. */
const POLL_MS = 50;

/**
 * Fetches the chunks a restore (or a cat) will read into the remote's cache ahead of it, `parallel` at a time,
 * in the order they are needed, each checked and inserted as RemoteCache does, while the cache keeps its bound.
 *
 * Every reader publishes the chunk positions of the read it is at (ChunkGate). To make room for a fetch, the
 * feeder evicts, least recently used first, what no reader will read again; then, if that is not enough, the
 * cached chunks needed farthest ahead (after the chunk to fetch: Belady's rule), which wait to be fetched again
 * before they are needed. Never one in a read a reader is at, one held on this thread, or the metadata stream.
 * When nothing can go, the feeder waits for the readers, but the chunks of the read of the lowest reader (the
 * one every other read waits behind) are fetched in any case: a single file larger than the bound restores, over
 * the bound by that file. A chunk the remote lacks or has damaged fails the reads that need it (they name the
 * object); any other failure (the service, a cancel) stops the feed, and its signal carries the error.
 */
export class RemoteChunkFeed implements ChunkFeed {
  readonly gate: ChunkGateData;
  private readonly shared: ChunkGate;
  private readonly slots: Slot[] = [];
  private readonly byHex = new Map<string, number>();
  /** Slots to fetch, by the position they are needed at (a binary heap of [key, slot]; stale entries skipped). */
  private readonly queue: [number, number][] = [];
  /** Slots whose chunk is in the cache, fetched or found by this feed. */
  private readonly cached = new Set<number>();
  /**
   * Slots the readers went by without them (left the queue, or evicted as unneeded): a reader that comes back
   * to a lower position (a restore's files planned out of payload order, written after the plan) may need them
   * after all, and they are queued again then.
   */
  private readonly parked = new Set<number>();
  /** The lowest reader's position when the loop last looked: a lower one means readers came back. */
  private lowestRead = 0;
  private sealed = false;
  private closed = false;
  private reserved = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly holds = new Map<string, number>();
  private readonly failed = new AbortController();
  private readonly stopping = new AbortController();
  private readonly requestSignal: AbortSignal;
  private wake: (() => void) | undefined;
  private readonly pump: Promise<void>;
  private failure: Error | undefined;
  private readonly parallel: number;
  /** Chunks fetched again after they were evicted for later (a bound smaller than what is read twice apart). */
  refetched = 0;

  constructor(
    private readonly cache: FeedCache,
    private readonly index: ChunkIndex,
    private readonly options: ChunkFeedOptions = {},
  ) {
    this.gate = newGateData(index.chunkCount, cache.source, cache.objectKey);
    this.shared = new ChunkGate(this.gate);
    this.parallel = Math.max(1, options.parallel ?? DEFAULT_FETCH_PARALLEL);
    this.requestSignal = anySignal(options.signal, this.stopping.signal);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted) this.onAbort();
    this.pump = this.run();
  }

  private readonly onAbort = (): void => this.fail(new CairnError('CANCELLED', 'reading from the remote cancelled'));

  get signal(): AbortSignal {
    return this.failed.signal;
  }

  add(offset: number, size: number): void {
    if (size <= 0 || this.sealed) return;
    const last = this.index.chunkAt(offset + size - 1);
    let added = false;
    for (let p = this.index.chunkAt(offset); p <= last; p++) {
      if (this.shared.slotOf(p) >= 0) continue; // the chunk shared with the read before
      const hex = this.index.digest(p).toString('hex');
      let id = this.byHex.get(hex);
      if (id === undefined) id = this.newSlot(hex, this.index.chunkEnd(p) - this.index.chunkStart(p));
      const slot = this.slots[id]!;
      insertSorted(slot.uses, p);
      // Queued by its first use; again if it was evicted (or never queued) and is needed here after all.
      if (slot.state === 'pending' && (slot.key < 0 || p < slot.key)) {
        this.enqueue(id, p);
        added = true;
      }
      this.shared.setSlot(p, id);
    }
    if (added) this.poke();
  }

  seal(): void {
    if (this.sealed) return;
    this.sealed = true;
    // Planned in the order of the tree, which is almost always the order of the stream: queued again by first use.
    this.queue.length = 0;
    for (let id = 0; id < this.slots.length; id++) {
      const slot = this.slots[id]!;
      slot.key = -1;
      if (slot.state === 'pending' && slot.uses.length > 0) this.enqueue(id, slot.uses[0]!);
    }
    this.poke();
  }

  async hold(offset: number, size: number): Promise<() => void> {
    const wanted = new Map<string, number>();
    if (size > 0) {
      const last = this.index.chunkAt(offset + size - 1);
      for (let p = this.index.chunkAt(offset); p <= last; p++)
        wanted.set(this.index.digest(p).toString('hex'), this.index.chunkEnd(p) - this.index.chunkStart(p));
    }
    for (const hex of wanted.keys()) this.holds.set(hex, (this.holds.get(hex) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      for (const hex of wanted.keys()) {
        const n = this.holds.get(hex)! - 1;
        if (n === 0) this.holds.delete(hex);
        else this.holds.set(hex, n);
      }
      this.poke();
    };
    try {
      await Promise.all([...wanted].map(([hex, length]) => this.ensure(hex, length)));
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  async close(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.closed = true;
    this.shared.stop();
    this.stopping.abort();
    this.poke();
    await this.pump;
    await Promise.all(this.running);
  }

  // ---- the queue ----

  private newSlot(hex: string, length: number): number {
    const id = this.slots.length;
    this.slots.push({ hex, length, uses: [], state: 'pending', key: -1 });
    this.byHex.set(hex, id);
    return id;
  }

  private enqueue(id: number, key: number): void {
    this.slots[id]!.key = key;
    const q = this.queue;
    q.push([key, id]);
    for (let i = q.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (q[up]![0] <= q[i]![0]) break;
      [q[up], q[i]] = [q[i]!, q[up]!];
      i = up;
    }
  }

  /** The slot to fetch next (its queue entry stays until `dequeue`), or undefined. */
  private peek(): number | undefined {
    for (;;) {
      const top = this.queue[0];
      if (!top) return undefined;
      const slot = this.slots[top[1]]!;
      if (slot.state === 'pending' && slot.key === top[0]) return top[1];
      this.dequeue(); // fetched meanwhile (by a hold), or queued again with another key
    }
  }

  private dequeue(): void {
    const q = this.queue;
    const last = q.pop()!;
    if (q.length === 0) return;
    q[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < q.length && q[l]![0] < q[m]![0]) m = l;
      if (r < q.length && q[r]![0] < q[m]![0]) m = r;
      if (m === i) break;
      [q[m], q[i]] = [q[i]!, q[m]!];
      i = m;
    }
  }

  // ---- fetching ----

  private async run(): Promise<void> {
    let checkedSince = performance.now();
    while (!this.closed && !this.failure) {
      this.requeueIfReadersCameBack();
      const id = this.peek();
      if (id === undefined) {
        await this.changed(this.parked.size > 0 ? POLL_MS : undefined);
        continue;
      }
      const slot = this.slots[id]!;
      if (this.cache.present(slot.hex, slot.length)) {
        this.take(id);
        this.ready(id);
        // Finding a warm cache's chunks reads each: a turn of the event loop now and then, for a cancel.
        if (performance.now() - checkedSince > 50) {
          await new Promise((r) => setImmediate(r));
          checkedSince = performance.now();
        }
        continue;
      }
      if (this.running.size >= this.parallel) {
        await this.changed();
        continue;
      }
      const reads = this.shared.reads();
      if (reads.length === 0) {
        // No reader (between a restore's phases, or all done): nothing of the plan is needed now.
        await this.changed(POLL_MS);
        continue;
      }
      // Reads that went by without it (files kept, not overwritten) leave it needed later, or not at all.
      const next = nextUse(slot, reads[0]!.first);
      if (next !== slot.key) {
        this.take(id);
        if (next !== Infinity) this.enqueue(id, next);
        else this.parked.add(id);
        continue;
      }
      const need = slot.length + BLOB_OVERHEAD;
      if (!this.makeRoom(need, slot.key, reads) && slot.key > reads[0]!.last) {
        await this.changed(POLL_MS);
        continue;
      }
      this.take(id);
      this.start(id, need);
    }
  }

  /** Queues the parked slots a reader will read again, when the lowest reader is below where it was. */
  private requeueIfReadersCameBack(): void {
    const reads = this.shared.reads();
    if (reads.length === 0) return;
    const low = reads[0]!.first;
    const cameBack = low < this.lowestRead;
    this.lowestRead = low;
    if (!cameBack || this.parked.size === 0) return;
    for (const id of this.parked) {
      const slot = this.slots[id]!;
      const next = slot.state === 'pending' ? nextUse(slot, low) : undefined;
      if (next === Infinity) continue; // not read again from here either: stays parked
      this.parked.delete(id);
      if (next !== undefined) this.enqueue(id, next);
    }
  }

  /** The slot at the top of the queue leaves it. */
  private take(id: number): void {
    this.dequeue();
    this.slots[id]!.key = -1;
  }

  /** Evicts until `need` more bytes fit within the bound, for a chunk needed at `key`; true when they do. */
  private makeRoom(need: number, key: number, reads: { first: number; last: number }[]): boolean {
    const limit = this.cache.maxBytes - this.reserved - need;
    const ledger = this.cache.ledger;
    if (ledger.bytes <= limit) return true;
    const low = reads[0]!.first;
    if (
      ledger.evictTo(
        limit,
        (hex) => this.unneeded(hex, low),
        (hex) => this.evict(hex),
      )
    )
      return true;
    // Belady: what is needed farthest ahead goes first, if that is after `key`.
    const later: [number, number][] = [];
    for (const id of this.cached) {
      const slot = this.slots[id]!;
      if (this.holds.has(slot.hex) || this.cache.pinned(slot.hex) || inReads(slot, reads)) continue;
      const next = nextUse(slot, low);
      if (next > key) later.push([next, id]);
    }
    later.sort((a, b) => b[0] - a[0]);
    for (const [, id] of later) {
      if (ledger.bytes <= limit) break;
      this.evictForLater(id, low);
    }
    return ledger.bytes <= limit;
  }

  /** No reader will read it again (nor did the plan ask for it), and nothing here keeps it. */
  private unneeded(hex: string, low: number): boolean {
    if (this.cache.pinned(hex) || this.holds.has(hex)) return false;
    const id = this.byHex.get(hex);
    if (id === undefined) return true;
    const slot = this.slots[id]!;
    return slot.state !== 'fetching' && nextUse(slot, low) === Infinity;
  }

  private evict(hex: string): void {
    this.cache.evict(hex);
    const id = this.byHex.get(hex);
    if (id === undefined) return;
    this.cached.delete(id);
    // Read by no one any more (as planned so far): should a read planned later, or a hold, want it after all,
    // it is fetched again, and a reader waits for that.
    if (this.slots[id]!.state === 'ready') {
      this.slots[id]!.state = 'pending';
      this.shared.setStatus(id, ChunkStatus.Pending);
      this.parked.add(id);
    }
  }

  /**
   * Evicts a chunk that is needed again later and queues it for then. Its status goes back to pending first,
   * and only then are the readers' reads looked at again: a reader that moved onto it meanwhile either sees it
   * pending (and waits for it) or is seen here (and it stays). Both sides use sequentially consistent atomics.
   */
  private evictForLater(id: number, low: number): void {
    const slot = this.slots[id]!;
    this.shared.setStatus(id, ChunkStatus.Pending);
    if (inReads(slot, this.shared.reads())) {
      this.shared.setStatus(id, ChunkStatus.Ready);
      return;
    }
    this.cache.evict(slot.hex);
    this.cache.ledger.remove(slot.hex);
    this.cached.delete(id);
    slot.state = 'pending';
    this.refetched++;
    this.enqueue(id, nextUse(slot, low));
  }

  private start(id: number, need: number): void {
    const slot = this.slots[id]!;
    slot.state = 'fetching';
    slot.key = -1; // out of the queue (an entry a hold left there is passed over)
    this.reserved += need;
    const fetching: Promise<void> = this.cache
      .fetch(slot.hex, this.requestSignal)
      .then((outcome) => {
        if (outcome.kind === 'ok') return this.ready(id);
        const status = outcome.kind === 'missing' ? ChunkStatus.Missing : ChunkStatus.Damaged;
        slot.state = 'failed';
        slot.error = this.shared.unavailable(status, slot.hex);
        this.options.log?.warn(outcome.kind === 'damaged' ? outcome.message : slot.error.message);
        this.shared.setStatus(id, status);
      })
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.reserved -= need;
        this.running.delete(fetching);
        this.poke();
      });
    slot.promise = fetching;
    this.running.add(fetching);
  }

  private ready(id: number): void {
    const slot = this.slots[id]!;
    slot.state = 'ready';
    this.cached.add(id);
    this.shared.setStatus(id, ChunkStatus.Ready);
    this.options.onReady?.(slot.length);
  }

  /** The chunk present for a hold: found, fetched by the plan, or fetched now (over the bound: it is read now). */
  private async ensure(hex: string, length: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      let id = this.byHex.get(hex);
      if (id === undefined) id = this.newSlot(hex, length);
      const slot = this.slots[id]!;
      if (slot.state === 'failed') throw slot.error!;
      if (slot.state === 'ready' && this.cache.ledger.has(hex)) return;
      if (slot.state !== 'fetching') {
        if (this.cache.present(hex, length)) {
          this.ready(id);
          return;
        }
        if (this.closed) throw new CairnError('CANCELLED', 'reading from the remote stopped');
        this.start(id, length + BLOB_OVERHEAD);
      }
      await slot.promise;
    }
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    const error =
      this.closed && !this.options.signal?.aborted
        ? new CairnError('CANCELLED', 'reading from the remote stopped')
        : err instanceof Error
          ? err
          : new Error(String(err));
    this.failure = error;
    if (!this.closed) this.failed.abort(error);
    this.shared.stop();
    this.stopping.abort();
    this.poke();
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when something here changed, or (with `ms`) a reader moved on or `ms` passed. */
  private changed(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) void this.shared.progressed(ms).then(() => resolve());
    });
  }
}

/** The first position at or after `from` where the slot's chunk is read (Infinity: none). */
function nextUse(slot: Slot, from: number): number {
  const uses = slot.uses;
  let lo = 0;
  let hi = uses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (uses[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < uses.length ? uses[lo]! : Infinity;
}

/** Whether a reader is at a read that has the slot's chunk. */
function inReads(slot: Slot, reads: readonly { first: number; last: number }[]): boolean {
  return reads.some((r) => nextUse(slot, r.first) <= r.last);
}

function insertSorted(list: number[], n: number): void {
  if (list.length === 0 || list[list.length - 1]! < n) {
    list.push(n);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < n) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== n) list.splice(lo, 0, n);
}
