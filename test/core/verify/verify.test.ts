import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_ARCHIVE, EntryKind, META_ARCHIVE } from '../../../core/archive/archive-format.js';
import { backupFolder, type FolderBackupResult } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import type { BackupGroupRef, SnapshotRef } from '../../../core/backup/backup-names.js';
import { encodeManifest, MANIFEST_NAME, type CryptMode } from '../../../core/backup/manifest.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import type { Datastore } from '../../../core/datastore/datastore.js';
import { writeFileAtomicSync } from '../../../core/fs/atomic-write.js';
import { backupImage } from '../../../core/image/image-backup.js';
import { openIndex } from '../../../core/index/index-reader.js';
import { verify, type VerifyProgress, type VerifyResult } from '../../../core/verify/verify.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { expectCode } from '../../support/errors.js';
import { mkfifo, put, settleFolders } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * A small source tree, its bytes seeded by `seed` so that trees of different tests share no chunks (a chunk
 * corrupted by one test must not show up in another). Files of 256 KiB and more start and end on payload chunk
 * boundaries, so a chunk in the middle of big.bin holds big.bin alone; notes.txt and readme.txt are small and
 * adjacent, so they share one chunk.
 */
function sourceTree(dir: string, seed: string): string {
  put(dir, 'docs/big.bin', pseudoRandomBytes(1536 * KiB + 777, `${seed}-big`));
  put(dir, 'docs/notes.txt', textBytes(20_000, seed.length * 7 + 1));
  put(dir, 'docs/readme.txt', `readme of ${seed}\n`);
  put(dir, 'photos/pic.bin', pseudoRandomBytes(600 * KiB, `${seed}-pic`));
  put(dir, 'empty.txt', '');
  return dir;
}

interface ChunkRef {
  hex: string;
  path: string;
  start: number;
  end: number;
}

function indexPath(store: Datastore, ref: SnapshotRef, archive: string): string {
  return join(store.snapshotDir(ref), archive);
}

/** The payload chunk holding the middle byte of a file of a folder snapshot. */
function chunkOfFile(store: Datastore, ref: SnapshotRef, file: string): ChunkRef {
  const entry = new FolderArchiveReader(store.openSnapshot(ref)).get(file);
  if (entry.kind !== EntryKind.File) throw new Error(`${file} is not a file`);
  const index = openIndex(indexPath(store, ref, DATA_ARCHIVE));
  const i = index.chunkAt(entry.payloadOffset + Math.floor(entry.size / 2));
  const hex = index.digest(i).toString('hex');
  return { hex, path: store.chunks.chunkPath(hex), start: index.chunkStart(i), end: index.chunkEnd(i) };
}

/** Every digest an archive of a snapshot references (with repeats). */
function digestsOf(store: Datastore, ref: SnapshotRef, archive: string): string[] {
  const index = openIndex(indexPath(store, ref, archive));
  return Array.from({ length: index.chunkCount }, (_, i) => index.digest(i).toString('hex'));
}

function allDigests(store: Datastore, ref: SnapshotRef): string[] {
  return [...digestsOf(store, ref, DATA_ARCHIVE), ...digestsOf(store, ref, META_ARCHIVE)];
}

function flipByte(path: string, at?: number): Buffer {
  const bytes = readFileSync(path);
  const pos = at ?? Math.floor(bytes.length / 2);
  bytes[pos] = bytes[pos]! ^ 0x5a;
  writeFileSync(path, bytes);
  return bytes;
}

/** The `.bad` copies of a chunk, by name. */
function badCopies(chunkPath: string): string[] {
  const name = chunkPath.split('/').at(-1)!;
  return readdirSync(join(chunkPath, '..'))
    .filter((n) => n.startsWith(`${name}.`) && n.endsWith('.bad'))
    .sort();
}

function verifyState(store: Datastore, ref: SnapshotRef): string | undefined {
  return store.readManifest(ref).unprotected.verify_state?.state;
}

function only(result: VerifyResult): VerifyResult['snapshots'][number] {
  expect(result.snapshots).toHaveLength(1);
  return result.snapshots[0]!;
}

describe('verify: clean snapshots and corrupt, truncated or missing chunks', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  async function backup(id: string, seed = id): Promise<FolderBackupResult> {
    // Each call's folder stands for the next state of the group's folder.
    return backupFolder(ctx.store, sourceTree(scratch(id), seed), { id, allowOtherSource: true });
  }

  it('a clean folder snapshot verifies ok, every distinct chunk checked once, and verify_state ok is written', async () => {
    const r = await backup('clean');
    expect(ctx.store.readManifest(r.snapshot).unprotected.verify_state).toBeUndefined();
    const distinct = new Set(allDigests(ctx.store, r.snapshot));

    const result = await verify(ctx.store, { snapshot: r.snapshot });
    expect(result.ok).toBe(true);
    expect(only(result)).toEqual({ snapshot: r.path, state: 'ok', problems: [] });
    expect(result).toMatchObject({
      chunksChecked: distinct.size,
      corruptChunks: 0,
      missingChunks: 0,
      snapshotsDone: 1,
      snapshotsTotal: 1,
    });
    const state = ctx.store.readManifest(r.snapshot).unprotected.verify_state;
    expect(state?.state).toBe('ok');
    expect(state?.upid).toMatch(/^cairn-verify:/);
    for (const hex of distinct) expect(existsSync(ctx.store.chunks.chunkPath(hex)), hex).toBe(true);
  });

  it('a flipped byte in a payload chunk: failed, naming snapshot, archive, chunk and the file; the chunk goes to .0.bad', async () => {
    const r = await backup('flip');
    const chunk = chunkOfFile(ctx.store, r.snapshot, 'docs/big.bin');
    const corrupted = flipByte(chunk.path);

    const result = await verify(ctx.store, { snapshot: r.snapshot });
    expect(result.ok).toBe(false);
    const snap = only(result);
    expect(snap.state).toBe('failed');
    expect(snap.problems).toHaveLength(1);
    expect(snap.problems[0]).toMatchObject({
      snapshot: r.path,
      archive: DATA_ARCHIVE,
      chunk: chunk.hex,
      affects: ['/docs/big.bin'],
    });
    expect(snap.problems[0]!.message).toContain(chunk.hex);
    expect(snap.problems[0]!.message).toMatch(/CRC mismatch|digest mismatch|does not decode/);
    expect(result).toMatchObject({ corruptChunks: 1, missingChunks: 0 });
    // Moved aside, bytes as they were: the next backup that has this data writes the chunk anew.
    expect(existsSync(chunk.path)).toBe(false);
    expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`]);
    expect(readFileSync(`${chunk.path}.0.bad`).equals(corrupted)).toBe(true);
    expect(verifyState(ctx.store, r.snapshot)).toBe('failed');

    // The same chunk corrupt again: the next free number (spec 9.2).
    writeFileSync(chunk.path, corrupted);
    const again = await verify(ctx.store, { snapshot: r.snapshot });
    expect(only(again).state).toBe('failed');
    expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`, `${chunk.hex}.1.bad`]);
  });

  it('a corrupt chunk of small files reports every file whose content it holds', async () => {
    const r = await backup('small-files');
    const chunk = chunkOfFile(ctx.store, r.snapshot, 'docs/notes.txt');
    expect(chunkOfFile(ctx.store, r.snapshot, 'docs/readme.txt').hex).toBe(chunk.hex);
    flipByte(chunk.path);
    const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(snap.state).toBe('failed');
    expect(snap.problems).toHaveLength(1);
    expect(snap.problems[0]!.chunk).toBe(chunk.hex);
    expect([...snap.problems[0]!.affects!].sort()).toEqual(['/docs/notes.txt', '/docs/readme.txt']);
  });

  it('a truncated chunk is detected and moved aside', async () => {
    const r = await backup('truncate');
    const chunk = chunkOfFile(ctx.store, r.snapshot, 'photos/pic.bin');
    const size = readFileSync(chunk.path).length;
    truncateSync(chunk.path, Math.floor(size / 2));

    const result = await verify(ctx.store, { snapshot: r.snapshot });
    const snap = only(result);
    expect(snap.state).toBe('failed');
    expect(snap.problems).toEqual([
      expect.objectContaining({
        snapshot: r.path,
        archive: DATA_ARCHIVE,
        chunk: chunk.hex,
        affects: ['/photos/pic.bin'],
      }),
    ]);
    expect(result).toMatchObject({ corruptChunks: 1, missingChunks: 0 });
    expect(existsSync(chunk.path)).toBe(false);
    expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`]);
    expect(readFileSync(`${chunk.path}.0.bad`).length).toBe(Math.floor(size / 2));
    expect(verifyState(ctx.store, r.snapshot)).toBe('failed');
  });

  it('a deleted chunk is reported missing and counted in missingChunks', async () => {
    const r = await backup('delete');
    const chunk = chunkOfFile(ctx.store, r.snapshot, 'docs/big.bin');
    unlinkSync(chunk.path);

    const result = await verify(ctx.store, { snapshot: r.snapshot });
    const snap = only(result);
    expect(snap.state).toBe('failed');
    expect(snap.problems).toHaveLength(1);
    expect(snap.problems[0]).toMatchObject({
      snapshot: r.path,
      archive: DATA_ARCHIVE,
      chunk: chunk.hex,
      affects: ['/docs/big.bin'],
    });
    expect(snap.problems[0]!.message).toMatch(/missing/);
    expect(result.missingChunks).toBe(1);
    expect(result.ok).toBe(false);
    expect(badCopies(chunk.path)).toEqual([]);
    expect(verifyState(ctx.store, r.snapshot)).toBe('failed');
  });

  it('a corrupt metadata chunk reports the folder listing as affected', async () => {
    const r = await backup('meta');
    const metaDigests = digestsOf(ctx.store, r.snapshot, META_ARCHIVE);
    const hex = metaDigests[0]!;
    expect(digestsOf(ctx.store, r.snapshot, DATA_ARCHIVE)).not.toContain(hex);
    flipByte(ctx.store.chunks.chunkPath(hex));

    const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(snap.state).toBe('failed');
    expect(snap.problems).toHaveLength(1);
    expect(snap.problems[0]).toMatchObject({ snapshot: r.path, archive: META_ARCHIVE, chunk: hex });
    expect(snap.problems[0]!.affects).toHaveLength(1);
    expect(snap.problems[0]!.affects![0]).toMatch(/folder listing/);
    expect(badCopies(ctx.store.chunks.chunkPath(hex))).toEqual([`${hex}.0.bad`]);
  });

  it('checks each chunk once per job; a corrupt chunk two snapshots share fails both, and is moved aside once', async () => {
    const src = sourceTree(scratch('twice'), 'twice');
    const group: BackupGroupRef = { type: 'host', id: 'twice' };
    await settleFolders(src); // else the second backup may record listings the first found too recent: other metadata
    const r1 = await backupFolder(ctx.store, src, { id: 'twice' });
    const r2 = await backupFolder(ctx.store, src, { id: 'twice' });
    expect(r2.base).toBe(r1.path);
    const refs = [...allDigests(ctx.store, r1.snapshot), ...allDigests(ctx.store, r2.snapshot)];
    const distinct = new Set(refs);
    expect(new Set(allDigests(ctx.store, r2.snapshot))).toEqual(new Set(allDigests(ctx.store, r1.snapshot)));
    expect(distinct.size).toBeLessThan(refs.length);

    const clean = await verify(ctx.store, { group });
    expect(clean.snapshots.map((s) => [s.snapshot, s.state])).toEqual([
      [r2.path, 'ok'],
      [r1.path, 'ok'],
    ]);
    expect(clean.chunksChecked).toBe(distinct.size);

    const chunk = chunkOfFile(ctx.store, r1.snapshot, 'docs/big.bin');
    expect(chunkOfFile(ctx.store, r2.snapshot, 'docs/big.bin').hex).toBe(chunk.hex);
    flipByte(chunk.path);
    const result = await verify(ctx.store, { group });
    expect(result.ok).toBe(false);
    expect(result.snapshots.map((s) => [s.snapshot, s.state])).toEqual([
      [r2.path, 'failed'],
      [r1.path, 'failed'],
    ]);
    for (const s of result.snapshots) {
      expect(s.problems).toEqual([
        expect.objectContaining({ snapshot: s.snapshot, chunk: chunk.hex, affects: ['/docs/big.bin'] }),
      ]);
    }
    expect(result.corruptChunks).toBe(1);
    // Known corrupt, it is reported again for the second snapshot without being read (or counted) again.
    expect(result.chunksChecked).toBe(distinct.size);
    expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`]);
    expect(verifyState(ctx.store, r1.snapshot)).toBe('failed');
    expect(verifyState(ctx.store, r2.snapshot)).toBe('failed');
  });

  it('a failed snapshot is not a base: the next backup bases on the older ok one, writes the bad chunk anew and verifies ok', async () => {
    const src = sourceTree(scratch('rebase'), 'rebase');
    const r1 = await backupFolder(ctx.store, src, { id: 'rebase' });
    const r2 = await backupFolder(ctx.store, src, { id: 'rebase' });
    expect(r2.base).toBe(r1.path);
    expect(only(await verify(ctx.store, { snapshot: r1.snapshot })).state).toBe('ok');

    const chunk = chunkOfFile(ctx.store, r2.snapshot, 'docs/big.bin');
    const good = readFileSync(chunk.path);
    flipByte(chunk.path);
    expect(only(await verify(ctx.store, { snapshot: r2.snapshot })).state).toBe('failed');
    expect(existsSync(chunk.path)).toBe(false);

    // chooseBase passes over the failed newest snapshot for the older one that verified ok. Its big.bin chunk is
    // gone, so big.bin cannot be reused from it and is read again; the other files still are reused.
    const r3 = await backupFolder(ctx.store, src, { id: 'rebase' });
    expect(r3.base).not.toBe(r2.path);
    expect(r3.base).toBe(r1.path);
    expect(r3.bytesRead).toBeGreaterThanOrEqual(statSync(join(src, 'docs/big.bin')).size);
    expect(r3.bytesReused).toBeGreaterThanOrEqual(statSync(join(src, 'photos/pic.bin')).size);
    expect(r3.bytesRead + r3.bytesReused).toBe(r3.bytesTotal);
    expect(chunkOfFile(ctx.store, r3.snapshot, 'docs/big.bin').hex).toBe(chunk.hex);
    expect(existsSync(chunk.path)).toBe(true);
    expect(ctx.store.chunks.readChunk(chunk.hex, { length: chunk.end - chunk.start }).length).toBe(
      chunk.end - chunk.start,
    );
    expect(readFileSync(chunk.path).equals(good)).toBe(true);
    expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`]);

    const fresh = await verify(ctx.store, { snapshot: r3.snapshot });
    expect(only(fresh)).toEqual({ snapshot: r3.path, state: 'ok', problems: [] });
    expect(verifyState(ctx.store, r3.snapshot)).toBe('ok');
    // The next backup bases on the good one again.
    const r4 = await backupFolder(ctx.store, src, { id: 'rebase' });
    expect(r4.base).toBe(r3.path);
  });

  it('when every snapshot of the group failed verify there is no base: everything is read and written again', async () => {
    const src = sourceTree(scratch('no-base'), 'no-base');
    const r1 = await backupFolder(ctx.store, src, { id: 'no-base' });
    const chunk = chunkOfFile(ctx.store, r1.snapshot, 'photos/pic.bin');
    flipByte(chunk.path);
    expect(only(await verify(ctx.store, { snapshot: r1.snapshot })).state).toBe('failed');

    const r2 = await backupFolder(ctx.store, src, { id: 'no-base' });
    expect(r2.base).toBeUndefined();
    expect(r2.bytesReused).toBe(0);
    expect(r2.bytesRead).toBe(r2.bytesTotal);
    expect(existsSync(chunk.path)).toBe(true);
    expect(only(await verify(ctx.store, { snapshot: r2.snapshot })).state).toBe('ok');
  });

  it('a snapshot held exclusively is skipped with a note, not failed, and nothing is written to it', async () => {
    const r = await backup('held');
    const lock = ctx.store.lockSnapshotExclusive(r.snapshot, `forget of ${r.path}`);
    try {
      const result = await verify(ctx.store, { snapshot: r.snapshot });
      expect(result.ok).toBe(true);
      const snap = only(result);
      expect(snap.state).toBe('skipped');
      expect(snap.problems).toEqual([]);
      expect(snap.note).toMatch(new RegExp(`busy: forget of ${r.path}.*pid ${process.pid}`));
      expect(ctx.store.readManifest(r.snapshot).unprotected.verify_state).toBeUndefined();
    } finally {
      lock.release();
    }
    expect(only(await verify(ctx.store, { snapshot: r.snapshot })).state).toBe('ok');
  });

  it('a corrupt manifest, blob or index file fails the snapshot with a clear problem', async () => {
    const manifestCase = await backup('bad-manifest');
    const manifestPath = join(ctx.store.snapshotDir(manifestCase.snapshot), MANIFEST_NAME);
    flipByte(manifestPath, readFileSync(manifestPath).length - 3);
    const m = only(await verify(ctx.store, { snapshot: manifestCase.snapshot }));
    expect(m.state).toBe('failed');
    expect(m.problems).toHaveLength(1);
    expect(m.problems[0]).toMatchObject({ snapshot: manifestCase.path, archive: MANIFEST_NAME });
    expect(m.problems[0]!.message).toContain(manifestPath);
    expect(m.problems[0]!.message).toMatch(/CRC mismatch/);

    // A folder backup that skipped a FIFO keeps its warnings in backup-log.blob.
    const blobSrc = sourceTree(scratch('bad-blob'), 'bad-blob');
    mkfifo(join(blobSrc, 'pipe'));
    const blobCase = await backupFolder(ctx.store, blobSrc, { id: 'bad-blob' });
    const blobPath = join(ctx.store.snapshotDir(blobCase.snapshot), 'backup-log.blob');
    expect(ctx.store.readManifest(blobCase.snapshot).files.map((f) => f.filename)).toContain('backup-log.blob');
    expect(only(await verify(ctx.store, { snapshot: blobCase.snapshot })).state).toBe('ok');
    flipByte(blobPath);
    const b = only(await verify(ctx.store, { snapshot: blobCase.snapshot }));
    expect(b.state).toBe('failed');
    expect(b.problems).toEqual([expect.objectContaining({ snapshot: blobCase.path, archive: 'backup-log.blob' })]);
    expect(b.problems[0]!.message).toMatch(/checksum differs/);
    expect(verifyState(ctx.store, blobCase.snapshot)).toBe('failed');

    const indexCase = await backup('bad-index');
    const didx = indexPath(ctx.store, indexCase.snapshot, DATA_ARCHIVE);
    flipByte(didx, readFileSync(didx).length - 1); // the last byte of the last digest
    const i = only(await verify(ctx.store, { snapshot: indexCase.snapshot }));
    expect(i.state).toBe('failed');
    expect(i.problems).toEqual([expect.objectContaining({ snapshot: indexCase.path, archive: DATA_ARCHIVE })]);
    expect(i.problems[0]!.message).toMatch(/checksum mismatch/);
    expect(verifyState(ctx.store, indexCase.snapshot)).toBe('failed');
  });
});

describe('verify judges a chunk only by evidence about the chunk, and a backup never reuses a damaged copy', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  /** Rewrites a .didx with entry 0 ending one byte earlier (every length after it still adds up) and a csum that fits. */
  function shiftFirstCut(path: string): void {
    const bytes = readFileSync(path);
    const end = bytes.readBigUInt64LE(4096);
    bytes.writeBigUInt64LE(end - 1n, 4096);
    createHash('sha256').update(bytes.subarray(4096)).digest().copy(bytes, 32);
    writeFileSync(path, bytes);
  }

  it('an index that gives wrong lengths fails its own snapshot; the healthy chunks it names stay, and a snapshot sharing them verifies ok', async () => {
    const src = sourceTree(scratch('shared'), 'shared-lengths');
    const damaged = await backupFolder(ctx.store, src, { id: 'damaged-index' });
    const healthy = await backupFolder(ctx.store, src, { id: 'healthy' });
    const first = digestsOf(ctx.store, damaged.snapshot, DATA_ARCHIVE)[0]!;
    expect(digestsOf(ctx.store, healthy.snapshot, DATA_ARCHIVE)).toContain(first);
    shiftFirstCut(indexPath(ctx.store, damaged.snapshot, DATA_ARCHIVE));

    const result = await verify(ctx.store, { store: true });
    const byPath = new Map(result.snapshots.map((r) => [r.snapshot, r]));
    expect(byPath.get(healthy.path)).toEqual({ snapshot: healthy.path, state: 'ok', problems: [] });
    const bad = byPath.get(damaged.path)!;
    expect(bad.state).toBe('failed');
    expect(bad.problems.map((p) => p.message).join('\n')).toMatch(/index differs from the manifest/);
    expect(bad.problems.map((p) => p.message).join('\n')).toMatch(
      new RegExp(`the index is damaged: entry 0 gives chunk ${first} \\d+ bytes, but it holds \\d+`),
    );
    expect(
      bad.problems.every((p) => p.chunk === undefined),
      JSON.stringify(bad.problems),
    ).toBe(true);
    expect(result.corruptChunks).toBe(0);
    expect(existsSync(ctx.store.chunks.chunkPath(first))).toBe(true);
    expect(badCopies(ctx.store.chunks.chunkPath(first))).toEqual([]);
    // Either order of the two snapshots gives the same verdicts.
    expect(only(await verify(ctx.store, { snapshot: healthy.snapshot })).state).toBe('ok');
    expect(only(await verify(ctx.store, { snapshot: damaged.snapshot })).state).toBe('failed');
  });

  it('a fresh backup of data whose chunks are damaged on disk (a flipped bit, a truncation) writes them anew and verifies ok', async () => {
    const src = sourceTree(scratch('orig'), 'damaged-on-disk');
    const orig = await backupFolder(ctx.store, src, { id: 'orig' });
    const flipped = chunkOfFile(ctx.store, orig.snapshot, 'docs/big.bin');
    const truncated = chunkOfFile(ctx.store, orig.snapshot, 'photos/pic.bin');
    const size = statSync(flipped.path).size;
    flipByte(flipped.path, size - 5);
    expect(statSync(flipped.path).size).toBe(size);
    truncateSync(truncated.path, Math.floor(statSync(truncated.path).size / 2));

    const warnings: string[] = [];
    const fresh = await backupFolder(ctx.store, src, {
      id: 'fresh',
      log: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    expect(
      warnings.filter((w) => /moved it aside to [0-9a-f]{64}\.0\.bad and wrote the chunk anew/.test(w)),
    ).toHaveLength(2);
    expect(fresh.newChunks).toBeGreaterThanOrEqual(2);
    expect(only(await verify(ctx.store, { snapshot: fresh.snapshot }))).toEqual({
      snapshot: fresh.path,
      state: 'ok',
      problems: [],
    });
    const out = scratch('out');
    await restoreFolder(ctx.store, fresh.snapshot, out);
    expect(readFileSync(join(out, 'docs/big.bin')).equals(readFileSync(join(src, 'docs/big.bin')))).toBe(true);
    expect(readFileSync(join(out, 'photos/pic.bin')).equals(readFileSync(join(src, 'photos/pic.bin')))).toBe(true);
    // The older snapshot shared the chunks: it is whole again too.
    expect(only(await verify(ctx.store, { snapshot: orig.snapshot })).state).toBe('ok');
  });

  it('a manifest that lists no archives, or half a folder archive, fails verify as restore refuses it', async () => {
    const r = await backupFolder(ctx.store, sourceTree(scratch('empty-manifest'), 'empty-manifest'), {
      id: 'empty-manifest',
    });
    const path = join(ctx.store.snapshotDir(r.snapshot), MANIFEST_NAME);
    const manifest = ctx.store.readManifest(r.snapshot);
    const full = manifest.files;
    writeFileAtomicSync(path, encodeManifest({ ...manifest, files: [] }));
    await expectCode(restoreFolder(ctx.store, r.snapshot, scratch('t1')), 'NOT_FOUND', /has no archive/);
    const none = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(none.state).toBe('failed');
    expect(none.problems).toEqual([
      expect.objectContaining({
        archive: MANIFEST_NAME,
        message: 'the manifest lists no archives: there is nothing to restore',
      }),
    ]);

    writeFileAtomicSync(path, encodeManifest({ ...manifest, files: full.filter((f) => f.filename !== DATA_ARCHIVE) }));
    await expectCode(restoreFolder(ctx.store, r.snapshot, scratch('t2')), 'NOT_FOUND', /has no archive/);
    const half = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(half.state).toBe('failed');
    expect(half.problems[0]!.message).toMatch(/a folder snapshot needs both folder\.meta\.didx and folder\.data\.didx/);
  });
});

describe('verify: chunks that are well-formed blobs of the wrong content or crypt mode (spec 9.2)', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  /** Rewrites the manifest as a PBS client would have written it with this crypt mode for the payload archive. */
  function setCryptMode(ref: SnapshotRef, mode: CryptMode): void {
    const manifest = ctx.store.readManifest(ref);
    for (const f of manifest.files) if (f.filename === DATA_ARCHIVE) f['crypt-mode'] = mode;
    writeFileAtomicSync(join(ctx.store.snapshotDir(ref), MANIFEST_NAME), encodeManifest(manifest));
  }

  /** Replaces a chunk file by a blob whose CRC is right but whose content is other bytes of the same length. */
  function replaceContent(chunk: ChunkRef): void {
    writeFileSync(
      chunk.path,
      encodeBlob(pseudoRandomBytes(chunk.end - chunk.start, `other-${chunk.hex}`), { compress: false }),
    );
  }

  for (const mode of ['none', 'sign-only'] as const) {
    it(`crypt-mode ${mode}: a chunk with a valid CRC but other content fails on its digest and is moved aside`, async () => {
      const r = await backupFolder(ctx.store, sourceTree(scratch(mode), `wrong-${mode}`), { id: `wrong-${mode}` });
      setCryptMode(r.snapshot, mode);
      // Sign-only archives have plain chunks (only the manifest is signed): fully checkable without a key.
      expect(only(await verify(ctx.store, { snapshot: r.snapshot })).state).toBe('ok');
      const chunk = chunkOfFile(ctx.store, r.snapshot, 'docs/big.bin');
      replaceContent(chunk);
      const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
      expect(snap.state).toBe('failed');
      expect(snap.problems).toEqual([
        expect.objectContaining({ archive: DATA_ARCHIVE, chunk: chunk.hex, affects: ['/docs/big.bin'] }),
      ]);
      expect(snap.problems[0]!.message).toMatch(/digest mismatch/);
      expect(badCopies(chunk.path)).toEqual([`${chunk.hex}.0.bad`]);
    });
  }

  it('an encrypted chunk in a plain archive is an error, but is not moved aside for that alone', async () => {
    const r = await backupFolder(ctx.store, sourceTree(scratch('mixed'), 'mixed-mode'), { id: 'mixed' });
    const chunk = chunkOfFile(ctx.store, r.snapshot, 'docs/big.bin');
    const crypt = new CryptConfig(Buffer.alloc(32, 7));
    const encrypted = encodeBlob(pseudoRandomBytes(chunk.end - chunk.start, 'mixed-enc'), { compress: false, crypt });
    writeFileSync(chunk.path, encrypted);
    const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(snap.state).toBe('failed');
    expect(snap.problems).toEqual([expect.objectContaining({ archive: DATA_ARCHIVE, chunk: chunk.hex })]);
    expect(snap.problems[0]!.message).toMatch(/encrypted/);
    expect(badCopies(chunk.path)).toEqual([]);
    expect(readFileSync(chunk.path).equals(encrypted)).toBe(true);
  });

  it('plain chunks in an archive the manifest says is encrypted are errors, none moved aside', async () => {
    const r = await backupFolder(ctx.store, sourceTree(scratch('enc'), 'claims-encrypted'), { id: 'claims-encrypted' });
    setCryptMode(r.snapshot, 'encrypt');
    const digests = [...new Set(digestsOf(ctx.store, r.snapshot, DATA_ARCHIVE))];
    const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(snap.state).toBe('failed');
    expect(
      snap.problems
        .filter((p) => p.archive === DATA_ARCHIVE)
        .map((p) => p.chunk)
        .sort(),
    ).toEqual(digests.sort());
    for (const p of snap.problems) expect(p.message).toMatch(/not encrypted/);
    for (const hex of digests) expect(existsSync(ctx.store.chunks.chunkPath(hex)), hex).toBe(true);
  });
});

describe('verify: scope (snapshot, group, store), images, progress and cancel', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  it('verifies one snapshot, a group (newest first, unfinished ones left out) or the whole store', async () => {
    const a1 = await backupFolder(ctx.store, sourceTree(scratch('a'), 'scope-a1'), { id: 'alpha' });
    const a2 = await backupFolder(ctx.store, sourceTree(scratch('a'), 'scope-a2'), {
      id: 'alpha',
      allowOtherSource: true,
    });
    const b1 = await backupFolder(ctx.store, sourceTree(scratch('b'), 'scope-b1'), { id: 'beta' });
    // A backup that is still being written has nothing to check yet.
    const unfinished = ctx.store.beginSnapshot({ type: 'host', id: 'alpha' });
    try {
      const one = await verify(ctx.store, { snapshot: a1.snapshot });
      expect(one.snapshots.map((s) => s.snapshot)).toEqual([a1.path]);
      expect(one.snapshotsTotal).toBe(1);

      const group = await verify(ctx.store, { group: { type: 'host', id: 'alpha' } });
      expect(group.snapshots.map((s) => [s.snapshot, s.state])).toEqual([
        [a2.path, 'ok'],
        [a1.path, 'ok'],
      ]);
      expect(group.snapshotsTotal).toBe(2);

      const all = await verify(ctx.store, { store: true });
      expect(all.snapshots.map((s) => s.snapshot).sort()).toEqual([a1.path, a2.path, b1.path].sort());
      expect(all.ok).toBe(true);
      expect(all.snapshotsDone).toBe(3);
      const distinct = new Set([a1, a2, b1].flatMap((r) => allDigests(ctx.store, r.snapshot)));
      expect(all.chunksChecked).toBe(distinct.size);
      expect(existsSync(unfinished.dir)).toBe(true);
    } finally {
      unfinished.abort();
    }
  });

  it('an image snapshot with a bad chunk reports the byte range it covers', async () => {
    const dir = scratch('image');
    const chunkSize = 64 * KiB;
    const file = put(dir, 'disk.img', pseudoRandomBytes(MiB + 1000, 'verify-image'));
    const r = await backupImage(ctx.store, file, { id: 'disk', chunkSize });
    expect(r.archive).toBe('disk.img.fidx');
    expect(only(await verify(ctx.store, { snapshot: r.snapshot })).state).toBe('ok');

    const index = openIndex(indexPath(ctx.store, r.snapshot, r.archive));
    expect(index.chunkCount).toBe(17);
    const k = 5;
    const hex = index.digest(k).toString('hex');
    flipByte(ctx.store.chunks.chunkPath(hex));
    const snap = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(snap.state).toBe('failed');
    expect(snap.problems).toEqual([
      expect.objectContaining({
        snapshot: r.path,
        archive: 'disk.img.fidx',
        chunk: hex,
        affects: [`disk.img.fidx bytes ${k * chunkSize}-${(k + 1) * chunkSize}`],
      }),
    ]);
    expect(badCopies(ctx.store.chunks.chunkPath(hex))).toEqual([`${hex}.0.bad`]);

    // The short last chunk: its range ends at the end of the image.
    const last = index.digest(16).toString('hex');
    unlinkSync(ctx.store.chunks.chunkPath(last));
    const again = only(await verify(ctx.store, { snapshot: r.snapshot }));
    expect(again.problems.map((p) => p.affects)).toContainEqual([
      `disk.img.fidx bytes ${16 * chunkSize}-${MiB + 1000}`,
    ]);
  });

  it('reports progress: totals from the start, bytesDone rising to bytesTotal at the end', async () => {
    const src = sourceTree(scratch('progress'), 'progress');
    const p1 = await backupFolder(ctx.store, src, { id: 'progress' });
    put(src, 'docs/added.bin', pseudoRandomBytes(300 * KiB, 'progress-added'));
    const p2 = await backupFolder(ctx.store, src, { id: 'progress' });
    const bytes = [p1, p2].flatMap((r) => ctx.store.readManifest(r.snapshot).files).reduce((n, f) => n + f.size, 0);

    const events: VerifyProgress[] = [];
    const result = await verify(
      ctx.store,
      { group: { type: 'host', id: 'progress' } },
      {
        progressIntervalMs: 0,
        onProgress: (p) => events.push(p),
      },
    );
    expect(result.ok).toBe(true);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const e of events) expect([e.snapshotsTotal, e.bytesTotal]).toEqual([2, bytes]);
    expect(bytes).toBeGreaterThan(0);
    expect(events[0]!.currentSnapshot).toBe(p2.path);
    expect(events.map((e) => e.currentSnapshot)).toContain(p1.path);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
      expect(events[i]!.chunksChecked).toBeGreaterThanOrEqual(events[i - 1]!.chunksChecked);
    }
    expect(events.at(-1)).toMatchObject({ bytesDone: bytes, bytesTotal: bytes, snapshotsDone: 2, snapshotsTotal: 2 });
    expect(result).toMatchObject({ bytesDone: bytes, bytesTotal: bytes, snapshotsDone: 2 });
  });

  it('progress still ends at bytesTotal and snapshotsTotal when a snapshot is skipped or its manifest is unreadable', async () => {
    const src = sourceTree(scratch('progress-skip'), 'progress-skip');
    const group = { type: 'host', id: 'progress-skip' } as const;
    const s1 = await backupFolder(ctx.store, src, { id: group.id });
    const s2 = await backupFolder(ctx.store, src, { id: group.id });
    const s3 = await backupFolder(ctx.store, src, { id: group.id });
    const bytes = (r: FolderBackupResult): number =>
      ctx.store.readManifest(r.snapshot).files.reduce((n, f) => n + f.size, 0);
    const manifestPath = join(ctx.store.snapshotDir(s1.snapshot), MANIFEST_NAME);
    flipByte(manifestPath, readFileSync(manifestPath).length - 3);
    const lock = ctx.store.lockSnapshotExclusive(s2.snapshot, 'forget of it');
    const events: VerifyProgress[] = [];
    let result: VerifyResult;
    try {
      result = await verify(ctx.store, { group }, { progressIntervalMs: 0, onProgress: (p) => events.push(p) });
    } finally {
      lock.release();
    }
    expect(result.snapshots.map((s) => [s.snapshot, s.state])).toEqual([
      [s3.path, 'ok'],
      [s2.path, 'skipped'],
      [s1.path, 'failed'],
    ]);
    expect(result.ok).toBe(false);
    const total = events[0]!.bytesTotal;
    expect(total).toBeGreaterThanOrEqual(bytes(s3) + bytes(s2));
    expect(events.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total, snapshotsDone: 3, snapshotsTotal: 3 });
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
  });

  it('cancels through an AbortSignal: CANCELLED, snapshots not reached keep no verify_state, and a later verify works', async () => {
    const src = sourceTree(scratch('cancel'), 'cancel');
    const c1 = await backupFolder(ctx.store, src, { id: 'cancel' });
    const c2 = await backupFolder(ctx.store, src, { id: 'cancel' });
    const group = { type: 'host', id: 'cancel' } as const;

    const before = new AbortController();
    before.abort();
    await expectCode(verify(ctx.store, { group }, { signal: before.signal }), 'CANCELLED', /verify cancelled/);
    expect(ctx.store.readManifest(c1.snapshot).unprotected.verify_state).toBeUndefined();
    expect(ctx.store.readManifest(c2.snapshot).unprotected.verify_state).toBeUndefined();

    const during = new AbortController();
    const events: VerifyProgress[] = [];
    await expectCode(
      verify(
        ctx.store,
        { group },
        {
          signal: during.signal,
          progressIntervalMs: 0,
          onProgress: (p) => {
            events.push(p);
            during.abort();
          },
        },
      ),
      'CANCELLED',
      /verify cancelled/,
    );
    expect(events.length).toBeGreaterThan(0);
    // Newest first: the cancel came while the newest was being checked, so the older one was never reached.
    expect(ctx.store.readManifest(c1.snapshot).unprotected.verify_state).toBeUndefined();

    // No lock was left behind: a forget-style exclusive lock and a full verify both work.
    ctx.store.lockSnapshotExclusive(c2.snapshot, 'check').release();
    const result = await verify(ctx.store, { group });
    expect(result.snapshots.map((s) => s.state)).toEqual(['ok', 'ok']);
  });
});
