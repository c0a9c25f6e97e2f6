import { createHash } from 'node:crypto';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { DYNAMIC_INDEX_MAGIC, FIXED_INDEX_MAGIC } from '../../../core/blob/magic.js';
import { ChunkStore } from '../../../core/chunk-store/chunk-store.js';
import type { CairnErrorCode } from '../../../core/errors.js';
import { DYNAMIC_ENTRY_SIZE, DynamicIndexReader, DynamicIndexWriter } from '../../../core/index/dynamic-index.js';
import { FixedIndexReader, FixedIndexWriter } from '../../../core/index/fixed-index.js';
import { CSUM_OFFSET, INDEX_HEADER_SIZE, indexTmpPath, type ChunkIndex } from '../../../core/index/index-format.js';
import { openIndex, readIndexRange } from '../../../core/index/index-reader.js';
import type { ChunkSource } from '../../../core/chunk-store/chunk-source.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { expectCairnError } from '../../support/errors.js';
import { tempDir, storeTempRoot, useTempDirs } from '../../support/temp.js';

const KiB = 1024;
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const HELLO = sha256('hello');
const WORLD = sha256('world');

/** Flips the bits of `mask` in byte `at` (negative: from the end). */
function flip(buf: Buffer, at: number, mask = 0x01): void {
  const i = at < 0 ? buf.length + at : at;
  buf.writeUInt8(buf.readUInt8(i) ^ mask, i);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A small deterministic PRNG, so failures reproduce. */
function lcg(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** Checks that the reader rejects the file, names it, and leaves it exactly as it was. */
function expectRejected(
  path: string,
  message: RegExp,
  code: CairnErrorCode = 'CORRUPT',
  open: (p: string) => unknown = openIndex,
): void {
  const before = readFileSync(path);
  const mtime = statSync(path).mtimeMs;
  const err = expectCairnError(() => open(path), code, message);
  expect(err.message).toContain(path);
  expect(existsSync(path)).toBe(true);
  expect(readFileSync(path).equals(before)).toBe(true);
  expect(statSync(path).mtimeMs).toBe(mtime);
}

/** Checks chunkStart/chunkEnd of every chunk and chunkAt at the first and last byte of each. */
function expectBoundaries(index: ChunkIndex, starts: number[], size: number): void {
  expect(index.chunkCount).toBe(starts.length);
  expect(index.size).toBe(size);
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]! : size;
    if (
      index.chunkStart(i) !== start ||
      index.chunkEnd(i) !== end ||
      index.chunkAt(start) !== i ||
      index.chunkAt(end - 1) !== i
    ) {
      throw new Error(
        `chunk ${i}: expected [${start}, ${end}), got [${index.chunkStart(i)}, ${index.chunkEnd(i)}), ` +
          `chunkAt(first) ${index.chunkAt(start)}, chunkAt(last) ${index.chunkAt(end - 1)}`,
      );
    }
  }
}

function expectOutOfRange(index: ChunkIndex): void {
  expect(() => index.chunkAt(-1)).toThrow(RangeError);
  expect(() => index.chunkAt(index.size)).toThrow(RangeError);
  for (const i of [-1, index.chunkCount, 0.5]) {
    expect(() => index.digest(i)).toThrow(RangeError);
    expect(() => index.chunkStart(i)).toThrow(RangeError);
    expect(() => index.chunkEnd(i)).toThrow(RangeError);
  }
}

/** The two files of spec A.2, written by our writers. */
function writeSpecDidx(path: string): void {
  const w = new DynamicIndexWriter(path);
  w.add(5, HELLO);
  w.add(5, WORLD);
  w.close();
}

function writeSpecFidx(path: string): void {
  const w = new FixedIndexWriter(path, 64 * KiB);
  w.set(0, 64 * KiB, HELLO);
  w.set(64 * KiB, 10, WORLD);
  w.close();
}

/** Rewrites the header csum so a crafted entry area passes the checksum check. */
function withCsum(file: Buffer): Buffer {
  sha256(file.subarray(INDEX_HEADER_SIZE)).copy(file, CSUM_OFFSET);
  return file;
}

/**
 * Where the chunk store lives. Creating one is 65,536 mkdirs: on this VM's ext4 /tmp that takes ~11 s (and
 * ~5 s to remove), on a tmpfs well under a second. The code paths are the same, so prefer /dev/shm.
 */

describe('index test vectors and layout (spec 3, Appendix A.2)', () => {
  const tmp = useTempDirs();

  it('writes the spec .didx: csum, header fields, 40-byte entries', () => {
    const dir = tmp();
    const path = join(dir, 'root.pxar.didx');
    const t0 = Math.floor(Date.now() / 1000);
    const w = new DynamicIndexWriter(path);
    w.add(5, HELLO);
    w.add(5, WORLD);
    expect(w.size).toBe(10);
    expect(w.chunkCount).toBe(2);
    const result = w.close();
    const t1 = Math.floor(Date.now() / 1000);
    const csum = 'a7115ea7ed919f362f64caaa040a994964c1ed6f1d2183ab2af5b96ab3f77793';
    expect(result.csum.toString('hex')).toBe(csum);
    expect(result.size).toBe(10);
    expect(result.chunkCount).toBe(2);

    const file = readFileSync(path);
    expect(file.length).toBe(4096 + 2 * 40);
    expect(file.subarray(0, 8).toString('hex')).toBe('1c914ea519bab3cd');
    expect(file.subarray(8, 24).equals(Buffer.alloc(16))).toBe(false); // a uuid
    const ctime = Number(file.readBigInt64LE(24));
    expect(ctime).toBeGreaterThanOrEqual(t0);
    expect(ctime).toBeLessThanOrEqual(t1);
    expect(file.subarray(32, 64).toString('hex')).toBe(csum);
    expect(file.subarray(64, 4096).equals(Buffer.alloc(4096 - 64))).toBe(true);
    expect(file.subarray(4096)).toEqual(Buffer.concat([u64(5), HELLO, u64(10), WORLD]));
    expect(sha256(file.subarray(4096)).toString('hex')).toBe(csum);

    const r = new DynamicIndexReader(path);
    expect(r.kind).toBe('dynamic');
    expect(r.csum.toString('hex')).toBe(csum);
    expect(r.ctime).toBe(ctime);
    expect(r.digest(0)).toEqual(HELLO);
    expect(r.digest(1)).toEqual(WORLD);
    expectBoundaries(r, [0, 5], 10);
    expectOutOfRange(r);

    // Every index gets its own uuid.
    writeSpecDidx(join(dir, 'other.didx'));
    expect(readFileSync(join(dir, 'other.didx')).subarray(8, 24)).not.toEqual(file.subarray(8, 24));
  });

  it('writes the spec .fidx: csum over the digests only, size and chunk size in the header', () => {
    const path = join(tmp(), 'drive-scsi0.img.fidx');
    const t0 = Math.floor(Date.now() / 1000);
    const w = new FixedIndexWriter(path, 64 * KiB);
    // Out of order: the short last chunk first.
    w.set(64 * KiB, 10, WORLD);
    w.set(0, 64 * KiB, HELLO);
    const result = w.close();
    const csum = '7305db9b2abccd706c256db3d97e5ff48d677cfe4d3a5904afb7da0e3950e1e2';
    expect(result).toEqual({ csum: Buffer.from(csum, 'hex'), size: 65546, chunkCount: 2 });

    const file = readFileSync(path);
    expect(file.length).toBe(4096 + 2 * 32);
    expect(file.subarray(0, 8).toString('hex')).toBe('2f7f41ed91fd0fcd');
    expect(file.subarray(8, 24).equals(Buffer.alloc(16))).toBe(false);
    const ctime = Number(file.readBigInt64LE(24));
    expect(ctime).toBeGreaterThanOrEqual(t0);
    expect(ctime).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(file.subarray(32, 64).toString('hex')).toBe(csum);
    expect(file.readBigUInt64LE(64)).toBe(65546n);
    expect(file.readBigUInt64LE(72)).toBe(65536n);
    expect(file.subarray(80, 4096).equals(Buffer.alloc(4096 - 80))).toBe(true);
    expect(file.subarray(4096)).toEqual(Buffer.concat([HELLO, WORLD]));

    const r = new FixedIndexReader(path);
    expect(r.kind).toBe('fixed');
    expect(r.chunkSize).toBe(65536);
    expect(r.csum.toString('hex')).toBe(csum);
    expect(r.ctime).toBe(ctime);
    expect(r.digest(0)).toEqual(HELLO);
    expect(r.digest(1)).toEqual(WORLD);
    expectBoundaries(r, [0, 65536], 65546);
    expectOutOfRange(r);
  });

  it('indexes with no chunks are valid and empty', () => {
    const dir = tmp();
    const d = new DynamicIndexWriter(join(dir, 'empty.didx')).close();
    const f = new FixedIndexWriter(join(dir, 'empty.fidx'), 64 * KiB).close();
    for (const [result, name] of [
      [d, 'empty.didx'],
      [f, 'empty.fidx'],
    ] as const) {
      expect(result).toEqual({ csum: sha256(''), size: 0, chunkCount: 0 });
      expect(statSync(join(dir, name)).size).toBe(4096);
      const r = openIndex(join(dir, name));
      expect(r.size).toBe(0);
      expect(r.chunkCount).toBe(0);
      expect(() => r.chunkAt(0)).toThrow(RangeError);
    }
  });
});

describe('index writers', () => {
  const tmp = useTempDirs();

  it('DynamicIndexWriter writes <name>.tmp_didx and renames it at close; abort removes the tmp', () => {
    const dir = tmp();
    const path = join(dir, 'root.pxar.didx');
    const tmpPath = join(dir, 'root.pxar.tmp_didx');
    expect(indexTmpPath(path, 'didx')).toBe(tmpPath);
    const w = new DynamicIndexWriter(path);
    expect(readdirSync(dir)).toEqual(['root.pxar.tmp_didx']);
    expect(readFileSync(tmpPath).subarray(0, 8)).toEqual(DYNAMIC_INDEX_MAGIC);
    w.add(100, HELLO);
    expect(existsSync(path)).toBe(false);
    w.close();
    expect(readdirSync(dir)).toEqual(['root.pxar.didx']);
    expect(() => w.add(1, HELLO)).toThrow(/closed/);

    const aborted = new DynamicIndexWriter(join(dir, 'catalog.pcat1.didx'));
    aborted.add(10, WORLD);
    expect(existsSync(join(dir, 'catalog.pcat1.tmp_didx'))).toBe(true);
    aborted.abort();
    expect(readdirSync(dir)).toEqual(['root.pxar.didx']);
    expect(() => aborted.close()).toThrow(/closed/);
  });

  it('FixedIndexWriter publishes nothing before close, then only the final name', () => {
    const dir = tmp();
    const path = join(dir, 'disk.img.fidx');
    expect(indexTmpPath(path, 'fidx')).toBe(join(dir, 'disk.img.tmp_fidx'));
    const w = new FixedIndexWriter(path, 64 * KiB);
    w.set(0, 64 * KiB, HELLO);
    expect(readdirSync(dir)).toEqual([]);
    w.close();
    expect(readdirSync(dir)).toEqual(['disk.img.fidx']);
    expect(() => w.set(64 * KiB, 1, WORLD)).toThrow(/closed/);
    expect(() => w.close()).toThrow(/closed/);

    const aborted = new FixedIndexWriter(join(dir, 'other.img.fidx'), 64 * KiB);
    aborted.set(0, 100, HELLO);
    aborted.abort();
    expect(() => aborted.close()).toThrow(/closed/);
    expect(readdirSync(dir)).toEqual(['disk.img.fidx']);
  });

  it('FixedIndexWriter writes its <name>.tmp_fidx afresh, never through what is there, and leaves nothing when it fails', () => {
    const dir = tmp();
    const outside = join(tmp(), 'victim');
    writeFileSync(outside, 'not an index');
    // Something planted at the tmp name: the writer does not follow it, and says it could not publish the index.
    symlinkSync(outside, join(dir, 'disk.img.tmp_fidx'));
    const planted = new FixedIndexWriter(join(dir, 'disk.img.fidx'), 64 * KiB);
    planted.set(0, 100, HELLO);
    expectCairnError(() => planted.close(), 'IO', /^cannot publish index .*disk\.img\.fidx: /);
    expect(readFileSync(outside, 'utf8')).toBe('not an index');
    expect(readdirSync(dir)).toEqual([]);

    const gone = join(tmp(), 'gone');
    const orphan = new FixedIndexWriter(join(gone, 'disk.img.fidx'), 64 * KiB);
    orphan.set(0, 100, HELLO);
    expectCairnError(() => orphan.close(), 'NOT_FOUND', /^cannot publish index .*gone\/disk\.img\.fidx: /);
  });

  it('writers refuse file names without the right extension and invalid arguments', () => {
    const dir = tmp();
    expectCairnError(() => new DynamicIndexWriter(join(dir, 'root.pxar')), 'INVALID_NAME', /must end in \.didx/);
    expectCairnError(
      () => new FixedIndexWriter(join(dir, 'disk.didx'), 64 * KiB),
      'INVALID_NAME',
      /must end in \.fidx/,
    );
    expect(readdirSync(dir)).toEqual([]);
    for (const size of [0, 1000, 3 * 64 * KiB, 32 * KiB, 8192 * KiB]) {
      expectCairnError(() => new FixedIndexWriter(join(dir, 'x.fidx'), size), 'INVALID_ARGUMENT', /invalid chunk size/);
    }
    const w = new DynamicIndexWriter(join(dir, 'x.didx'));
    for (const length of [0, -1, 1.5])
      expectCairnError(() => w.add(length, HELLO), 'INVALID_ARGUMENT', /must be positive/);
    expectCairnError(() => w.add(10, HELLO.subarray(0, 31)), 'INVALID_ARGUMENT', /32 bytes/);
    expect(w.size).toBe(0);
    w.add(10, HELLO);
    expect(w.close()).toEqual({ csum: sha256(Buffer.concat([u64(10), HELLO])), size: 10, chunkCount: 1 });
  });

  it('DynamicIndexWriter buffers tens of thousands of entries; the reader finds every chunk boundary', () => {
    const path = join(tmp(), 'big.didx');
    const rnd = lcg(42);
    const w = new DynamicIndexWriter(path);
    const starts: number[] = [];
    const digests: Buffer[] = [];
    let size = 0;
    // 60,000 entries are 2.4 MB: more than two flushes of the 1 MiB buffer.
    for (let i = 0; i < 60_000; i++) {
      const length = i % 97 === 0 ? 1 : 1 + rnd(4000);
      const digest = sha256(`chunk ${i}`);
      starts.push(size);
      digests.push(digest);
      w.add(length, digest);
      size += length;
    }
    const result = w.close();
    const file = readFileSync(path);
    expect(file.length).toBe(4096 + 60_000 * DYNAMIC_ENTRY_SIZE);
    expect(result.csum).toEqual(sha256(file.subarray(4096)));
    expect(result.size).toBe(size);

    const r = new DynamicIndexReader(path);
    expectBoundaries(r, starts, size);
    for (let i = 0; i < digests.length; i++)
      if (!r.digest(i).equals(digests[i]!)) throw new Error(`digest ${i} differs`);
    expectOutOfRange(r);
  });

  it('FixedIndexWriter accepts chunks in any order, growing past its initial capacity', () => {
    const path = join(tmp(), 'vm.img.fidx');
    const chunkSize = 64 * KiB;
    const count = 300;
    const size = (count - 1) * chunkSize + 12345;
    const order = Array.from({ length: count }, (_, i) => i);
    const rnd = lcg(7);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rnd(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const w = new FixedIndexWriter(path, chunkSize);
    for (const i of order) w.set(i * chunkSize, i === count - 1 ? 12345 : chunkSize, sha256(`block ${i}`));
    // Setting a chunk again overwrites it (incremental backups rewrite changed blocks).
    w.set(5 * chunkSize, chunkSize, sha256('block 5 changed'));
    expect(w.close()).toMatchObject({ size, chunkCount: count });
    const r = new FixedIndexReader(path);
    expectBoundaries(
      r,
      Array.from({ length: count }, (_, i) => i * chunkSize),
      size,
    );
    for (let i = 0; i < count; i++) expect(r.digest(i)).toEqual(sha256(i === 5 ? 'block 5 changed' : `block ${i}`));
    expect(statSync(path).size).toBe(4096 + 32 * count);
  });

  it('FixedIndexWriter rejects misaligned, oversized and short-not-last chunks, and gaps', () => {
    const dir = tmp();
    const cs = 64 * KiB;
    const w = new FixedIndexWriter(join(dir, 'a.fidx'), cs);
    expectCairnError(() => w.set(100, cs, HELLO), 'INVALID_ARGUMENT', /offset 100 is not aligned to 65536/);
    expectCairnError(() => w.set(0, 0, HELLO), 'INVALID_ARGUMENT', /length 0 out of range/);
    expectCairnError(() => w.set(0, cs + 1, HELLO), 'INVALID_ARGUMENT', /length 65537 out of range/);
    expectCairnError(() => w.set(0, 10, HELLO.subarray(1)), 'INVALID_ARGUMENT', /32 bytes/);
    // Offsets before 0 (even aligned ones) or not whole numbers, and fractional lengths: a clear error, not a RangeError.
    for (const offset of [-cs, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expectCairnError(() => w.set(offset, cs, HELLO), 'INVALID_ARGUMENT', /is not a whole number of bytes from 0 up/);
    }
    expectCairnError(() => w.set(0, 10.5, HELLO), 'INVALID_ARGUMENT', /length 10.5 out of range/);
    // The rejected calls left no trace: a full first chunk and a short last one still work.
    w.set(0, cs, HELLO);
    w.set(cs, 10, WORLD);
    expect(w.close()).toMatchObject({ size: cs + 10, chunkCount: 2 });

    // A short chunk, then anything after it.
    const b = new FixedIndexWriter(join(dir, 'b.fidx'), cs);
    b.set(0, 10, HELLO);
    expectCairnError(() => b.set(cs, cs, WORLD), 'INVALID_ARGUMENT', /beyond the short last chunk/);
    expectCairnError(() => b.set(cs, 10, WORLD), 'INVALID_ARGUMENT', /only the last chunk may be short/);

    // Out of order: a full chunk first, then a short one before it.
    const c = new FixedIndexWriter(join(dir, 'c.fidx'), cs);
    c.set(2 * cs, cs, WORLD);
    c.set(cs, cs, WORLD);
    expectCairnError(() => c.set(0, 10, HELLO), 'INVALID_ARGUMENT', /only the last chunk may be short/);
    expectCairnError(() => c.set(cs, 10, HELLO), 'INVALID_ARGUMENT', /only the last chunk may be short/);
    c.set(0, cs, HELLO);
    expect(c.close()).toMatchObject({ size: 3 * cs, chunkCount: 3 });

    const gap = new FixedIndexWriter(join(dir, 'gap.fidx'), cs);
    gap.set(0, cs, HELLO);
    gap.set(2 * cs, 5, WORLD);
    expectCairnError(() => gap.close(), 'INVALID_ARGUMENT', /gaps/);
    expect(readdirSync(dir).sort()).toEqual(['a.fidx', 'c.fidx']);
  });
});

describe('index readers reject bad files (and leave them alone)', () => {
  const tmp = useTempDirs();

  /** A copy of the spec .didx and .fidx, to damage. */
  function specFiles() {
    const dir = tmp();
    const didx = join(dir, 'root.pxar.didx');
    const fidx = join(dir, 'disk.img.fidx');
    writeSpecDidx(didx);
    writeSpecFidx(fidx);
    return { dir, didx, fidx, didxBytes: readFileSync(didx), fidxBytes: readFileSync(fidx) };
  }

  it('reads good files without changing them', () => {
    const { didx, fidx, didxBytes, fidxBytes } = specFiles();
    const before = [statSync(didx).mtimeMs, statSync(fidx).mtimeMs];
    expect(openIndex(didx)).toBeInstanceOf(DynamicIndexReader);
    expect(openIndex(fidx)).toBeInstanceOf(FixedIndexReader);
    expect(readFileSync(didx)).toEqual(didxBytes);
    expect(readFileSync(fidx)).toEqual(fidxBytes);
    expect([statSync(didx).mtimeMs, statSync(fidx).mtimeMs]).toEqual(before);
  });

  it('wrong magic', () => {
    const { dir, didx, fidx, didxBytes, fidxBytes } = specFiles();
    writeFileSync(didx, Buffer.concat([Buffer.from('notmagic'), didxBytes.subarray(8)]));
    expectRejected(
      didx,
      new RegExp(`^${escape(didx)}: not a dynamic index \\(\\.didx\\) \\(wrong magic 6e6f746d61676963\\)`),
    );
    flip(fidxBytes, 7, 1);
    writeFileSync(fidx, fidxBytes);
    expectRejected(fidx, /not a fixed index \(\.fidx\) \(wrong magic 2f7f41ed91fd0fcc\)/);
    // A valid index of the other kind under the wrong extension.
    const swapped = join(dir, 'swapped.fidx');
    writeSpecDidx(join(dir, 'swapped.didx'));
    renameSync(join(dir, 'swapped.didx'), swapped);
    expectRejected(swapped, /not a fixed index \(\.fidx\) \(wrong magic 1c914ea519bab3cd\)/);
    const real = join(dir, 'real.fidx');
    writeSpecFidx(real);
    expectRejected(
      real,
      /not a dynamic index \(\.didx\) \(wrong magic 2f7f41ed91fd0fcd\)/,
      'CORRUPT',
      (p) => new DynamicIndexReader(p),
    );
    expect(readFileSync(real).subarray(0, 8)).toEqual(FIXED_INDEX_MAGIC);
  });

  it('file shorter than the 4096-byte header', () => {
    const { didx, fidx, didxBytes, fidxBytes } = specFiles();
    for (const length of [0, 8, 4095]) {
      writeFileSync(didx, didxBytes.subarray(0, length));
      expectRejected(
        didx,
        new RegExp(
          `^${escape(didx)}: truncated dynamic index \\(\\.didx\\) \\(${length} bytes, the header alone is 4096\\)`,
        ),
      );
      writeFileSync(fidx, fidxBytes.subarray(0, length));
      expectRejected(fidx, new RegExp(`truncated fixed index \\(\\.fidx\\) \\(${length} bytes`));
    }
  });

  it('.didx entry area not a multiple of 40', () => {
    const { didx, didxBytes } = specFiles();
    for (const file of [
      didxBytes.subarray(0, didxBytes.length - 1),
      Buffer.concat([didxBytes, Buffer.alloc(8)]),
      didxBytes.subarray(0, 4096 + 39),
    ]) {
      writeFileSync(didx, withCsum(Buffer.from(file)));
      expectRejected(
        didx,
        new RegExp(`^${escape(didx)}: entry area of ${file.length - 4096} bytes is not a multiple of 40`),
      );
    }
  });

  it('.fidx truncated or oversized: the length must be 4096 + 32 * ceil(size / chunk_size)', () => {
    const { fidx, fidxBytes } = specFiles();
    writeFileSync(fidx, withCsum(Buffer.from(fidxBytes.subarray(0, fidxBytes.length - 32))));
    expectRejected(
      fidx,
      new RegExp(
        `^${escape(fidx)}: entry area is 32 bytes but size 65546 with chunk size 65536 needs 64 \\(truncated\\)`,
      ),
    );
    writeFileSync(fidx, withCsum(Buffer.from(fidxBytes.subarray(0, fidxBytes.length - 1))));
    expectRejected(fidx, /entry area is 63 bytes .* needs 64 \(truncated\)/);
    writeFileSync(fidx, withCsum(Buffer.concat([fidxBytes, sha256('extra')])));
    expectRejected(fidx, /entry area is 96 bytes .* needs 64 \(oversized\)/);
    // The size field disagreeing with the entries is the same error.
    const grown = Buffer.from(fidxBytes);
    grown.writeBigUInt64LE(3n * 65536n, 64);
    writeFileSync(fidx, grown);
    expectRejected(fidx, /entry area is 64 bytes but size 196608 with chunk size 65536 needs 96 \(truncated\)/);
    const shrunk = Buffer.from(fidxBytes);
    shrunk.writeBigUInt64LE(65536n, 64);
    writeFileSync(fidx, shrunk);
    expectRejected(fidx, /needs 32 \(oversized\)/);
  });

  it('.fidx chunk size not a power of two', () => {
    const { dir, fidx, fidxBytes } = specFiles();
    for (const chunkSize of [0n, 3n, 65535n, 65537n, 100_000n, 3n * 65536n, (1n << 64n) - 1n]) {
      const file = Buffer.from(fidxBytes);
      file.writeBigUInt64LE(chunkSize, 72);
      writeFileSync(fidx, file);
      expectRejected(fidx, new RegExp(`^${escape(fidx)}: chunk size \\d+ is not a power of two`));
    }
    // One chunk of 10 bytes: the entry count fits any chunk size >= 10, so only the power-of-two check can object.
    const one = join(dir, 'one.fidx');
    const w = new FixedIndexWriter(one, 64 * KiB);
    w.set(0, 10, HELLO);
    w.close();
    const oneBytes = readFileSync(one);
    for (const chunkSize of [(1n << 32n) + (1n << 16n), (1n << 33n) + (1n << 20n), 3n << 31n]) {
      const file = Buffer.from(oneBytes);
      file.writeBigUInt64LE(chunkSize, 72);
      writeFileSync(one, file);
      expectRejected(one, new RegExp(`chunk size ${chunkSize} is not a power of two`));
    }
    // Any power of two is accepted, even beyond what the writer allows.
    for (const chunkSize of [16n, 1n << 33n]) {
      const file = Buffer.from(oneBytes);
      file.writeBigUInt64LE(chunkSize, 72);
      writeFileSync(one, file);
      const r = new FixedIndexReader(one);
      expect(r.chunkSize).toBe(Number(chunkSize));
      expect(r.chunkCount).toBe(1);
    }
  });

  it('checksum mismatch: a flipped entry or csum byte', () => {
    const { didx, fidx, didxBytes, fidxBytes } = specFiles();
    for (const [path, bytes] of [
      [didx, didxBytes],
      [fidx, fidxBytes],
    ] as const) {
      for (const at of [4096, 4096 + 20, bytes.length - 1, CSUM_OFFSET, CSUM_OFFSET + 31]) {
        const file = Buffer.from(bytes);
        flip(file, at, 0x10);
        writeFileSync(path, file);
        expectRejected(
          path,
          new RegExp(
            `^${escape(path)}: index checksum mismatch \\(header [0-9a-f]{64}, entries hash to [0-9a-f]{64}\\)`,
          ),
        );
      }
    }
  });

  it('.didx end offsets not increasing', () => {
    const { didx, didxBytes } = specFiles();
    const header = didxBytes.subarray(0, 4096);
    const cases: [number[], number][] = [
      [[5, 5], 1],
      [[10, 5], 1],
      [[0, 10], 0],
      [[5, 10, 10, 20], 2],
      [[5, 10, 20, 15], 3],
    ];
    for (const [ends, bad] of cases) {
      const entries = ends.map((end, i) => Buffer.concat([u64(end), sha256(`e${i}`)]));
      writeFileSync(didx, withCsum(Buffer.concat([header, ...entries])));
      expectRejected(didx, new RegExp(`^${escape(didx)}: end offsets not increasing at entry ${bad}$`));
    }
  });

  it('missing files and unknown extensions', () => {
    const dir = tmp();
    expectCairnError(
      () => openIndex(join(dir, 'gone.didx')),
      'NOT_FOUND',
      new RegExp(`cannot read index ${escape(join(dir, 'gone.didx'))}`),
    );
    expectCairnError(() => new FixedIndexReader(join(dir, 'gone.fidx')), 'NOT_FOUND', /gone\.fidx/);
    writeSpecDidx(join(dir, 'root.pxar.didx'));
    renameSync(join(dir, 'root.pxar.didx'), join(dir, 'root.pxar.tmp_didx'));
    expectRejected(join(dir, 'root.pxar.tmp_didx'), /is not an index file \(\.fidx or \.didx\)/, 'INVALID_NAME');
  });
});

describe('readIndexRange over a real chunk store', () => {
  let base = '';
  let store: ChunkStore;
  let data: Buffer;
  let didx: ChunkIndex;
  let fidx: ChunkIndex;
  const tmp = useTempDirs();

  beforeAll(async () => {
    base = tempDir('index-test', storeTempRoot());
    store = await ChunkStore.create(base, { syncLevel: 'none' });
    data = Buffer.concat([
      pseudoRandomBytes(600 * KiB, 'range'),
      textBytes(400 * KiB, 3),
      Buffer.alloc(150 * KiB),
      pseudoRandomBytes(50 * KiB + 17, 'tail'),
    ]);
    // Dynamic: chunks of very different sizes, a few of a single byte.
    const rnd = lcg(99);
    const dw = new DynamicIndexWriter(join(base, 'data.didx'));
    for (let at = 0; at < data.length;) {
      const length = Math.min(data.length - at, rnd(5) === 0 ? 1 : 1 + rnd(40 * KiB));
      const chunk = data.subarray(at, at + length);
      store.insert(sha256(chunk), encodeBlob(chunk, { compress: true }));
      dw.add(length, sha256(chunk));
      at += length;
    }
    dw.close();
    const fw = new FixedIndexWriter(join(base, 'data.fidx'), 64 * KiB);
    for (let at = 0; at < data.length; at += 64 * KiB) {
      const chunk = data.subarray(at, Math.min(data.length, at + 64 * KiB));
      store.insert(sha256(chunk), encodeBlob(chunk, { compress: true }));
      fw.set(at, chunk.length, sha256(chunk));
    }
    fw.close();
    didx = openIndex(join(base, 'data.didx'));
    fidx = openIndex(join(base, 'data.fidx'));
  });

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** The store as a snapshot reader hands it to readIndexRange: under `crypt`, if given. */
  const source = (crypt?: CryptConfig): ChunkSource => ({
    readChunk: (digest, length) => store.readChunk(digest, { crypt, length }),
  });
  const read = (index: ChunkIndex, start?: number, end?: number) => [...readIndexRange(source(), index, start, end)];
  const expectRange = (index: ChunkIndex, start: number, end: number) => {
    const got = Buffer.concat(read(index, start, end));
    if (!got.equals(data.subarray(start, end))) throw new Error(`${index.kind} [${start}, ${end}): wrong bytes`);
  };

  it('returns exactly the bytes of any [start, end)', () => {
    for (const index of [didx, fidx]) {
      expect(index.size).toBe(data.length);
      expect(index.chunkCount).toBeGreaterThan(index.kind === 'dynamic' ? 40 : 15);
      expect(Buffer.concat(read(index)).equals(data)).toBe(true);
      for (const at of [0, 1, 65535, 65536, data.length - 1, data.length]) {
        expect(read(index, at, at)).toEqual([]);
      }
      // Around every chunk boundary.
      for (let i = 1; i < index.chunkCount; i++) {
        const b = index.chunkStart(i);
        expectRange(index, b - 1, b + 1);
        expectRange(index, b, Math.min(data.length, b + 3));
        expectRange(index, Math.max(0, b - 2), b);
      }
      const rnd = lcg(index.kind === 'dynamic' ? 1 : 2);
      for (let k = 0; k < 60; k++) {
        const start = rnd(data.length);
        expectRange(index, start, start + rnd(Math.min(data.length - start, 200 * KiB) + 1));
      }
      expectRange(index, 0, 1);
      expectRange(index, data.length - 1, data.length);
    }
  });

  it('yields one slice per chunk touched, decoding no more than needed', () => {
    const i = 3;
    const start = fidx.chunkStart(i) + 10;
    expect(read(fidx, start, start + 100).map((b) => b.length)).toEqual([100]);
    const parts = read(didx, didx.chunkStart(i), didx.chunkEnd(i + 2));
    expect(parts.map((b) => b.length)).toEqual([i, i + 1, i + 2].map((j) => didx.chunkEnd(j) - didx.chunkStart(j)));
  });

  it('rejects a range outside the archive', () => {
    for (const [s, e] of [
      [-1, 10],
      [0, data.length + 1],
      [10, 5],
    ] as const) {
      expectCairnError(
        () => read(didx, s, e),
        'INVALID_ARGUMENT',
        new RegExp(`range \\[${s}, ${e}\\) outside the archive's ${data.length} bytes`),
      );
    }
  });

  it('detects a corrupted or missing chunk, naming it', () => {
    const i = 5;
    const digest = fidx.digest(i).toString('hex');
    const path = store.chunkPath(digest);
    const original = readFileSync(path);
    try {
      const damaged = Buffer.from(original);
      flip(damaged, -1, 0x01);
      writeFileSync(path, damaged);
      expectCairnError(
        () => read(fidx, fidx.chunkStart(i), fidx.chunkStart(i) + 1),
        'CORRUPT',
        new RegExp(`^chunk ${digest}: CRC mismatch`),
      );
      expectCairnError(() => read(fidx), 'CORRUPT', new RegExp(`chunk ${digest}`));
      // Ranges that do not touch the chunk are unaffected.
      expectRange(fidx, 0, fidx.chunkStart(i));
      expectRange(fidx, fidx.chunkEnd(i), data.length);
      rmSync(path);
      expectCairnError(
        () => read(fidx, fidx.chunkStart(i), fidx.chunkEnd(i)),
        'NOT_FOUND',
        new RegExp(`chunk ${digest} is missing`),
      );
    } finally {
      writeFileSync(path, original);
    }
    expectRange(fidx, 0, data.length);
  });

  it('checks each chunk against the length the index gives it', () => {
    const path = join(tmp(), 'lying.didx');
    const w = new DynamicIndexWriter(path);
    w.add(didx.chunkEnd(0), didx.digest(0));
    w.add(didx.chunkEnd(1) - didx.chunkStart(1) + 1, didx.digest(1)); // one byte too long
    w.close();
    const lying = openIndex(path);
    expectRange(lying, 0, didx.chunkEnd(0));
    expectCairnError(
      () => read(lying),
      'CORRUPT',
      new RegExp(`chunk ${escape(didx.digest(1).toString('hex'))}: decoded length`),
    );
  });

  it('reads encrypted chunks with the key', () => {
    const crypt = new CryptConfig(pseudoRandomBytes(32, 'index-key'));
    const path = join(tmp(), 'secret.fidx');
    const w = new FixedIndexWriter(path, 64 * KiB);
    const plain = data.subarray(500 * KiB, 700 * KiB + 5);
    for (let at = 0; at < plain.length; at += 64 * KiB) {
      const chunk = plain.subarray(at, Math.min(plain.length, at + 64 * KiB));
      store.insert(crypt.digest(chunk), encodeBlob(chunk, { compress: true, crypt }));
      w.set(at, chunk.length, crypt.digest(chunk));
    }
    w.close();
    const index = openIndex(path);
    expect(Buffer.concat([...readIndexRange(source(crypt), index, 0, index.size)]).equals(plain)).toBe(true);
    expect(
      Buffer.concat([...readIndexRange(source(crypt), index, 70_000, 140_000)]).equals(plain.subarray(70_000, 140_000)),
    ).toBe(true);
    expectCairnError(() => [...readIndexRange(source(), index)], 'INVALID_ARGUMENT', /encrypted, but no key was given/);
  });
});
