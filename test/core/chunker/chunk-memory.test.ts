import { describe, expect, it } from 'vitest';
import { buzhashTable } from '../../../core/chunker/buzhash-table.js';
import { ChunkMemory } from '../../../core/chunker/chunk-memory.js';
import { Chunker } from '../../../core/chunker/chunker.js';
import { KiB } from '../../../core/chunker/chunker-params.js';
import { pseudoRandomBytes } from '../../support/data.js';

const AVG = 64 * KiB;

/** The cuts of one pass over all of `data` (a chunker of its own memory, copying). */
function onePass(data: Buffer): number[] {
  return new Chunker(AVG).scan(data);
}

describe('chunk memory', () => {
  it('holds the table at its start and hands out regions that do not overlap and stay put as it grows', () => {
    const memory = new ChunkMemory(64 * 1024 * 1024);
    expect(new Uint32Array(memory.buffer, 0, 256)).toEqual(buzhashTable());
    const first = memory.allocate(100_000)!;
    first.bytes.fill(7);
    const regions = Array.from({ length: 5 }, () => memory.allocate(3 * 1024 * 1024)!);
    regions.forEach((r, i) => r.bytes.fill(i + 1));
    // What was written through the first views is what the grown memory holds there.
    expect(new Uint8Array(memory.buffer, first.offset, 100_000).every((b) => b === 7)).toBe(true);
    for (const [i, r] of regions.entries()) {
      expect(r.offset).toBeGreaterThanOrEqual(first.offset + 100_000);
      expect(new Uint8Array(memory.buffer, r.offset, r.bytes.length).every((b) => b === i + 1)).toBe(true);
    }
    expect(memory.allocate(64 * 1024 * 1024)).toBeUndefined();
  });

  it('scanned in place, a chunk built as a stream writer builds it cuts where one pass does, also when copies follow', () => {
    const data = pseudoRandomBytes(3 * 1024 * 1024 + 777, 'chunk-memory');
    const expected = onePass(data);
    expect(expected.length).toBeGreaterThan(20);
    const memory = new ChunkMemory(64 * 1024 * 1024);
    const chunker = new Chunker(AVG, memory);
    const slots = [memory.allocate(4 * AVG)!, memory.allocate(4 * AVG)!];
    let slot = 0;
    let pending = 0; // bytes of the current chunk, at the start of slots[slot]
    const cuts: number[] = [];
    let at = 0;
    for (let piece = 1; at < data.length; piece = (piece * 7919) % 50_000) {
      const n = Math.min(1 + piece, data.length - at, 4 * AVG - pending);
      const region = slots[slot]!;
      // Every third piece by copy, the others where they lie.
      const inPlace = piece % 3 !== 0;
      region.bytes.set(data.subarray(at, at + n), pending);
      const found = inPlace ? chunker.scanInPlace(region.offset + pending, n) : chunker.scan(data.subarray(at, at + n));
      let start = 0;
      for (const cut of found) {
        cuts.push(at + cut);
        start = cut;
      }
      if (found.length > 0) {
        // The bytes after the last cut begin the next chunk, at the start of the other slot.
        slots[1 - slot]!.bytes.set(region.bytes.subarray(pending + start, pending + n), 0);
        slot = 1 - slot;
        pending = n - start;
      } else pending += n;
      at += n;
    }
    expect(cuts).toEqual(expected);
  });

  it('a chunker given a memory without room for it scans in one of its own, cutting as ever', () => {
    const full = new ChunkMemory(2 * 64 * 1024);
    const chunker = new Chunker(AVG, full);
    expect(chunker.memory).not.toBe(full);
    const data = pseudoRandomBytes(1024 * 1024, 'chunk-memory-full');
    expect(chunker.scan(data)).toEqual(onePass(data));
  });
});
