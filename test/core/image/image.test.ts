import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../../core/backup/manifest.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import type { CairnError } from '../../../core/errors.js';
import { imageArchiveName, pickImageArchive } from '../../../core/image/image-archive.js';
import { backupImage, type ImageTransferProgress } from '../../../core/image/image-backup.js';
import { restoreImage } from '../../../core/image/image-restore.js';
import { FixedIndexReader } from '../../../core/index/fixed-index.js';
import { forgetSnapshot } from '../../../core/prune/forget.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { expectCode } from '../../support/errors.js';
import { tempDir, useTempDirs } from '../../support/temp.js';

const CHUNK = 64 * 1024;

/** Names in `dir` that look like temporary files (atomic-write siblings or open index writers). */
function tmpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/\.tmp_/.test(e.name)) out.push(join(e.parentPath, e.name));
  }
  return out;
}

function manifestOf(files: string[]): Manifest {
  return {
    'backup-type': 'host',
    'backup-id': 'x',
    'backup-time': 1,
    unprotected: {},
    files: files.map((filename) => ({ filename, 'crypt-mode': 'none', size: 0, csum: '00'.repeat(32) })),
  };
}

describe('image archive names', () => {
  it('derive <name>.img.fidx from the file name or a given name', () => {
    expect(imageArchiveName('/images/disk.img')).toBe('disk.img.fidx');
    expect(imageArchiveName('/images/DISK.IMG')).toBe('DISK.img.fidx');
    expect(imageArchiveName('/images/sda.raw')).toBe('sda.raw.img.fidx');
    expect(imageArchiveName('/images/My Disk (1).img')).toBe('My-Disk-1.img.fidx');
    expect(imageArchiveName('/images/...img')).toBe('image.img.fidx');
    expect(imageArchiveName('/x/disk.img', 'root')).toBe('root.img.fidx');
    expect(imageArchiveName('/x/disk.img', 'root.img')).toBe('root.img.fidx');
    expect(imageArchiveName('/x/disk.img', 'drive-scsi0.img.fidx')).toBe('drive-scsi0.img.fidx');
    for (const bad of ['../x', 'a/b', '.hidden', 'a b'])
      expect(() => imageArchiveName('/x/disk.img', bad)).toThrow(/invalid archive name/);
  });

  it('pick the only .fidx of a snapshot, or the one named', async () => {
    expect(pickImageArchive(manifestOf(['disk.img.fidx', 'qemu-server.conf.blob']))).toBe('disk.img.fidx');
    const two = manifestOf(['a.img.fidx', 'b.img.fidx', 'root.pxar.didx']);
    for (const name of ['b', 'b.img', 'b.img.fidx']) expect(pickImageArchive(two, name)).toBe('b.img.fidx');
    await expectCode(
      () => pickImageArchive(two),
      'INVALID_ARGUMENT',
      /several image archives \(a\.img\.fidx, b\.img\.fidx\)/,
    );
    await expectCode(() => pickImageArchive(two, 'c'), 'NOT_FOUND', /no image archive c/);
    await expectCode(() => pickImageArchive(manifestOf(['root.pxar.didx'])), 'NOT_FOUND', /no image archive/);
  });
});

describe('image backup and restore', () => {
  const tmp = useTempDirs();
  let base: string | undefined;
  let shared: Datastore | undefined;
  beforeAll(async () => {
    base = tempDir('test');
    shared = await Datastore.create(join(base, 'store'), { chunkSize: CHUNK, syncLevel: 'none' });
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  const store = (): Datastore => {
    if (!shared) throw new Error('shared datastore was not created');
    return shared;
  };

  /** Writes `data` to `<fresh dir>/<name>` and returns the path. */
  function sourceFile(name: string, data: Buffer): string {
    const path = join(tmp(), name);
    writeFileSync(path, data);
    return path;
  }

  const sizes: [string, number][] = [
    ['empty', 0],
    ['one', 1],
    ['chunk-minus-1', CHUNK - 1],
    ['chunk', CHUNK],
    ['chunk-plus-1', CHUNK + 1],
  ];
  for (const [label, size] of sizes) {
    it(`round-trips a ${size}-byte file byte for byte (${label})`, async () => {
      const data = pseudoRandomBytes(size, `size-${label}`);
      const file = sourceFile(`${label}.img`, data);
      const result = await backupImage(store(), file);
      expect(result).toMatchObject({
        archive: `${label}.img.fidx`,
        bytesDone: size,
        bytesTotal: size,
        chunks: Math.ceil(size / CHUNK),
      });
      expect(result.snapshot).toMatchObject({ type: 'host', id: label });
      const index = new FixedIndexReader(join(store().snapshotDir(result.snapshot), result.archive));
      expect(index).toMatchObject({ size, chunkSize: CHUNK, chunkCount: Math.ceil(size / CHUNK) });
      const target = join(tmp(), 'restored.img');
      const restored = await restoreImage(store(), result.snapshot, target);
      expect(restored).toEqual({
        target,
        written: target,
        archive: `${label}.img.fidx`,
        size,
        chunks: Math.ceil(size / CHUNK),
        damaged: [],
      });
      expect(readFileSync(target).equals(data)).toBe(true);
    });
  }

  it('round-trips ~10 chunks of mixed random, zero and text data; names the archive and group after the file', async () => {
    const data = Buffer.concat([
      pseudoRandomBytes(3 * CHUNK + 1234, 'mixed'),
      Buffer.alloc(2 * CHUNK + 17),
      textBytes(3 * CHUNK, 77),
      Buffer.alloc(999),
      pseudoRandomBytes(CHUNK + 5000, 'mixed2'),
    ]);
    const file = sourceFile('disk.img', data);
    const result = await backupImage(store(), file);
    expect(result.archive).toBe('disk.img.fidx');
    expect(result.snapshot.id).toBe('disk');
    expect(result.path).toMatch(/^host\/disk\/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/);
    expect(result.chunks).toBe(Math.ceil(data.length / CHUNK));
    expect(result.chunks).toBeGreaterThanOrEqual(10);
    const info = store().snapshotInfo(result.snapshot);
    expect(info).toMatchObject({ finished: true, files: ['disk.img.fidx'] });
    const manifest = store().readManifest(result.snapshot);
    expect(manifest.files).toEqual([expect.objectContaining({ filename: 'disk.img.fidx', size: data.length })]);
    expect(manifest.unprotected.chunk_upload_stats).toMatchObject({
      count: result.newChunks,
      duplicates: result.chunks - result.newChunks,
    });

    const target = join(tmp(), 'out.img');
    await restoreImage(store(), result.snapshot, target);
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(tmpFiles(join(target, '..'))).toEqual([]);
  });

  it('takes id, type and archive name from the options', async () => {
    const data = textBytes(5000, 31);
    const result = await backupImage(store(), sourceFile('whatever.bin', data), {
      id: 'vm-200',
      type: 'vm',
      archiveName: 'drive-scsi0',
    });
    expect(result.snapshot).toMatchObject({ type: 'vm', id: 'vm-200' });
    expect(result.archive).toBe('drive-scsi0.img.fidx');
    expect(store().listSnapshots({ type: 'vm', id: 'vm-200' })[0]!.files).toEqual(['drive-scsi0.img.fidx']);
    await expectCode(backupImage(store(), sourceFile('x.img', data), { id: '../escape' }), 'INVALID_NAME');
    expect(existsSync(join(store().root, 'host', 'x'))).toBe(false);
  });

  it('writes no new chunk for a second backup of the same file, and one for a changed chunk', async () => {
    const data = Buffer.concat([pseudoRandomBytes(6 * CHUNK, 'dedup'), textBytes(3 * CHUNK + 100, 5)]);
    const file = sourceFile('dedup.img', data);
    const first = await backupImage(store(), file);
    expect(first.newChunks).toBe(first.chunks);
    expect(first.dedupBytes).toBe(0);
    expect(first.newBytes).toBeGreaterThan(0);

    const second = await backupImage(store(), file);
    expect(second.snapshot.time).toBeGreaterThan(first.snapshot.time);
    expect(second).toMatchObject({
      chunks: 10,
      newChunks: 0,
      newBytes: 0,
      dedupBytes: data.length,
      bytesDone: data.length,
    });
    const m1 = store().readManifest(first.snapshot);
    const m2 = store().readManifest(second.snapshot);
    expect(m2.files[0]!.csum).toBe(m1.files[0]!.csum);
    expect(m2.unprotected.chunk_upload_stats).toEqual({ count: 0, size: 0, compressed_size: 0, duplicates: 10 });

    const changed = Buffer.from(data);
    changed[4 * CHUNK + 12345]! ^= 0x5a;
    writeFileSync(file, changed);
    const third = await backupImage(store(), file);
    expect(third).toMatchObject({ chunks: 10, newChunks: 1, dedupBytes: data.length - CHUNK });
    expect(third.newBytes).toBeGreaterThan(0);
    const i2 = new FixedIndexReader(join(store().snapshotDir(second.snapshot), 'dedup.img.fidx'));
    const i3 = new FixedIndexReader(join(store().snapshotDir(third.snapshot), 'dedup.img.fidx'));
    const differing = Array.from({ length: 10 }, (_, i) => i).filter((i) => !i2.digest(i).equals(i3.digest(i)));
    expect(differing).toEqual([4]);
    expect(i3.digest(4).equals(sha256(changed.subarray(4 * CHUNK, 5 * CHUNK)))).toBe(true);

    const target = join(tmp(), 'third.img');
    await restoreImage(store(), third.snapshot, target);
    expect(readFileSync(target).equals(changed)).toBe(true);
    const older = join(tmp(), 'second.img');
    await restoreImage(store(), second.snapshot, older);
    expect(readFileSync(older).equals(data)).toBe(true);
  });

  it('restores zero chunks as holes', async () => {
    const size = 40 * CHUNK;
    const data = Buffer.alloc(size);
    pseudoRandomBytes(CHUNK, 'sparse-head').copy(data, 0);
    pseudoRandomBytes(500, 'sparse-mid').copy(data, 20 * CHUNK + 7);
    const result = await backupImage(store(), sourceFile('sparse.img', data));
    const target = join(tmp(), 'sparse-restored.img');
    await restoreImage(store(), result.snapshot, target);
    const st = statSync(target);
    expect(st.size).toBe(size);
    // Two data chunks are written; the 38 zero chunks (2.4 MiB) are holes.
    expect(st.blocks * 512).toBeLessThan(size / 4);
    expect(readFileSync(target).equals(data)).toBe(true);

    // A file that ends in zeros keeps its full length.
    const tail = Buffer.concat([textBytes(100, 2), Buffer.alloc(3 * CHUNK)]);
    const tailResult = await backupImage(store(), sourceFile('tail.img', tail));
    const tailTarget = join(tmp(), 'tail.img');
    await restoreImage(store(), tailResult.snapshot, tailTarget);
    expect(readFileSync(tailTarget).equals(tail)).toBe(true);
  });

  it('refuses to overwrite an existing file unless asked to', async () => {
    const data = pseudoRandomBytes(2 * CHUNK + 3, 'overwrite');
    const result = await backupImage(store(), sourceFile('ow.img', data));
    const dir = tmp();
    const target = join(dir, 'existing.img');
    writeFileSync(target, 'precious');
    await expectCode(restoreImage(store(), result.snapshot, target), 'ALREADY_EXISTS', /existing\.img already exists/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    await restoreImage(store(), result.snapshot, target, { overwrite: true });
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(readdirSync(dir)).toEqual(['existing.img']);

    const asDir = join(dir, 'a-directory');
    mkdirSync(asDir);
    await expectCode(
      restoreImage(store(), result.snapshot, asDir, { overwrite: true }),
      'INVALID_ARGUMENT',
      /not a regular file/,
    );
    expect(statSync(asDir).isDirectory()).toBe(true);
    await expectCode(
      restoreImage(store(), result.snapshot, target, { archiveName: 'other' }),
      'NOT_FOUND',
      /no image archive other/,
    );
  });

  it('names a damaged chunk by its digest, leaving neither the target nor a tmp file', async () => {
    const data = pseudoRandomBytes(3 * CHUNK, 'corrupt');
    const result = await backupImage(store(), sourceFile('corrupt.img', data));
    const chunkPath = store().chunks.chunkPath(sha256(data.subarray(CHUNK, 2 * CHUNK)));
    const raw = readFileSync(chunkPath);
    raw[raw.length - 100]! ^= 0x01;
    writeFileSync(chunkPath, raw);

    const dir = tmp();
    const target = join(dir, 'restored.img');
    const r = await restoreImage(store(), result.snapshot, target);
    expect(r.damaged).toHaveLength(1);
    expect(r.damaged[0]!.message).toContain(sha256(data.subarray(CHUNK, 2 * CHUNK)).toString('hex'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names a missing chunk, leaving no target', async () => {
    const data = pseudoRandomBytes(2 * CHUNK, 'missing-chunk');
    const result = await backupImage(store(), sourceFile('missing.img', data));
    rmSync(store().chunks.chunkPath(sha256(data.subarray(CHUNK))));
    const dir = tmp();
    const r = await restoreImage(store(), result.snapshot, join(dir, 'out.img'));
    expect(r.damaged.map((d) => [d.start, d.end])).toEqual([[CHUNK, 2 * CHUNK]]);
    expect(r.damaged[0]!.message).toMatch(/is missing from the datastore/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('cancels a backup cleanly: CANCELLED, no snapshot directory, no tmp files', async () => {
    const data = Buffer.concat([pseudoRandomBytes(8 * CHUNK, 'cancel'), textBytes(2 * CHUNK, 9)]);
    const file = sourceFile('cancel.img', data);
    const ac = new AbortController();
    const events: ImageTransferProgress[] = [];
    await expectCode(
      backupImage(store(), file, {
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          events.push(p);
          ac.abort();
        },
      }),
      'CANCELLED',
      /image backup cancelled/,
    );
    expect(events.length).toBe(1);
    expect(events[0]!.bytesDone).toBeLessThan(data.length);
    const group = { type: 'host', id: 'cancel' } as const;
    expect(store().listSnapshots(group)).toEqual([]);
    expect(readdirSync(store().groupDir(group))).toEqual(['owner']);
    expect(tmpFiles(store().groupDir(group))).toEqual([]);
    // The source is untouched and a later backup works.
    const done = await backupImage(store(), file);
    expect(store().snapshotInfo(done.snapshot).finished).toBe(true);
  });

  it('cancels a restore cleanly: CANCELLED, no target, no tmp file', async () => {
    const data = pseudoRandomBytes(5 * CHUNK, 'cancel-restore');
    const result = await backupImage(store(), sourceFile('cancel-restore.img', data));
    const dir = tmp();
    const ac = new AbortController();
    await expectCode(
      restoreImage(store(), result.snapshot, join(dir, 'out.img'), {
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: () => ac.abort(),
      }),
      'CANCELLED',
      /image restore cancelled/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('holds the snapshot against forget while it restores, and lets it go however the restore ends', async () => {
    const data = pseudoRandomBytes(5 * CHUNK, 'held');
    const result = await backupImage(store(), sourceFile('held.img', data));
    const ac = new AbortController();
    let refusedWith: string | undefined;
    const restoring = restoreImage(store(), result.snapshot, join(tmp(), 'out.img'), {
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: () => {
        try {
          forgetSnapshot(store(), result.snapshot);
        } catch (err) {
          refusedWith ??= (err as CairnError).code;
        }
        ac.abort();
      },
    });
    await expectCode(restoring, 'CANCELLED');
    expect(refusedWith).toBe('LOCKED');
    forgetSnapshot(store(), result.snapshot);
    expect(existsSync(store().snapshotDir(result.snapshot))).toBe(false);
  });

  it('reports progress with increasing bytesDone that ends at the total', async () => {
    const data = Buffer.concat([pseudoRandomBytes(5 * CHUNK, 'progress'), Buffer.alloc(2 * CHUNK), textBytes(777, 4)]);
    const file = sourceFile('progress.img', data);
    const events: ImageTransferProgress[] = [];
    const result = await backupImage(store(), file, { progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    expect(events.length).toBeGreaterThanOrEqual(result.chunks);
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
    // The first event comes at once (the bar appears before the first chunk is stored), then one per chunk.
    expect(new Set(events.map((e) => e.bytesDone)).size).toBe(result.chunks + 1);
    expect(events.every((e) => e.bytesTotal === data.length)).toBe(true);
    expect(events[0]!.bytesDone).toBe(0);
    expect(events[1]!.bytesDone).toBe(CHUNK);
    expect(events.at(-1)).toMatchObject({ bytesDone: data.length, chunks: result.chunks, newChunks: result.newChunks });

    const restoreEvents: ImageTransferProgress[] = [];
    await restoreImage(store(), result.snapshot, join(tmp(), 'p.img'), {
      progressIntervalMs: 0,
      onProgress: (p) => restoreEvents.push(p),
    });
    expect(restoreEvents.length).toBeGreaterThanOrEqual(result.chunks);
    for (let i = 1; i < restoreEvents.length; i++)
      expect(restoreEvents[i]!.bytesDone).toBeGreaterThanOrEqual(restoreEvents[i - 1]!.bytesDone);
    expect(restoreEvents.at(-1)).toMatchObject({ bytesDone: data.length, bytesTotal: data.length });
  });

  it('refuses a directory or a missing file as the source, creating no snapshot', async () => {
    const dir = join(tmp(), 'srcdir');
    mkdirSync(dir);
    await expectCode(
      backupImage(store(), dir),
      'INVALID_ARGUMENT',
      new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a regular file`),
    );
    expect(existsSync(join(store().root, 'host', 'srcdir'))).toBe(false);

    const missing = join(tmp(), 'missing-source.img');
    const e = await expectCode(backupImage(store(), missing), 'NOT_FOUND');
    expect(e.message).toContain(`cannot open ${missing}`);
    expect(existsSync(join(store().root, 'host', 'missing-source'))).toBe(false);
    expect(
      store()
        .listGroups()
        .some((g) => g.id === 'srcdir' || g.id === 'missing-source'),
    ).toBe(false);
  });

  it('restores from a snapshot that is unfinished or missing with NOT_FOUND', async () => {
    const writer = store().beginSnapshot({ type: 'host', id: 'half' });
    const dir = tmp();
    await expectCode(restoreImage(store(), writer.ref, join(dir, 'x.img')), 'NOT_FOUND', /unfinished/);
    writer.abort();
    await expectCode(restoreImage(store(), writer.ref, join(dir, 'x.img')), 'NOT_FOUND', /does not exist/);
    expect(readdirSync(dir)).toEqual([]);
  });
  it('restores past damaged and missing chunks: names every damaged range, writes no image, keeps the rest on request', async () => {
    const data = pseudoRandomBytes(6 * CHUNK, 'damaged-image');
    const file = sourceFile('damaged.img', data);
    const result = await backupImage(store(), file, { id: 'damaged', allowOtherSource: true });
    const index = new FixedIndexReader(join(store().snapshotDir(result.snapshot), result.archive));
    const digest = (i: number) => index.digest(i).toString('hex');
    const flipped = readFileSync(store().chunks.chunkPath(digest(1)));
    flipped[flipped.length - 5]! ^= 0xff;
    writeFileSync(store().chunks.chunkPath(digest(1)), flipped);
    rmSync(store().chunks.chunkPath(digest(4)));

    const dir = tmp();
    const target = join(dir, 'out.img');
    const r = await restoreImage(store(), result.snapshot, target);
    expect(r.damaged.map((d) => [d.start, d.end, d.chunk])).toEqual([
      [CHUNK, 2 * CHUNK, digest(1)],
      [4 * CHUNK, 5 * CHUNK, digest(4)],
    ]);
    expect(r.written).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);

    const kept = await restoreImage(store(), result.snapshot, target, { keepDamaged: true });
    expect(kept.written).toBe(`${target}.damaged`);
    const bytes = readFileSync(`${target}.damaged`);
    const expected = Buffer.from(data);
    expected.fill(0, CHUNK, 2 * CHUNK);
    expected.fill(0, 4 * CHUNK, 5 * CHUNK);
    expect(bytes.equals(expected)).toBe(true);
    expect(readdirSync(dir)).toEqual(['out.img.damaged']);
  });
});
