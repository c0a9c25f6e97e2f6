// The remote restore's chunk feed on its own (core/remote/chunk-feed.ts): what it fetches when, with a cache in
// memory in place of the remote's (the feed's scheduling is under test here; remote-restore.test.ts runs it against
// the real gateway). A restore writes files planned out of payload order after its plan, from lower positions than
// its readers had reached: the chunks the readers went by must still come.
import { describe, expect, it } from 'vitest';
import { ChunkGate, ChunkStatus, INACTIVE } from '../../../core/archive/chunk-gate.js';
import type { ChunkIndex } from '../../../core/index/index-format.js';
import { CacheLedger } from '../../../core/remote/cache-ledger.js';
import { RemoteChunkFeed, type FeedCache } from '../../../core/remote/chunk-feed.js';

const CHUNKS = 10;
const SIZE = 100;
const hexOf = (i: number): string => i.toString(16).padStart(64, '0');

/** An index of ten chunks of 100 bytes, chunk i with digest i. */
const index = {
  size: CHUNKS * SIZE,
  chunkCount: CHUNKS,
  digest: (i: number) => Buffer.from(hexOf(i), 'hex'),
  chunkStart: (i: number) => i * SIZE,
  chunkEnd: (i: number) => (i + 1) * SIZE,
  chunkAt: (offset: number) => Math.floor(offset / SIZE),
} as unknown as ChunkIndex;

/** A cache bounded to `maxBytes` that fetches in 5 ms and logs what it fetched and evicted (by chunk number). */
function memoryCache(maxBytes: number): { cache: FeedCache; log: string[] } {
  const have = new Set<string>();
  const log: string[] = [];
  const ledger = new CacheLedger();
  const cache: FeedCache = {
    source: 'remote test',
    objectKey: 'p/.chunks/{hex4}/{hex}',
    maxBytes,
    ledger,
    present: (hex) => have.has(hex),
    fetch: async (hex) => {
      await new Promise((r) => setTimeout(r, 5));
      have.add(hex);
      ledger.add(hex, SIZE);
      log.push(`get ${parseInt(hex, 16)}`);
      return { kind: 'ok' };
    },
    pinned: () => false,
    evict: (hex) => {
      have.delete(hex);
      log.push(`evict ${parseInt(hex, 16)}`);
    },
  };
  return { cache, log };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits up to 2 s for the chunk at `position` to be ready (a reader would wait there). */
async function readyWithin(gate: ChunkGate, position: number): Promise<ChunkStatus> {
  const end = Date.now() + 2000;
  while (gate.status(gate.slotOf(position)) === ChunkStatus.Pending && Date.now() < end) await sleep(20);
  return gate.status(gate.slotOf(position));
}

describe('the remote chunk feed', () => {
  it('fetches a chunk planned behind the readers once a reader comes back for it', async () => {
    const { cache, log } = memoryCache(1e9);
    const feed = new RemoteChunkFeed(cache, index, { parallel: 2 });
    const gate = new ChunkGate(feed.gate);
    gate.enter(1, 0, 0); // a streaming worker, before any batch
    gate.enter(0, INACTIVE);
    feed.add(5 * SIZE, SIZE); // file A, in payload order
    await sleep(50);
    gate.enter(1, 5, 5); // the worker writes A
    feed.add(1 * SIZE, SIZE); // file B, planned after A but lying before it: written after the plan
    await sleep(50);
    feed.seal();
    await sleep(50);
    gate.enter(1, INACTIVE); // the streaming workers are done
    await sleep(100);
    gate.enter(1, 1, 1); // the late files' worker, at B
    expect(await readyWithin(gate, 1)).toBe(ChunkStatus.Ready);
    expect(log).toContain('get 1');
    await feed.close();
  });

  it('fetches again a chunk evicted as unneeded, once a reader comes back for it', async () => {
    const { cache, log } = memoryCache(350); // room for three chunks and a half
    const feed = new RemoteChunkFeed(cache, index, { parallel: 1 });
    const gate = new ChunkGate(feed.gate);
    gate.enter(1, 0, 0);
    gate.enter(0, INACTIVE);
    feed.add(5 * SIZE, 5 * SIZE); // file A: chunks 5 to 9
    feed.add(1 * SIZE, SIZE); // file B: chunk 1, planned after A, written after the plan
    feed.seal();
    await sleep(100);
    for (let p = 5; p <= 9; p++) {
      gate.enter(1, p, p);
      await sleep(60);
    }
    gate.enter(1, INACTIVE);
    await sleep(100);
    gate.enter(1, 1, 1);
    expect(await readyWithin(gate, 1)).toBe(ChunkStatus.Ready);
    expect(log.filter((l) => l === 'get 1').length).toBeGreaterThanOrEqual(1);
    await feed.close();
  });
});
