import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { blobKind, encodeBlob } from '../../../core/blob/data-blob.js';
import { ChunkStore, PREFIX_DIR_COUNT, prefixDirName, SYNC_LEVELS } from '../../../core/chunk-store/chunk-store.js';
import { ChunkWriterPool } from '../../../core/chunk-store/chunk-writer-pool.js';
import { digestHex, DIGEST_SIZE, isHexDigest, sha256 } from '../../../core/chunk-store/digest.js';
import { CairnError } from '../../../core/errors.js';
import { MemoryLogger } from '../../../core/log.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { ChunkCodec } from '../../../core/chunk-store/chunk-codec.js';
import { expectCairnError } from '../../support/errors.js';
import { mkfifo } from '../../support/tree.js';
import { tempDir, storeTempRoot, useTempDirs } from '../../support/temp.js';

/** One store per describe block: created in beforeAll, removed in afterAll. */
function useStore(create: (base: string) => Promise<ChunkStore> = (base) => ChunkStore.create(base)) {
  const ctx = {} as { base: string; store: ChunkStore };
  beforeAll(async () => {
    ctx.base = tempDir('store-test', storeTempRoot());
    ctx.store = await create(ctx.base);
  });
  afterAll(() => {
    if (ctx.base) rmSync(ctx.base, { recursive: true, force: true });
  });
  return ctx;
}

const UMASK = process.umask();
const DIR_MODE = 0o750 & ~UMASK;
const FILE_MODE = 0o644 & ~UMASK;
const OLD = new Date('2001-02-03T04:05:06Z');

/** Flips the bits of `mask` in byte `at` (negative: from the end). */
function flip(buf: Buffer, at: number, mask = 0x01): void {
  const i = at < 0 ? buf.length + at : at;
  buf.writeUInt8(buf.readUInt8(i) ^ mask, i);
}

/** A plain chunk: its digest and both encodings (the compressed one is much smaller). */
function plainChunk(seed: number) {
  const data = textBytes(20_000 + seed, seed);
  const digest = sha256(data);
  return {
    data,
    digest,
    hex: digest.toString('hex'),
    uncompressed: encodeBlob(data, { compress: false }),
    compressed: encodeBlob(data, { compress: true }),
  };
}

function ino(path: string): number {
  return statSync(path).ino;
}

function expectRecentlyTouched(path: string, since: number): void {
  const st = statSync(path);
  // Timestamps may be truncated to the filesystem's granularity; one second of slack is plenty.
  expect(st.atimeMs).toBeGreaterThanOrEqual(since - 1000);
  expect(st.mtimeMs).toBeGreaterThanOrEqual(since - 1000);
}

function expectOld(path: string): void {
  const st = statSync(path);
  expect(st.mtimeMs).toBe(OLD.getTime());
  expect(st.atimeMs).toBe(OLD.getTime());
}

/** Names in the chunk's prefix directory that belong to this digest (the chunk and any leftovers). */
function filesFor(store: ChunkStore, hex: string): string[] {
  return readdirSync(join(store.chunksDir, hex.slice(0, 4)))
    .filter((n) => n.startsWith(hex))
    .sort();
}

describe('chunk digests', () => {
  it('hashes with SHA-256 and formats digests as 64 lowercase hex characters', () => {
    const d = sha256(Buffer.from('hello'));
    expect(d.length).toBe(DIGEST_SIZE);
    expect(digestHex(d)).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(digestHex('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')).toBe(
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
    // A view into a larger buffer: only its own 32 bytes count.
    const framed = Buffer.concat([Buffer.from([0xaa, 0xbb]), d, Buffer.from([0xcc])]);
    expect(digestHex(new Uint8Array(framed.buffer, framed.byteOffset + 2, 32))).toBe(d.toString('hex'));
  });

  it('rejects anything that is not a digest', () => {
    const good = 'a'.repeat(64);
    expect(isHexDigest(good)).toBe(true);
    for (const bad of [
      'A'.repeat(64),
      'a'.repeat(63),
      'a'.repeat(65),
      `${'a'.repeat(63)}g`,
      '',
      `${good}\n`,
      ` ${'a'.repeat(63)}`,
    ]) {
      expect(isHexDigest(bad)).toBe(false);
      expectCairnError(() => digestHex(bad), 'INVALID_ARGUMENT', /not a SHA-256 digest/);
    }
    expectCairnError(() => digestHex(Buffer.alloc(31)), 'INVALID_ARGUMENT', /32 bytes, got 31/);
    expectCairnError(() => digestHex(new Uint8Array(33)), 'INVALID_ARGUMENT', /32 bytes, got 33/);
  });
});

describe('ChunkStore.create, open and iterate', () => {
  const progress: [number, number][] = [];
  const firstRun: number[] = [];
  let cancelError: unknown;
  let dirsAfterCancel = 0;
  const ctx = useStore(async (base) => {
    // First attempt: cancelled a quarter of the way, as an interrupted creation would be.
    const controller = new AbortController();
    cancelError = await ChunkStore.create(base, {
      signal: controller.signal,
      onProgress: (done) => {
        firstRun.push(done);
        if (done >= 16384) controller.abort();
      },
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    dirsAfterCancel = readdirSync(join(base, '.chunks')).length;
    writeFileSync(join(base, '.chunks', '0001', 'keep-me'), 'left by the first run');
    return ChunkStore.create(base, { syncLevel: 'none', onProgress: (done, total) => progress.push([done, total]) });
  });
  const tmp = useTempDirs();

  it('makes .chunks with exactly the 65536 prefix directories 0000..ffff, mode 0750, and reports progress', () => {
    const { store, base } = ctx;
    expect(store.chunksDir).toBe(join(base, '.chunks'));
    expect(statSync(store.chunksDir).mode & 0o777).toBe(DIR_MODE);
    const names = readdirSync(store.chunksDir).sort();
    expect(names.length).toBe(65536);
    expect(PREFIX_DIR_COUNT).toBe(65536);
    expect(names[0]).toBe('0000');
    expect(names.at(-1)).toBe('ffff');
    expect(names).toEqual(Array.from({ length: 65536 }, (_, i) => prefixDirName(i)));
    for (const name of names) {
      const st = statSync(join(store.chunksDir, name));
      if (!st.isDirectory() || (st.mode & 0o777) !== DIR_MODE) {
        throw new Error(`${name}: directory ${st.isDirectory()}, mode ${(st.mode & 0o777).toString(8)}`);
      }
    }
    expect(progress).toEqual(Array.from({ length: 64 }, (_, i) => [(i + 1) * 1024, 65536]));
  });

  it('can be cancelled, and a second create resumes over the partly created .chunks', () => {
    expect(cancelError).toBeInstanceOf(CairnError);
    expect((cancelError as CairnError).code).toBe('CANCELLED');
    expect(firstRun).toEqual(Array.from({ length: 16 }, (_, i) => (i + 1) * 1024));
    expect(dirsAfterCancel).toBe(16384);
    // The resumed run kept what was there and completed the rest (all 65536 are checked above).
    expect(readFileSync(join(ctx.store.chunksDir, '0001', 'keep-me'), 'utf8')).toBe('left by the first run');
    expect(existsSync(join(ctx.store.chunksDir, 'ffff'))).toBe(true);
  });

  it('open accepts a store and fails with NOT_A_DATASTORE anywhere without a .chunks directory', () => {
    const opened = ChunkStore.open(ctx.base);
    expect(opened.chunksDir).toBe(ctx.store.chunksDir);
    expect(opened.syncLevel).toBe('filesystem');
    expect(SYNC_LEVELS).toEqual(['none', 'file', 'filesystem']);
    const empty = tmp();
    expectCairnError(() => ChunkStore.open(empty), 'NOT_A_DATASTORE', new RegExp(`^${empty} is not a datastore`));
    expectCairnError(() => ChunkStore.open(join(empty, 'missing')), 'NOT_A_DATASTORE', /no \.chunks directory/);
    writeFileSync(join(empty, '.chunks'), '');
    expectCairnError(() => ChunkStore.open(empty), 'NOT_A_DATASTORE', /no \.chunks directory/);
  });

  it('create fails with an IO error naming .chunks when it cannot be made', async () => {
    const base = tmp();
    writeFileSync(join(base, '.chunks'), 'a file in the way');
    const err = await ChunkStore.create(base).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CairnError);
    expect((err as CairnError).code).toBe('IO');
    expect((err as CairnError).message).toContain(join(base, '.chunks'));
  });

  it('iterate() yields chunks, .N.bad and .tmp_ files with their kinds and ignores other names; stats() counts them', () => {
    const { store } = ctx;
    const a = plainChunk(1);
    const b = plainChunk(2);
    store.insert(a.digest, a.compressed);
    store.insert(b.hex, b.uncompressed);
    const bad = sha256(Buffer.from('bad')).toString('hex');
    const leftover = sha256(Buffer.from('tmp')).toString('hex');
    const dirOf = (hex: string) => join(store.chunksDir, hex.slice(0, 4));
    writeFileSync(join(dirOf(bad), `${bad}.0.bad`), 'x'.repeat(10));
    writeFileSync(join(dirOf(bad), `${bad}.9.bad`), 'x'.repeat(10));
    writeFileSync(join(dirOf(leftover), `${leftover}.tmp_Ab3dEf`), 'partial');
    // Names that are none of the three: ignored.
    for (const name of [
      `${bad}.10.bad`,
      `${bad}.bad`,
      `${bad}.using`,
      bad.toUpperCase(),
      bad.slice(1),
      'notes.txt',
      `${bad}tmp_x`,
    ]) {
      writeFileSync(join(dirOf(bad), name), 'ignored');
    }
    // Chunk names on things that are not regular files: a folder (with a file inside) and a symlink. Ignored too.
    const dirNamed = sha256(Buffer.from('a folder')).toString('hex');
    const linkNamed = sha256(Buffer.from('a symlink')).toString('hex');
    mkdirSync(join(dirOf(dirNamed), dirNamed));
    writeFileSync(join(dirOf(dirNamed), dirNamed, 'inside'), 'x'.repeat(1000));
    mkdirSync(join(dirOf(dirNamed), `${dirNamed}.0.bad`));
    mkdirSync(join(dirOf(dirNamed), `${dirNamed}.tmp_Zz9yXw`));
    symlinkSync(store.chunkPath(a.digest), join(dirOf(linkNamed), linkNamed));
    const prefixes: number[] = [];
    const entries = [...store.iterate({ onPrefix: (done) => prefixes.push(done) })];
    const expected = [
      { kind: 'chunk', digest: a.hex, name: a.hex },
      { kind: 'chunk', digest: b.hex, name: b.hex },
      { kind: 'bad', digest: bad, name: `${bad}.0.bad` },
      { kind: 'bad', digest: bad, name: `${bad}.9.bad` },
      { kind: 'tmp', digest: leftover, name: `${leftover}.tmp_Ab3dEf` },
    ].map((e) => ({ ...e, path: join(dirOf(e.digest), e.name) }));
    const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
    expect([...entries].sort(byName)).toEqual(expected.sort(byName));
    // Prefix by prefix, in order.
    const order = entries.map((e) => e.name.slice(0, 4));
    expect(order).toEqual([...order].sort());
    expect(prefixes.length).toBe(65536);
    expect(prefixes[0]).toBe(1);
    expect(prefixes.at(-1)).toBe(65536);

    expect(store.stats()).toEqual({
      chunks: 2,
      bytes: a.compressed.length + b.uncompressed.length,
      bad: 2,
      tmp: 1,
      parked: 0,
    });

    // A missing prefix directory is skipped, not an error.
    const gone = dirOf(a.hex);
    rmSync(gone, { recursive: true });
    try {
      expect(store.stats()).toEqual({ chunks: 1, bytes: b.uncompressed.length, bad: 2, tmp: 1, parked: 0 });
    } finally {
      mkdirSync(gone, { mode: 0o750 });
    }
  });
});

describe('ChunkStore insert, touch and read', () => {
  const ctx = useStore();
  const tmp = useTempDirs();
  const crypt = new CryptConfig(pseudoRandomBytes(32, 'store-key'));

  it('insert writes .chunks/<4 hex>/<64 hex> through a tmp file and rename, leaving no tmp', () => {
    const { store } = ctx;
    const c = plainChunk(10);
    const path = join(store.chunksDir, c.hex.slice(0, 4), c.hex);
    expect(store.chunkPath(c.digest)).toBe(path);
    expect(store.chunkPath(c.hex)).toBe(path);
    expect(store.exists(c.digest)).toBe(false);
    expect(store.insert(c.digest, c.compressed)).toEqual({ duplicate: false, written: c.compressed.length });
    expect(filesFor(store, c.hex)).toEqual([c.hex]);
    expect(readFileSync(path)).toEqual(c.compressed);
    const st = statSync(path);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(FILE_MODE);
    expect(store.exists(c.hex)).toBe(true);
    expectCairnError(() => store.chunkPath('xyz'), 'INVALID_ARGUMENT', /not a SHA-256 digest/);
  });

  it('insert of a blob in pieces (header, payload) writes the joined bytes, plain and encrypted, and reads back', () => {
    const { store } = ctx;
    const data = textBytes(30_000, 12);
    for (const codec of [new ChunkCodec(true), new ChunkCodec(true, crypt)]) {
      const digest = codec.digest(data);
      const pieces = codec.encode(data);
      expect(pieces.header.length).toBe(codec.encrypted ? 44 : 12);
      expect(store.insert(digest, pieces)).toEqual({ duplicate: false, written: pieces.length });
      expect(readFileSync(store.chunkPath(digest))).toEqual(Buffer.concat([pieces.header, pieces.payload]));
      expect(store.readChunk(digest, { crypt: codec.crypt, length: data.length })).toEqual(Buffer.from(data));
      expect(store.insert(digest, codec.encode(data)).duplicate).toBe(true);
    }
  });

  it('inserting the same blob again is a duplicate: not rewritten, but its timestamps are refreshed', () => {
    const { store } = ctx;
    const c = plainChunk(11);
    store.insert(c.digest, c.uncompressed);
    const path = store.chunkPath(c.digest);
    utimesSync(path, OLD, OLD);
    expectOld(path);
    const before = ino(path);
    const t0 = Date.now();
    expect(store.insert(c.digest, c.uncompressed)).toEqual({ duplicate: true, written: 0 });
    expect(ino(path)).toBe(before);
    expectRecentlyTouched(path, t0);
    expect(filesFor(store, c.hex)).toEqual([c.hex]);
  });

  it('keeps an existing smaller plain copy (and touches it) when a bigger one arrives', () => {
    const { store } = ctx;
    const c = plainChunk(12);
    expect(c.compressed.length).toBeLessThan(c.uncompressed.length);
    store.insert(c.digest, c.compressed);
    const path = store.chunkPath(c.digest);
    utimesSync(path, OLD, OLD);
    const before = ino(path);
    const t0 = Date.now();
    expect(store.insert(c.digest, c.uncompressed)).toEqual({ duplicate: true, written: 0 });
    expect(ino(path)).toBe(before);
    expect(readFileSync(path)).toEqual(c.compressed);
    expectRecentlyTouched(path, t0);
  });

  it('replaces an existing bigger plain copy with the smaller one, by rename', () => {
    const { store, base } = ctx;
    const c = plainChunk(13);
    store.insert(c.digest, c.uncompressed);
    const path = store.chunkPath(c.digest);
    // A second link to the old file shows it is replaced by a rename, not rewritten in place.
    const oldLink = join(base, `old-${c.hex}`);
    linkSync(path, oldLink);
    expect(store.insert(c.digest, c.compressed)).toEqual({ duplicate: false, written: c.compressed.length });
    expect(readFileSync(path)).toEqual(c.compressed);
    expect(readFileSync(oldLink)).toEqual(c.uncompressed);
    expect(ino(path)).not.toBe(ino(oldLink));
    expect(filesFor(store, c.hex)).toEqual([c.hex]);
    expect(store.readChunk(c.digest)).toEqual(c.data);
    unlinkSync(oldLink);
  });

  it('overwrites a zero-size chunk file and logs a warning', () => {
    const log = new MemoryLogger();
    const store = ChunkStore.open(ctx.base, { log, syncLevel: 'none' });
    const c = plainChunk(14);
    const path = store.chunkPath(c.digest);
    writeFileSync(path, '');
    expect(store.exists(c.digest)).toBe(true);
    expect(store.markIfPresent(c.digest)).toBe(false);
    expect(store.insert(c.digest, c.uncompressed)).toEqual({ duplicate: false, written: c.uncompressed.length });
    expect(readFileSync(path)).toEqual(c.uncompressed);
    expect(log.lines).toEqual([{ level: 'warn', message: `chunk ${path} has size 0; overwriting it` }]);
    expect(filesFor(store, c.hex)).toEqual([c.hex]);
  });

  it('never replaces a plain chunk with an encrypted blob of a different size', () => {
    const { store } = ctx;
    const c = plainChunk(15);
    for (const existing of [c.uncompressed, c.compressed]) {
      writeFileSync(store.chunkPath(c.digest), existing);
      for (const incoming of [
        encodeBlob(c.data, { compress: false, crypt }),
        encodeBlob(c.data, { compress: true, crypt }),
      ]) {
        expect(incoming.length).not.toBe(existing.length);
        expectCairnError(
          () => store.insert(c.digest, incoming),
          'CORRUPT',
          new RegExp(`refusing to replace unencrypted chunk .*${c.hex} with an encrypted one`),
        );
        expect(readFileSync(store.chunkPath(c.digest))).toEqual(existing);
      }
    }
  });

  it('with two encrypted copies of different sizes: refuses two uncompressed ones, otherwise keeps the existing', () => {
    const { store } = ctx;
    const data = textBytes(30_000, 16);
    const digest = crypt.digest(data);
    const path = store.chunkPath(digest);
    const plainEnc = encodeBlob(data, { compress: false, crypt });
    const comprEnc = encodeBlob(data, { compress: true, crypt });
    expect(blobKind(comprEnc)).toBe('encrypted-compressed');
    // Same digest, another uncompressed ciphertext of a different length: one of the two must be invalid.
    const otherPlainEnc = encodeBlob(Buffer.concat([data, Buffer.from('!')]), { compress: false, crypt });

    store.insert(digest, plainEnc);
    expectCairnError(
      () => store.insert(digest, otherPlainEnc),
      'CORRUPT',
      /differs in size from a new uncompressed copy/,
    );
    expect(readFileSync(path)).toEqual(plainEnc);

    // Compression involved (a zstd version could explain the size): keep the first, touch it.
    utimesSync(path, OLD, OLD);
    let t0 = Date.now();
    expect(store.insert(digest, comprEnc)).toEqual({ duplicate: true, written: 0 });
    expect(readFileSync(path)).toEqual(plainEnc);
    expectRecentlyTouched(path, t0);

    writeFileSync(path, comprEnc);
    utimesSync(path, OLD, OLD);
    t0 = Date.now();
    expect(store.insert(digest, plainEnc)).toEqual({ duplicate: true, written: 0 });
    expect(readFileSync(path)).toEqual(comprEnc);
    expectRecentlyTouched(path, t0);
    expect(store.readChunk(digest, { crypt })).toEqual(data);
  });

  it('moves aside whatever other than a regular file sits at a chunk path, never following it, and writes the chunk', () => {
    const log = new MemoryLogger();
    const store = ChunkStore.open(ctx.base, { log });
    const outside = join(ctx.base, 'outside.txt');
    writeFileSync(outside, 'not a chunk');
    utimesSync(outside, OLD, OLD);
    const planted: [string, (path: string) => void][] = [
      ['a folder', (path) => mkdirSync(path)],
      ['a FIFO', (path) => mkfifo(path)],
      ['a symlink out of the store', (path) => symlinkSync(outside, path)],
    ];
    for (const [k, [what, plant]] of planted.entries()) {
      const c = plainChunk(70 + k);
      const path = store.chunkPath(c.digest);
      plant(path);
      expect(store.exists(c.digest), what).toBe(false);
      expect(store.markIfPresent(c.digest, c.data.length), what).toBe(false);
      expect(store.insert(c.digest, c.compressed), what).toEqual({ duplicate: false, written: c.compressed.length });
      expect(store.readChunk(c.digest), what).toEqual(c.data);
      expect(filesFor(store, c.hex).sort(), what).toEqual([c.hex, `${c.hex}.0.bad`]);
      expect(log.lines.at(-1)?.message, what).toMatch(
        /was not a regular file; moved it aside to [0-9a-f]{64}\.0\.bad and wrote the chunk anew/,
      );
    }
    expectOld(outside);
    expect(readFileSync(outside, 'utf8')).toBe('not a chunk');
  });

  it('a writer with the data in hand reuses only a sound copy: a damaged one is moved aside and written anew', () => {
    const log = new MemoryLogger();
    const store = ChunkStore.open(ctx.base, { log });
    const damages: [string, (blob: Buffer) => Buffer][] = [
      [
        'a flipped bit (same size)',
        (blob) => {
          const b = Buffer.from(blob);
          flip(b, -7, 0x10);
          return b;
        },
      ],
      ['a truncation', (blob) => blob.subarray(0, blob.length - 100)],
      ['no blob header', () => Buffer.from('garbage')],
    ];
    for (const [k, [what, damage]] of damages.entries()) {
      const c = plainChunk(80 + k);
      const path = store.chunkPath(c.digest);
      writeFileSync(path, damage(c.compressed));
      utimesSync(path, OLD, OLD);
      expect(store.markIfPresent(c.digest, c.data.length), what).toBe(false);
      expect(filesFor(store, c.hex), what).toEqual([`${c.hex}.0.bad`]);
      expect(log.lines.at(-1)?.message, what).toMatch(
        /moved it aside to [0-9a-f]{64}\.0\.bad and wrote the chunk anew/,
      );
      expect(store.insert(c.digest, c.compressed).written, what).toBe(c.compressed.length);
      expect(store.readChunk(c.digest), what).toEqual(c.data);
      // A sound copy is reused as it is: touched, not read again or rewritten.
      const before = ino(path);
      const t0 = Date.now();
      expect(store.markIfPresent(c.digest, c.data.length), what).toBe(true);
      expect(ino(path)).toBe(before);
      expectRecentlyTouched(path, t0);
    }
  });

  it('refuses to insert bytes that are not a blob', () => {
    const { store } = ctx;
    const data = Buffer.from('just some bytes, no magic');
    const digest = sha256(data);
    expectCairnError(
      () => store.insert(digest, data),
      'INVALID_ARGUMENT',
      new RegExp(`chunk ${digest.toString('hex')}: not a blob`),
    );
    expect(store.exists(digest)).toBe(false);
    expect(filesFor(store, digest.toString('hex'))).toEqual([]);
  });

  it('touch sets both timestamps of an existing chunk and returns false for a missing one', () => {
    const { store } = ctx;
    const c = plainChunk(18);
    expect(store.touch(c.digest)).toBe(false);
    expect(store.exists(c.digest)).toBe(false);
    store.insert(c.digest, c.compressed);
    const path = store.chunkPath(c.digest);
    utimesSync(path, OLD, OLD);
    const t0 = Date.now();
    expect(store.touch(c.hex)).toBe(true);
    expectRecentlyTouched(path, t0);
  });

  it('markIfPresent: true (and touched) for a chunk, false for a missing or empty one', () => {
    const { store } = ctx;
    const c = plainChunk(19);
    expect(store.markIfPresent(c.digest)).toBe(false);
    expect(store.exists(c.digest)).toBe(false);
    store.insert(c.digest, c.compressed);
    const path = store.chunkPath(c.digest);
    utimesSync(path, OLD, OLD);
    const t0 = Date.now();
    expect(store.markIfPresent(c.digest)).toBe(true);
    expectRecentlyTouched(path, t0);
    writeFileSync(path, '');
    utimesSync(path, OLD, OLD);
    expect(store.markIfPresent(c.digest)).toBe(false);
    expectOld(path);
  });

  it('what readChunk returns stays as it was while later chunks are read (their blobs share one read buffer)', () => {
    const { store } = ctx;
    const read: { got: Buffer; want: Buffer }[] = [];
    // Every blob kind, and a smaller chunk after a bigger one (read into the same buffer's start).
    for (const [k, size] of [40_000, 30_000, 50_000, 1_000].entries()) {
      const data = Buffer.from(textBytes(size, 900 + k));
      const plain = sha256(data);
      const keyed = crypt.digest(data);
      store.insert(plain, encodeBlob(data, { compress: k % 2 === 0 }));
      store.insert(keyed, encodeBlob(data, { compress: k % 2 === 1, crypt }));
      read.push({ got: store.readChunk(plain, { length: size }), want: data });
      read.push({ got: store.readChunk(keyed, { crypt, length: size }), want: data });
    }
    for (const { got, want } of read) expect(got.equals(want)).toBe(true);
  });

  it('readChunk checks CRC, digest and length; a missing chunk is NOT_FOUND naming its digest', () => {
    const { store } = ctx;
    const c = plainChunk(20);
    store.insert(c.digest, c.compressed);
    expect(store.readChunk(c.digest)).toEqual(c.data);
    expect(store.readChunk(c.hex, { length: c.data.length })).toEqual(c.data);
    expect(store.readRaw(c.digest)).toEqual(c.compressed);
    expectCairnError(
      () => store.readChunk(c.digest, { length: c.data.length - 1 }),
      'CORRUPT',
      new RegExp(`^chunk ${c.hex}: decoded length`),
    );

    // One flipped byte in the stored file.
    const path = store.chunkPath(c.digest);
    const raw = readFileSync(path);
    flip(raw, -3, 0x04);
    writeFileSync(path, raw);
    expectCairnError(() => store.readChunk(c.digest), 'CORRUPT', new RegExp(`^chunk ${c.hex}: CRC mismatch`));

    // A valid blob stored under someone else's digest.
    const other = plainChunk(21);
    writeFileSync(store.chunkPath(other.digest), c.compressed);
    expectCairnError(
      () => store.readChunk(other.digest),
      'CORRUPT',
      new RegExp(`^chunk ${other.hex}: digest mismatch`),
    );

    unlinkSync(path);
    expectCairnError(
      () => store.readChunk(c.digest),
      'NOT_FOUND',
      new RegExp(`^chunk ${c.hex} is missing from the datastore`),
    );
    expectCairnError(() => store.readRaw(c.hex), 'NOT_FOUND', new RegExp(c.hex));
  });

  it('reads encrypted chunks with the key and refuses them without it', () => {
    const { store } = ctx;
    const data = textBytes(10_000, 22);
    const digest = crypt.digest(data);
    store.insert(digest, encodeBlob(data, { compress: true, crypt }));
    expect(store.readChunk(digest, { crypt })).toEqual(data);
    expectCairnError(() => store.readChunk(digest), 'INVALID_ARGUMENT', /encrypted, but no key was given/);
    const other = new CryptConfig(pseudoRandomBytes(32, 'other'));
    expectCairnError(() => store.readChunk(digest, { crypt: other }), 'CORRUPT', /decryption failed/);
  });

  it("sync level 'file' fsyncs and still inserts, replaces and deduplicates", () => {
    const store = ChunkStore.open(ctx.base, { syncLevel: 'file' });
    expect(store.syncLevel).toBe('file');
    const c = plainChunk(23);
    expect(store.insert(c.digest, c.uncompressed)).toEqual({ duplicate: false, written: c.uncompressed.length });
    expect(store.insert(c.digest, c.compressed)).toEqual({ duplicate: false, written: c.compressed.length });
    expect(store.insert(c.digest, c.compressed)).toEqual({ duplicate: true, written: 0 });
    expect(filesFor(store, c.hex)).toEqual([c.hex]);
    expect(store.readChunk(c.digest)).toEqual(c.data);
    store.syncFilesystem(); // not the 'filesystem' level: nothing to do
  });

  for (const memoryBytes of [undefined, 3 * 64 * 1024]) {
    it(`ChunkWriterPool stores chunks through reused shared slots, and a chunk larger than a slot on its own (${memoryBytes ? 'the chunk memory full after two slots' : 'slots in the chunk memory'})`, async () => {
      const slot = 64 * 1024;
      const pool = new ChunkWriterPool(ctx.store, new ChunkCodec(true), slot, 2, undefined, memoryBytes);
      try {
        // Many more chunks than slots in flight at once, of every size up to a slot, compressible or not; then bigger.
        const chunks = Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0
            ? pseudoRandomBytes(1 + ((i * 7919) % slot), `pool-${i}`)
            : Buffer.alloc(1 + ((i * 104729) % slot), i),
        );
        chunks.push(
          pseudoRandomBytes(slot, 'pool-full'),
          pseudoRandomBytes(slot + 1, 'pool-big'),
          pseudoRandomBytes(3 * slot, 'pool-bigger'),
        );
        const batch = async (list: Buffer[]): Promise<void> => {
          const stored = await Promise.all(list.map((c) => pool.put(c)));
          stored.forEach((s, i) => {
            expect(s.digest.equals(sha256(list[i]!)), `chunk ${i}`).toBe(true);
            expect(s.length).toBe(list[i]!.length);
            expect(ctx.store.readChunk(s.digest, { length: list[i]!.length }).equals(list[i]!), `chunk ${i}`).toBe(
              true,
            );
          });
        };
        await batch(chunks);
        // Slots come back: a second round reuses them, and every chunk is now a duplicate.
        const before = { ...pool.counters };
        await batch(chunks.slice().reverse());
        expect(pool.counters.newChunks).toBe(before.newChunks);
        expect(pool.counters.chunks).toBe(2 * chunks.length);
        expect(pool.counters.dedupBytes - before.dedupBytes).toBe(chunks.reduce((n, c) => n + c.length, 0));
      } finally {
        await pool.close();
      }
    });
  }
  it('ChunkWriterPool.close lets the workers finish the chunks they were given (not cut off mid-write or mid-compression)', async () => {
    const pool = new ChunkWriterPool(ctx.store, new ChunkCodec(true), 256 * 1024, 2);
    // Compressible, so the workers are inside zstd when close() comes; nobody waits for the answers first.
    const chunks = Array.from({ length: 24 }, (_, i) => textBytes(200 * 1024, 1000 + i));
    const stored = chunks.map((c) => pool.put(c));
    await pool.close();
    const results = await Promise.allSettled(stored);
    expect(results.map((r) => r.status)).toEqual(chunks.map(() => 'fulfilled'));
    for (const c of chunks) expect(ctx.store.readChunk(sha256(c), { length: c.length }).equals(c)).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    "sync level 'filesystem' runs a filesystem sync and reports when it fails",
    () => {
      expect(ctx.store.syncLevel).toBe('filesystem');
      expect(() => ctx.store.syncFilesystem()).not.toThrow();
      // The sync really runs: on a store whose directory has vanished it fails, naming the directory.
      const base = tmp();
      mkdirSync(join(base, '.chunks'));
      const store = ChunkStore.open(base, { syncLevel: 'filesystem' });
      const none = ChunkStore.open(base, { syncLevel: 'none' });
      rmSync(base, { recursive: true });
      expectCairnError(() => store.syncFilesystem(), 'IO', new RegExp(`cannot sync the filesystem of ${base}`));
      expect(() => none.syncFilesystem()).not.toThrow();
    },
  );
});
