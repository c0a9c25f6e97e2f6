import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buzhashTable } from '../../../core/chunker/buzhash-table.js';
import { Chunker } from '../../../core/chunker/chunker.js';
import { chunkerParams, KiB, MiB } from '../../../core/chunker/chunker-params.js';
import { ReferenceChunker } from '../../../core/chunker/reference-chunker.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';

function cutsInSplits(chunker: { scan(d: Uint8Array): number[] }, data: Buffer, splits: number[]): number[] {
  const cuts: number[] = [];
  let offset = 0;
  for (const end of [...splits, data.length]) {
    for (const c of chunker.scan(data.subarray(offset, end))) cuts.push(offset + c);
    offset = end;
  }
  return cuts;
}

describe('buzhash chunker', () => {
  it('uses a pinned, well-mixed table of our own (changing it breaks dedup with existing stores)', () => {
    const table = buzhashTable();
    expect(new Set(table).size).toBe(256);
    const digest = createHash('sha256').update(Buffer.from(table.buffer)).digest('hex');
    // Pinned on purpose: a changed table silently changes every boundary of every future backup.
    expect(digest).toMatchSnapshot();
    // Each bit position is set in roughly half the entries (a table that is not biased).
    for (let bit = 0; bit < 32; bit++) {
      const ones = table.filter((v) => (v >>> bit) & 1).length;
      expect(ones).toBeGreaterThan(96);
      expect(ones).toBeLessThan(160);
    }
  });

  it('derives PBS parameters and rejects invalid average sizes', () => {
    expect(chunkerParams(4 * MiB)).toEqual({
      avg: 4 * MiB,
      min: MiB,
      max: 16 * MiB,
      mask: 8 * MiB - 1,
      threshold: 8 * MiB - 3,
    });
    for (const bad of [0, 32 * KiB, 100 * KiB, 8 * MiB, 65537])
      expect(() => new Chunker(bad)).toThrow(/invalid chunk size/);
  });

  for (const avg of [64 * KiB, 256 * KiB, MiB, 4 * MiB]) {
    it(`finds exactly the boundaries of the straightforward scan (avg ${avg / KiB} KiB)`, () => {
      const data = Buffer.concat([pseudoRandomBytes(24 * MiB, `eq${avg}`), textBytes(8 * MiB), Buffer.alloc(3 * MiB)]);
      const expected = new ReferenceChunker(avg).scan(data);
      expect(expected.length).toBeGreaterThan(2);
      expect(new Chunker(avg).scan(data)).toEqual(expected);
    });
  }

  it('gives the same boundaries for any split of the input, including tiny and empty pieces', () => {
    const avg = 64 * KiB;
    const data = pseudoRandomBytes(6 * MiB, 'splits');
    const whole = new Chunker(avg).scan(data);
    let x = 12345;
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    for (let round = 0; round < 5; round++) {
      const splits: number[] = [];
      for (let at = 0; at < data.length;) {
        at += [0, 1, 3, 63, 64, 65, 4096, 70000, 5 * MiB][rnd(9)]!;
        if (at < data.length) splits.push(at);
      }
      expect(cutsInSplits(new Chunker(avg), data, splits)).toEqual(whole);
    }
    // Byte-by-byte across the window fill of the second chunk.
    const small = data.subarray(0, 200 * KiB);
    const bytewise = Array.from({ length: small.length - 1 }, (_, i) => i + 1);
    expect(cutsInSplits(new Chunker(avg), small, bytewise)).toEqual(new Chunker(avg).scan(small));
  });

  it('cuts at the hard maximum on zeros and averages near avg on random data', () => {
    const avg = 64 * KiB;
    const zeros = new Chunker(avg).scan(Buffer.alloc(MiB));
    expect(zeros).toEqual([256 * KiB, 512 * KiB, 768 * KiB, MiB]);
    const data = pseudoRandomBytes(64 * MiB, 'avg');
    const cuts = new Chunker(avg).scan(data);
    const sizes = cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
    for (const s of sizes) {
      expect(s).toBeGreaterThanOrEqual(16 * KiB);
      expect(s).toBeLessThanOrEqual(256 * KiB);
    }
    const mean = cuts.at(-1)! / cuts.length;
    expect(mean).toBeGreaterThan(0.8 * avg);
    expect(mean).toBeLessThan(1.1 * avg);
  });

  it('keeps boundaries local: an insertion only changes the chunks around it', () => {
    const avg = 64 * KiB;
    const data = pseudoRandomBytes(8 * MiB, 'insert');
    const edited = Buffer.concat([data.subarray(0, 4 * MiB), Buffer.from('inserted bytes'), data.subarray(4 * MiB)]);
    const chunks = (buf: Buffer) => {
      const cuts = new Chunker(avg).scan(buf);
      return new Set(
        cuts.map((c, i) =>
          createHash('sha256')
            .update(buf.subarray(i === 0 ? 0 : cuts[i - 1], c))
            .digest('hex'),
        ),
      );
    };
    const before = chunks(data);
    const after = chunks(edited);
    const fresh = [...after].filter((h) => !before.has(h)).length;
    expect(fresh).toBeGreaterThanOrEqual(1);
    expect(fresh).toBeLessThanOrEqual(3);
  });

  it('reset() starts a new chunk', () => {
    const data = pseudoRandomBytes(MiB, 'reset');
    const c = new Chunker(64 * KiB);
    c.scan(data.subarray(0, 1000));
    expect(c.pending).toBe(1000);
    c.reset();
    expect(c.pending).toBe(0);
    expect(c.scan(data)).toEqual(new Chunker(64 * KiB).scan(data));
  });
});
