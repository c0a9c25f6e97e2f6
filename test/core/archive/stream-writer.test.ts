import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveStreamWriter } from '../../../core/archive/stream-writer.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { openChunkTarget } from '../../../core/chunk-store/chunk-target.js';
import { Chunker } from '../../../core/chunker/chunker.js';
import { chunkerParams } from '../../../core/chunker/chunker-params.js';
import { DynamicIndexReader, DynamicIndexWriter } from '../../../core/index/dynamic-index.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { useTempDirs } from '../../support/temp.js';

const AVG = 64 * 1024;

/** The chunks [start, end) of one pass of the chunker over all of `data`. */
function chunkerCuts(data: Buffer): [number, number][] {
  const cuts = [0, ...new Chunker(AVG).scan(data)];
  if (cuts.at(-1) !== data.length) cuts.push(data.length);
  return cuts.slice(1).map((end, i) => [cuts[i]!, end]);
}

/** Pieces of 1 byte to a few chunks' worth, the same every run. */
function pieceSizes(total: number, seed: number): number[] {
  const sizes: number[] = [];
  let x = seed;
  for (let left = total; left > 0;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const size = Math.min(left, x % 7 === 0 ? 1 + (x % 17) : 1 + (x % (5 * AVG)));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

describe('ArchiveStreamWriter', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();
  const data = pseudoRandomBytes(2 * 1024 * 1024 + 12_345, 'stream-writer');

  for (const workers of [0, 2]) {
    it(`cuts where one pass of the chunker does, whether bytes are written or read into its space (${workers} chunk writers)`, async () => {
      const expected = chunkerCuts(data);
      expect(expected.length).toBeGreaterThan(10);
      for (const mode of ['write', 'space'] as const) {
        const path = join(scratch(`stream-${mode}-${workers}`), 'stream.didx');
        const index = new DynamicIndexWriter(path);
        const target = openChunkTarget(ctx.store.chunks, ctx.store.chunkCodec(), chunkerParams(AVG).max, workers);
        const writer = new ArchiveStreamWriter(index, target, AVG);
        let at = 0;
        for (const size of pieceSizes(data.length, mode === 'write' ? 7 : 11)) {
          if (mode === 'write') writer.write(data.subarray(at, at + size));
          else {
            // As a file is read: into the room given, which may be less than asked for.
            for (let left = size; left > 0;) {
              const room = writer.space(left);
              expect(room.length).toBeGreaterThan(0);
              room.set(data.subarray(at + size - left, at + size - left + room.length));
              writer.commit(room.length);
              left -= room.length;
            }
          }
          at += size;
          await writer.drain(4);
        }
        await writer.finish();
        await target.close();
        index.close();
        const read = new DynamicIndexReader(path);
        const got: [number, number][] = [];
        for (let i = 0; i < read.chunkCount; i++) {
          got.push([read.chunkStart(i), read.chunkEnd(i)]);
          const [start, end] = got.at(-1)!;
          expect(read.digest(i).equals(sha256(data.subarray(start, end))), `${mode}: chunk ${i}`).toBe(true);
        }
        expect(got, mode).toEqual(expected);
      }
    });
  }
});
