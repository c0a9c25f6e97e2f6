import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chunkListDigest,
  encodeDirectoryRecord,
  EntryKind,
  UNTRUSTED_LISTING,
  type DirectoryEntry,
} from '../../../core/archive/archive-format.js';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import {
  batchStarts,
  restoreFolder,
  type FolderRestoreProgress,
  type FolderRestoreResult,
} from '../../../core/archive/folder-restore.js';
import { diffSnapshots } from '../../../core/archive/snapshot-diff.js';
import type { SnapshotRef } from '../../../core/backup/backup-names.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { verify } from '../../../core/verify/verify.js';
import { craftDirectory, craftRaw, craftSnapshot, type CraftNode, type StreamBuilder } from '../../support/crafted.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { filesOutOfPayloadOrder, outOfOrderSnapshot } from '../../support/out-of-order.js';
import { expectCode } from '../../support/errors.js';
import { expectSameTree, put, readTree, stampTimes, tmpFiles } from '../../support/tree.js';
import { tempDir, removeTree, useTempDirs } from '../../support/temp.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The restore finished, and exactly these entries were not restored, each for a reason matching its pattern. */
function expectFailed(result: FolderRestoreResult, expected: [string, RegExp][]): void {
  expect(result.failed.map((f) => f.path).sort(), JSON.stringify(result.failed)).toEqual(
    expected.map(([p]) => p).sort(),
  );
  for (const [path, pattern] of expected) expect(result.failed.find((f) => f.path === path)!.message).toMatch(pattern);
  expect(result.failedCount).toBe(expected.length);
}

describe('restoring part of a snapshot, and existing files', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();
  let src = '';
  let ref: SnapshotRef | undefined;

  beforeAll(async () => {
    src = tempDir('restore-src');
    put(src, 'top.txt', 'top');
    put(src, 'docs/readme.txt', 'read me');
    put(src, 'docs/sub/a.txt', textBytes(3000, 4), 0o640);
    put(src, 'docs/sub/b.bin', pseudoRandomBytes(200 * KiB, 'restore-b'));
    put(src, 'docs/sub/deeper/c.txt', 'deeper');
    linkSync(join(src, 'docs/sub/a.txt'), join(src, 'docs/sub/hl.txt'));
    // Backed up first (docs < hard-first.txt): the file entry is docs/sub/hl2.txt, the hardlink is at the top.
    put(src, 'docs/sub/hl2.txt', 'linked across folders');
    linkSync(join(src, 'docs/sub/hl2.txt'), join(src, 'hard-first.txt'));
    symlinkSync('sub/a.txt', join(src, 'docs/link'));
    for (let i = 0; i < 100; i++) put(src, `many/f-${String(i).padStart(3, '0')}.txt`, textBytes(500 + i * 13, i + 7));
    linkSync(join(src, 'many/f-000.txt'), join(src, 'many/z-link.txt'));
    stampTimes(src);
    ref = (await backupFolder(ctx.store, src, { id: 'parts' })).snapshot;
  });
  afterAll(() => {
    if (src) removeTree(src);
  });

  it('restores a folder of the snapshot: its contents go into the target', async () => {
    const target = join(scratch('sub'), 'out');
    const result = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub' });
    expectSameTree(join(src, 'docs/sub'), target);
    expect(result).toMatchObject({ target, conflicts: 0, filesTotal: 5, filesDone: 5 });
    expect(result.bytesDone).toBe(result.bytesTotal);
    // The same with slashes around the path.
    const again = scratch('sub-slashes');
    await restoreFolder(ctx.store, ref!, again, { path: '/docs/sub/' });
    expectSameTree(join(src, 'docs/sub'), again);
  });

  it('restores a folder of 100+ files (the parallel path) exactly', async () => {
    const target = scratch('many');
    const result = await restoreFolder(ctx.store, ref!, target, { path: 'many' });
    expectSameTree(join(src, 'many'), target);
    expect(result).toMatchObject({ filesTotal: 101, filesDone: 101, conflicts: 0 });
    expect(tmpFiles(target)).toEqual([]);
  });

  it('splits the files into batches the workers take in turn: in payload order, each file once, at most 4 MiB or 1024 files', () => {
    const sizes = [0, 0, 5, 4 * MiB, 1, ...Array.from({ length: 2500 }, (_, i) => i % 7), 3 * MiB, 2 * MiB, 10];
    const starts = batchStarts(sizes.map((size) => ({ size })));
    expect(starts[0]).toBe(0);
    expect(starts.at(-1)).toBe(sizes.length);
    for (let b = 0; b + 1 < starts.length; b++) {
      const batch = sizes.slice(starts[b], starts[b + 1]);
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(1024);
      // A batch closes as soon as it reaches a limit, so without its last file it is under both.
      expect(batch.slice(0, -1).reduce((n, x) => n + x, 0)).toBeLessThan(4 * MiB);
      if (b + 2 < starts.length)
        expect(batch.length === 1024 || batch.reduce((n, x) => n + x, 0) >= 4 * MiB).toBe(true);
    }
    expect(batchStarts([])).toEqual([0]);
  });

  it('restores a folder of several batches with both workers, exactly', async () => {
    const work = scratch('batches-src');
    for (let i = 0; i < 80; i++)
      put(
        work,
        `d${i % 3}/f-${String(i).padStart(2, '0')}.bin`,
        pseudoRandomBytes(i % 10 === 0 ? 2 * 1024 * KiB : 3000 + i, `batch-${i}`),
      );
    stampTimes(work);
    const result = await backupFolder(ctx.store, work, { id: 'batches' });
    const target = scratch('batches');
    const restored = await restoreFolder(ctx.store, result.snapshot, target);
    expect(restored).toMatchObject({ filesTotal: 80, filesDone: 80, conflicts: 0 });
    expectSameTree(work, target);
    expect(tmpFiles(target)).toEqual([]);
    // Again into the same folder: every file is kept, and progress still reaches the total.
    const again = await restoreFolder(ctx.store, result.snapshot, target);
    expect(again).toMatchObject({ filesDone: 80, conflicts: 80, bytesDone: again.bytesTotal });
    expect(again.bytesTotal).toBeGreaterThan(0);
  });

  it('restores one file into the target, with its mode and mtime', async () => {
    const target = scratch('one');
    const result = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub/a.txt' });
    expect(readdirSync(target)).toEqual(['a.txt']);
    expect(readFileSync(join(target, 'a.txt')).equals(readFileSync(join(src, 'docs/sub/a.txt')))).toBe(true);
    const want = statSync(join(src, 'docs/sub/a.txt'), { bigint: true });
    const got = statSync(join(target, 'a.txt'), { bigint: true });
    expect(got.mode & 0o7777n).toBe(0o640n);
    expect(got.mtimeNs - want.mtimeNs <= 1000n && want.mtimeNs - got.mtimeNs <= 1000n).toBe(true);
    expect(result).toMatchObject({ filesTotal: 1, filesDone: 1, bytesDone: 3000, conflicts: 0 });

    // A hardlink whose first link is not part of the restore is restored as a copy of the content.
    await restoreFolder(ctx.store, ref!, target, { path: 'hard-first.txt' });
    expect(readFileSync(join(target, 'hard-first.txt'), 'utf8')).toBe('linked across folders');
    expect(statSync(join(target, 'hard-first.txt')).nlink).toBe(1);
    // A symlink on its own.
    await restoreFolder(ctx.store, ref!, target, { path: 'docs/link' });
    expect(readlinkSync(join(target, 'link'))).toBe('sub/a.txt');
    expect(readdirSync(target).sort()).toEqual(['a.txt', 'hard-first.txt', 'link']);
  });

  it('fails on a missing or invalid path before writing anything', async () => {
    const target = join(scratch('missing'), 'not-created');
    await expectCode(
      restoreFolder(ctx.store, ref!, target, { path: 'docs/nope.txt' }),
      'NOT_FOUND',
      /"docs\/nope\.txt" is not in snapshot/,
    );
    await expectCode(restoreFolder(ctx.store, ref!, target, { path: 'docs/../top.txt' }), 'INVALID_NAME');
    await expectCode(restoreFolder(ctx.store, ref!, target, { path: 'top.txt/x' }), 'NOT_FOUND');
    expect(existsSync(target)).toBe(false);
  });

  it('keeps existing files unless asked to overwrite (conflicts counts them), never writing through a symlink', async () => {
    const work = scratch('existing');
    const target = join(work, 'target');
    const outside = put(work, 'outside/victim.txt', 'outside the target');
    put(target, 'a.txt', 'my own a');
    put(target, 'deeper/c.txt', 'my own c');
    symlinkSync(outside, join(target, 'b.bin'));
    put(target, 'mine.txt', 'not in the snapshot');

    const kept = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub' });
    expect(kept.conflicts).toBe(3);
    expect(kept.keptSame).toBe(0); // each differs from the snapshot
    expect(kept.bytesDone).toBe(kept.bytesTotal);
    expect(kept.keptPaths).toHaveLength(3);
    expect(kept.warnings).toEqual([]);
    expect(readFileSync(join(target, 'a.txt'), 'utf8')).toBe('my own a');
    expect(readFileSync(join(target, 'deeper/c.txt'), 'utf8')).toBe('my own c');
    expect(lstatSync(join(target, 'b.bin')).isSymbolicLink()).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('outside the target');
    // What was not there is restored; a hardlink to a kept file is not linked to the user's file.
    expect(readFileSync(join(target, 'hl2.txt'), 'utf8')).toBe('linked across folders');
    expect(readFileSync(join(target, 'hl.txt')).equals(readFileSync(join(src, 'docs/sub/a.txt')))).toBe(true);
    expect(statSync(join(target, 'hl.txt')).ino).not.toBe(statSync(join(target, 'a.txt')).ino);

    const replaced = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub', overwrite: true });
    expect(replaced.conflicts).toBe(0);
    expect(replaced.replaced).toBe(3); // a.txt, deeper/c.txt and the symlink b.bin all differed
    for (const rel of ['a.txt', 'b.bin', 'deeper/c.txt', 'hl.txt', 'hl2.txt']) {
      expect(lstatSync(join(target, rel)).isFile(), rel).toBe(true);
      expect(readFileSync(join(target, rel)).equals(readFileSync(join(src, 'docs/sub', rel))), rel).toBe(true);
    }
    expect(statSync(join(target, 'hl.txt')).ino).toBe(statSync(join(target, 'a.txt')).ino);
    expect(readFileSync(outside, 'utf8')).toBe('outside the target');
    expect(readFileSync(join(target, 'mine.txt'), 'utf8')).toBe('not in the snapshot');
    expect(tmpFiles(work)).toEqual([]);

    // Restored again over what the last restore wrote: every entry is there as backed up, one edit aside.
    writeFileSync(join(target, 'deeper/c.txt'), 'edited since');
    const again = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub' });
    expect(again.filesRestored).toBe(0);
    expect(again.conflicts).toBe(again.filesTotal);
    expect(again.keptSame).toBe(again.conflicts - 1);
    // Overwritten: only the edited one counts as replaced, and the log names it.
    const lines: string[] = [];
    const over = await restoreFolder(ctx.store, ref!, target, {
      path: 'docs/sub',
      overwrite: true,
      log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) },
    });
    expect(over.replaced).toBe(1);
    expect(lines).toContain(`replacing ${join(target, 'deeper')}/c.txt, which differs from the snapshot`);
    expect(readFileSync(join(target, 'deeper/c.txt')).equals(readFileSync(join(src, 'docs/sub/deeper/c.txt')))).toBe(
      true,
    );
  });

  it("passes each line to the job's log, and lists the warnings in the result too", async () => {
    const target = scratch('logged');
    put(target, 'a.txt', 'my own a');
    mkdirSync(join(target, 'b.bin'));
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(`info: ${m}`), warn: (m: string) => lines.push(`warn: ${m}`) };

    const result = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub', log });
    expect(lines).toEqual([
      'warn: not restored: /docs/sub/b.bin: cannot restore /docs/sub/b.bin: a folder is in the way',
      `info: kept existing ${join(target, 'a.txt')}, which differs in size or date (not overwriting)`,
    ]);
    expect(result.warnings).toEqual([
      'not restored: /docs/sub/b.bin: cannot restore /docs/sub/b.bin: a folder is in the way',
    ]);
  });

  it('a folder in the way of a file, or a file in the way of a folder, is named as not restored; the rest is restored', async () => {
    const target = scratch('in-the-way');
    mkdirSync(join(target, 'b.bin'));
    const first = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub', overwrite: true });
    expectFailed(first, [['/docs/sub/b.bin', /b\.bin: a folder is in the way/]]);
    expect(readdirSync(join(target, 'b.bin'))).toEqual([]);
    expect(readFileSync(join(target, 'a.txt')).equals(readFileSync(join(src, 'docs/sub/a.txt')))).toBe(true);

    const other = scratch('in-the-way-2');
    writeFileSync(join(other, 'deeper'), 'a file where a folder goes');
    const second = await restoreFolder(ctx.store, ref!, other, { path: 'docs/sub', overwrite: true });
    expectFailed(second, [['/docs/sub/deeper', /deeper: it is not a folder; nothing in it was restored/]]);
    expect(readFileSync(join(other, 'deeper'), 'utf8')).toBe('a file where a folder goes');
    expect(readFileSync(join(other, 'b.bin')).equals(readFileSync(join(src, 'docs/sub/b.bin')))).toBe(true);
  });

  it('refuses to restore through a symlinked folder in the target, or into a symlinked target', async () => {
    const work = scratch('symlinked');
    const outside = join(work, 'outside');
    mkdirSync(outside);
    const target = join(work, 'target');
    mkdirSync(target);
    symlinkSync(outside, join(target, 'deeper'));
    for (const overwrite of [false, true]) {
      const result = await restoreFolder(ctx.store, ref!, target, { path: 'docs/sub', overwrite });
      expectFailed(result, [
        ['/docs/sub/deeper', /refusing to restore through .*deeper: it is a symlink; nothing in it was restored/],
      ]);
      expect(readdirSync(outside)).toEqual([]);
      expect(lstatSync(join(target, 'deeper')).isSymbolicLink()).toBe(true);
      expect(existsSync(join(target, 'a.txt'))).toBe(true);
    }
    const linkedTarget = join(work, 'linked-target');
    symlinkSync(outside, linkedTarget);
    await expectCode(
      restoreFolder(ctx.store, ref!, linkedTarget, { path: 'docs' }),
      'PATH_NOT_ALLOWED',
      /it is a symlink/,
    );
    expect(readdirSync(outside)).toEqual([]);
  });

  it('cancels a restore: CANCELLED, no tmp files, not every file written', async () => {
    const target = scratch('cancel');
    const ac = new AbortController();
    const events: FolderRestoreProgress[] = [];
    await expectCode(
      restoreFolder(ctx.store, ref!, target, {
        path: 'docs/sub',
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          events.push(p);
          if (ac.signal.aborted) return;
          ac.abort();
          // A slow disk: make this file take longer than the job's 50 ms between cancel checks.
          const until = performance.now() + 60;
          while (performance.now() < until) {
            /* busy */
          }
        },
      }),
      'CANCELLED',
      /restore cancelled/,
    );
    expect(events.length).toBeGreaterThan(0);
    expect(tmpFiles(target)).toEqual([]);
    const written = [...readTree(target).values()].filter((e) => e.kind === 'file').length;
    expect(written).toBeLessThan(5);
  });

  // When a cancel counts: until the last file and hardlink are written it stops the restore (CANCELLED); after that
  // the restore is complete, so it finishes (folder attributes) and reports success.
  it('a cancel that arrives before the restore starts writing stops it: CANCELLED, no file written', async () => {
    const target = scratch('cancel-early');
    const ac = new AbortController();
    ac.abort();
    await expectCode(
      restoreFolder(ctx.store, ref!, target, { path: 'many', signal: ac.signal }),
      'CANCELLED',
      /restore cancelled/,
    );
    expect([...readTree(target).values()].filter((e) => e.kind === 'file')).toEqual([]);
  });

  it('a cancel after the workers wrote every file but before the hardlinks were made: CANCELLED, the link missing', async () => {
    const target = scratch('cancel-before-links');
    const ac = new AbortController();
    const seen: FolderRestoreProgress[] = [];
    await expectCode(
      restoreFolder(ctx.store, ref!, target, {
        path: 'many',
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          seen.push(p);
          if (p.filesDone === 100) ac.abort(); // 100 files (written by the workers) of 101 entries: the hardlink is left
        },
      }),
      'CANCELLED',
      /restore cancelled/,
    );
    expect(seen.at(-1)).toMatchObject({ filesTotal: 101, filesDone: 100 });
    expect(existsSync(join(target, 'z-link.txt'))).toBe(false);
    expect(readdirSync(target)).toHaveLength(100);
    expect(tmpFiles(target)).toEqual([]);
  });

  it('a cancel once every file and hardlink is written changes nothing: success, the tree complete with its attributes', async () => {
    const target = scratch('cancel-late');
    const ac = new AbortController();
    const result = await restoreFolder(ctx.store, ref!, target, {
      path: 'many',
      signal: ac.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.filesDone === p.filesTotal) ac.abort();
      },
    });
    expect(ac.signal.aborted).toBe(true);
    expect(result).toMatchObject({ filesTotal: 101, filesDone: 101, conflicts: 0 });
    expectSameTree(join(src, 'many'), target);
  });
});

describe('restoring an incremental snapshot, its files out of payload order', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  it('restores every file exactly with the workers, those after the changed file in the tree too', async () => {
    const src = scratch('incremental-src');
    const snap = await outOfOrderSnapshot(ctx.store, src, 'incremental');
    // The case itself: most files lie before a file planned ahead of them.
    expect(filesOutOfPayloadOrder(new FolderArchiveReader(ctx.store.openSnapshot(snap)))).toBeGreaterThan(100);
    const target = scratch('incremental-out');
    const result = await restoreFolder(ctx.store, snap, target, { workers: 2 });
    expect(result.failed).toEqual([]);
    expectSameTree(src, target);
    expect(result).toMatchObject({ filesTotal: 180, filesDone: 180, conflicts: 0 });
    expect(tmpFiles(target)).toEqual([]);
  });
});

describe('restoring damaged snapshots', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  async function oneBigFile(id: string): Promise<{ ref: SnapshotRef; data: Buffer }> {
    const src = scratch(id);
    const data = pseudoRandomBytes(3 * 1024 * KiB, `damaged-${id}`);
    put(src, 'x.bin', data);
    put(src, 'small.txt', `small file of ${id}`);
    return { ref: (await backupFolder(ctx.store, src, { id })).snapshot, data };
  }

  it('goes past a damaged data chunk: the file on it is named with the chunk and left out, no torn file, the rest restored', async () => {
    const { ref } = await oneBigFile('corrupt');
    const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref));
    const entry = reader.get('x.bin');
    if (entry.kind !== EntryKind.File) throw new Error('x.bin is not a file');
    const digest = reader.dataIndex.digest(reader.dataIndex.chunkAt(entry.payloadOffset + entry.size - 1));
    const path = ctx.store.chunks.chunkPath(digest);
    const raw = readFileSync(path);
    raw[raw.length >> 1]! ^= 0x01;
    writeFileSync(path, raw);

    const target = scratch('corrupt-target');
    const result = await restoreFolder(ctx.store, ref, target);
    expectFailed(result, [['/x.bin', new RegExp(digest.toString('hex'))]]);
    expect(existsSync(join(target, 'x.bin'))).toBe(false);
    expect(tmpFiles(target)).toEqual([]);
    // The other file is intact: restored in the same run.
    expect(readFileSync(join(target, 'small.txt'), 'utf8')).toBe('small file of corrupt');
    expect(result.filesRestored).toBe(1);
  });

  it('goes past a missing data chunk, naming the file and the chunk', async () => {
    const { ref, data } = await oneBigFile('missing');
    const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref));
    const entry = reader.get('x.bin');
    if (entry.kind !== EntryKind.File) throw new Error('x.bin is not a file');
    const first = reader.dataIndex.chunkAt(entry.payloadOffset);
    const digest = reader.dataIndex.digest(first);
    expect(reader.dataIndex.chunkEnd(first) - reader.dataIndex.chunkStart(first)).toBeLessThanOrEqual(data.length);
    ctx.store.chunks.readChunk(digest); // it is there now
    rmSync(ctx.store.chunks.chunkPath(digest));
    const target = scratch('missing-target');
    const result = await restoreFolder(ctx.store, ref, target);
    expectFailed(result, [['/x.bin', new RegExp(`chunk ${digest.toString('hex')} is missing`)]]);
    expect(existsSync(join(target, 'x.bin'))).toBe(false);
    expect(readFileSync(join(target, 'small.txt'), 'utf8')).toBe('small file of missing');
    expect(tmpFiles(target)).toEqual([]);
  });
  it("keeps a damaged file's readable rest as <name>.damaged only when asked, on the job's thread and in the workers", async () => {
    const src = scratch('keep');
    const data = pseudoRandomBytes(3 * 1024 * KiB, 'damaged-keep');
    put(src, 'x.bin', data);
    put(src, 'small.txt', 'small file of keep');
    // 100 small files more take a restore with workers onto the worker threads.
    for (let n = 0; n < 100; n++) put(src, `more/${n}.txt`, `file ${n}`);
    const ref = (await backupFolder(ctx.store, src, { id: 'keep' })).snapshot;
    const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref));
    const entry = reader.get('x.bin');
    if (entry.kind !== EntryKind.File) throw new Error('x.bin is not a file');
    const i = reader.dataIndex.chunkAt(entry.payloadOffset + (entry.size >> 1));
    const from = reader.dataIndex.chunkStart(i) - entry.payloadOffset;
    const to = reader.dataIndex.chunkEnd(i) - entry.payloadOffset;
    const path = ctx.store.chunks.chunkPath(reader.dataIndex.digest(i));
    const raw = readFileSync(path);
    raw[raw.length >> 1]! ^= 0x01;
    writeFileSync(path, raw);
    const expected = Buffer.from(data);
    expected.fill(0, from, to);

    for (const workers of [0, 2]) {
      const target = scratch(`keep-target-${workers}`);
      const result = await restoreFolder(ctx.store, ref, target, { keepDamaged: true, workers });
      expectFailed(result, [['/x.bin', /the readable rest is in \/x\.bin\.damaged \(1 damaged chunk as zeros\)/]]);
      expect(existsSync(join(target, 'x.bin'))).toBe(false);
      expect(readFileSync(join(target, 'x.bin.damaged')).equals(expected)).toBe(true);
      expect(readFileSync(join(target, 'small.txt'), 'utf8')).toBe('small file of keep');
      expect(tmpFiles(target)).toEqual([]);
    }
    const plain = scratch('keep-target-plain');
    await restoreFolder(ctx.store, ref, plain);
    expect(readdirSync(plain).sort()).toEqual(['more', 'small.txt']);
  });

  it('names the chunk of small files that was swapped for another sound blob (right CRC, wrong content), also in the workers', async () => {
    // Small files are checked by their own SHA-256, not by their chunk's digest: the chunk is found when one fails.
    const src = scratch('swapped');
    const big = pseudoRandomBytes(3 * 1024 * KiB, 'swapped-big');
    put(src, 'x.bin', big);
    const small = Array.from({ length: 70 }, (_, n) => `/more/${n}.txt`);
    for (const path of small) put(src, path, `content of ${path}`);
    const ref = (await backupFolder(ctx.store, src, { id: 'swapped' })).snapshot;
    const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref));
    const entry = reader.get('more/0.txt');
    if (entry.kind !== EntryKind.File) throw new Error('more/0.txt is not a file');
    const i = reader.dataIndex.chunkAt(entry.payloadOffset);
    const digest = reader.dataIndex.digest(i);
    const length = reader.dataIndex.chunkEnd(i) - reader.dataIndex.chunkStart(i);
    const at = entry.payloadOffset - reader.dataIndex.chunkStart(i);
    const other = Buffer.from(ctx.store.chunks.readChunk(digest)).fill(0x41, at, at + 8); // in more/0.txt only
    expect(other.length).toBe(length);
    writeFileSync(ctx.store.chunks.chunkPath(digest), encodeBlob(other, { compress: true }));

    for (const workers of [0, 2]) {
      const target = scratch(`swapped-target-${workers}`);
      const result = await restoreFolder(ctx.store, ref, target, { workers });
      // Only the file whose bytes changed is left out, naming the chunk; those beside it on the chunk are sound.
      expectFailed(result, [['/more/0.txt', new RegExp(`chunk ${digest.toString('hex')}: digest mismatch`)]]);
      expect(existsSync(join(target, 'more', '0.txt'))).toBe(false);
      expect(readFileSync(join(target, 'more', '1.txt'), 'utf8')).toBe('content of /more/1.txt');
      expect(readFileSync(join(target, 'x.bin')).equals(big)).toBe(true);
      expect(tmpFiles(target)).toEqual([]);
      const kept = scratch(`swapped-kept-${workers}`);
      const withCopies = await restoreFolder(ctx.store, ref, kept, { workers, keepDamaged: true });
      expect(withCopies.failed.find((f) => f.path === '/more/0.txt')!.message).toMatch(
        /the readable rest is in \/more\/0\.txt\.damaged \(1 damaged chunk as zeros\)/,
      );
      expect(readFileSync(join(kept, 'more', '0.txt.damaged')).equals(Buffer.alloc(entry.size))).toBe(true);
    }
  });
});

describe('crafted archives', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();
  let n = 0;

  /** A work folder with an empty target and an empty folder outside it. */
  function workspace(): { work: string; target: string; outside: string } {
    const work = scratch('crafted');
    mkdirSync(join(work, 'target'));
    mkdirSync(join(work, 'outside'));
    return { work, target: join(work, 'target'), outside: join(work, 'outside') };
  }

  function expectNothingOutside(w: { work: string; outside: string }): void {
    expect(readdirSync(w.work).sort()).toEqual(['outside', 'target']);
    expect(readdirSync(w.outside)).toEqual([]);
  }

  /** Verify judges a crafted snapshot as restore does: failed where restore refuses it, ok where it restores. */
  async function expectVerify(ref: SnapshotRef, state: 'ok' | 'failed', pattern?: RegExp): Promise<void> {
    const result = await verify(ctx.store, { snapshot: ref });
    const snap = result.snapshots[0]!;
    expect(snap.state, JSON.stringify(snap.problems)).toBe(state);
    if (pattern) expect(snap.problems.map((p) => p.message).join('\n')).toMatch(pattern);
  }

  const pwned: CraftNode = { kind: 'file', name: 'pwned', content: 'written where it must not be' };
  const unsafe: [string, CraftNode[]][] = [
    ['a folder named ..', [{ kind: 'dir', name: '..', children: [pwned] }]],
    ['a file named ..', [{ kind: 'file', name: '..', content: 'x' }]],
    ['a folder named .', [{ kind: 'dir', name: '.', children: [pwned] }]],
    ['an empty name', [{ kind: 'file', name: '', content: 'x' }]],
    ['a name with a slash', [{ kind: 'file', name: '../outside/pwned', content: 'x' }]],
    ['a folder name with a slash', [{ kind: 'dir', name: 'x/../..', children: [pwned] }]],
    ['a name with NUL', [{ kind: 'file', name: Buffer.from('a\0b'), content: 'x' }]],
    [
      'unsorted names',
      [
        { kind: 'file', name: 'b', content: 'b' },
        { kind: 'file', name: 'a', content: 'a' },
      ],
    ],
    [
      'a symlink and a folder of the same name',
      [
        { kind: 'symlink', name: 'link', target: '/' },
        { kind: 'dir', name: 'link', children: [pwned] },
      ],
    ],
    [
      'two files of the same name',
      [
        { kind: 'file', name: 'same', content: '1' },
        { kind: 'file', name: 'same', content: '2' },
      ],
    ],
  ];
  for (const [label, children] of unsafe) {
    it(`refuses ${label} as CORRUPT (the folder's listing is not restored) and writes nothing outside the target`, async () => {
      const w = workspace();
      // The symlink case points at the real outside folder, so a followed link would show there.
      const nodes = children.map((c) => (c.kind === 'symlink' ? { ...c, target: w.outside } : c));
      const ref = craftSnapshot(ctx.store, `crafted-${++n}`, nodes);
      const reader = new FolderArchiveReader(ctx.store.openSnapshot(ref));
      await expectCode(() => reader.list(''), 'CORRUPT', /unsafe entry name|not sorted or duplicated/);
      for (const overwrite of [false, true]) {
        expectFailed(await restoreFolder(ctx.store, ref, w.target, { overwrite }), [
          ['/', /its listing cannot be restored: .*(unsafe entry name|not sorted or duplicated)/],
        ]);
        expectNothingOutside(w);
      }
      expect(readdirSync(w.target)).toEqual([]);
      await expectVerify(
        ref,
        'failed',
        /its listing cannot be restored: .*(unsafe entry name|not sorted or duplicated)/,
      );
    });
  }

  it('refuses an unsafe name deeper in the tree as CORRUPT, writing nothing outside the target', async () => {
    const w = workspace();
    const ref = craftSnapshot(ctx.store, `crafted-${++n}`, [
      {
        kind: 'dir',
        name: 'ok',
        children: [{ kind: 'dir', name: '..', children: [{ kind: 'dir', name: '..', children: [pwned] }] }],
      },
    ]);
    expectFailed(await restoreFolder(ctx.store, ref, w.target), [
      ['/ok', /its listing cannot be restored: .*unsafe entry name/],
    ]);
    expectNothingOutside(w);
    expect(tmpFiles(w.work)).toEqual([]);
    await expectVerify(ref, 'failed', /^\/ok: its listing cannot be restored: .*unsafe entry name/m);
  });

  it('never links a hardlink entry to a file outside the target: it gets its own content', async () => {
    const w = workspace();
    const victim = put(w.outside, 'victim.txt', 'outside');
    const ref = craftSnapshot(ctx.store, `crafted-${++n}`, [
      { kind: 'hardlink', name: 'abs', content: 'payload of abs', linkTarget: victim },
      { kind: 'hardlink', name: 'rel', content: 'payload of rel', linkTarget: '../outside/victim.txt' },
    ]);
    await restoreFolder(ctx.store, ref, w.target, { overwrite: true });
    expect(readFileSync(join(w.target, 'abs'), 'utf8')).toBe('payload of abs');
    expect(readFileSync(join(w.target, 'rel'), 'utf8')).toBe('payload of rel');
    const st = statSync(victim);
    expect(st.nlink).toBe(1);
    expect(statSync(join(w.target, 'abs')).ino).not.toBe(st.ino);
    expect(readFileSync(victim, 'utf8')).toBe('outside');
    expect(readdirSync(w.outside)).toEqual(['victim.txt']);
    await expectVerify(ref, 'ok');
  });

  it('restores a crafted symlink to outside as a symlink, and a later restore cannot write through it', async () => {
    const w = workspace();
    const first = craftSnapshot(ctx.store, 'crafted-two-step', [{ kind: 'symlink', name: 'link', target: w.outside }]);
    await restoreFolder(ctx.store, first, w.target);
    expect(readlinkSync(join(w.target, 'link'))).toBe(w.outside);
    const second = craftSnapshot(ctx.store, 'crafted-two-step', [{ kind: 'dir', name: 'link', children: [pwned] }]);
    for (const overwrite of [false, true]) {
      expectFailed(await restoreFolder(ctx.store, second, w.target, { overwrite }), [
        ['/link', /link: it is a symlink/],
      ]);
      expectNothingOutside(w);
    }
  });

  it('does not restore a file whose content lies outside the payload stream, or whose checksum is wrong', async () => {
    const w = workspace();
    const fileAt =
      (payloadOffset: number, size: number, digest: Buffer) =>
      (meta: StreamBuilder, data: StreamBuilder): DirectoryEntry => {
        if (data.offset === 0) data.write(Buffer.from('actual content'));
        return rootWithOneFile(meta, { name: 'f', size, payloadOffset, digest });
      };
    // 14 bytes of payload; the file claims 100 bytes from offset 7.
    const ref = craftRaw(ctx.store, `crafted-${++n}`, fileAt(7, 100, sha256(Buffer.from('x'))));
    expectFailed(await restoreFolder(ctx.store, ref, w.target), [['/f', /outside the stream/]]);
    expectNothingOutside(w);
    expect(readdirSync(w.target)).toEqual([]);
    await expectVerify(ref, 'failed', /^\/f: its content \[7, 107\) lies outside the payload stream's 14 bytes$/m);

    const bad = craftRaw(ctx.store, `crafted-${++n}`, fileAt(0, 14, sha256(Buffer.from('other content!'))));
    expectFailed(await restoreFolder(ctx.store, bad, w.target), [['/f', /does not match the snapshot's checksum/]]);
    expect(readdirSync(w.target)).toEqual([]);
    await expectVerify(bad, 'failed', /^\/f: its content does not match the SHA-256 the snapshot records for it$/m);
    await expectVerify(
      craftRaw(ctx.store, `crafted-${++n}`, fileAt(0, 14, sha256(Buffer.from('actual content')))),
      'ok',
    );
  });

  describe('files at or above the chunk-digest threshold', () => {
    // The crafted payload stream is cut every 64 KiB; a 128 KiB file at offset 0 lies on its first two chunks.
    const big = pseudoRandomBytes(128 * KiB, 'crafted-big');
    const chunkDigests = [sha256(big.subarray(0, 64 * KiB)), sha256(big.subarray(64 * KiB))];
    const withFile =
      (payloadOffset: number, digest: Buffer, before?: Buffer) =>
      (meta: StreamBuilder, data: StreamBuilder): DirectoryEntry => {
        if (before) data.write(before);
        data.write(big);
        return rootWithOneFile(meta, { name: 'big.bin', size: big.length, payloadOffset, digest });
      };

    it("restores one whose digest is made from its chunks' digests", async () => {
      const w = workspace();
      const ref = craftRaw(ctx.store, `crafted-${++n}`, withFile(0, chunkListDigest(chunkDigests)), {
        chunkDigestMin: 100 * KiB,
      });
      expect(new FolderArchiveReader(ctx.store.openSnapshot(ref)).chunkDigestMin).toBe(100 * KiB);
      await restoreFolder(ctx.store, ref, w.target);
      expect(readFileSync(join(w.target, 'big.bin')).equals(big)).toBe(true);
      await expectVerify(ref, 'ok');
    });

    it("refuses one whose digest is not made from its chunks (the content's SHA-256, say) as CORRUPT, writing nothing", async () => {
      const w = workspace();
      const ref = craftRaw(ctx.store, `crafted-${++n}`, withFile(0, sha256(big)), { chunkDigestMin: 100 * KiB });
      expectFailed(await restoreFolder(ctx.store, ref, w.target), [
        ['/big.bin', /big\.bin: its chunks do not match the snapshot's checksum/],
      ]);
      expect(readdirSync(w.target)).toEqual([]);
      await expectVerify(ref, 'failed', /^\/big\.bin: its chunks do not make the digest the snapshot records for it$/m);
      // Below the threshold the same entry is an ordinary file checked by its content: it restores.
      const small = craftRaw(ctx.store, `crafted-${++n}`, withFile(0, sha256(big)), { chunkDigestMin: 128 * KiB + 1 });
      await restoreFolder(ctx.store, small, w.target);
      expect(readFileSync(join(w.target, 'big.bin')).equals(big)).toBe(true);
      await expectVerify(small, 'ok');
    });

    it('refuses one that does not lie on whole chunks as CORRUPT', async () => {
      const w = workspace();
      const ref = craftRaw(ctx.store, `crafted-${++n}`, withFile(10, chunkListDigest(chunkDigests), Buffer.alloc(10)), {
        chunkDigestMin: 100 * KiB,
      });
      expectFailed(await restoreFolder(ctx.store, ref, w.target), [
        ['/big.bin', /the file at \[10, 131082\) does not lie on whole chunks/],
      ]);
      expect(readdirSync(w.target)).toEqual([]);
      await expectVerify(ref, 'failed', /the file at \[10, 131082\) does not lie on whole chunks/);
    });
  });

  it('refuses an archive of any other format as CORRUPT: a trailer or record with another magic', async () => {
    const w = workspace();
    const files: CraftNode[] = [{ kind: 'file', name: 'f', content: 'x' }];
    const good = craftRaw(ctx.store, `crafted-${++n}`, (meta, data) =>
      craftDirectory(meta, data, Buffer.alloc(0), files),
    );
    expect(new FolderArchiveReader(ctx.store.openSnapshot(good)).list('').map((e) => e.name.toString())).toEqual(['f']);
    // Layouts written before format version 1 (never released), a later one, and bytes that are no trailer.
    for (const [magic, message] of [
      [
        'CAIRNMT3',
        /unsupported folder archive format \(trailer "CAIRNMT3"; this version of Cairn reads format version 1\)/,
      ],
      ['CAIRNMT5', /unsupported folder archive format \(trailer "CAIRNMT5"/],
      ['XXXXXXXX', /no folder archive trailer/],
    ] as const) {
      const ref = craftRaw(
        ctx.store,
        `crafted-${++n}`,
        (meta, data) => craftDirectory(meta, data, Buffer.alloc(0), files),
        { trailerMagic: magic },
      );
      await expectCode(() => new FolderArchiveReader(ctx.store.openSnapshot(ref)), 'CORRUPT', message);
      await expectCode(restoreFolder(ctx.store, ref, w.target), 'CORRUPT', message);
      await expectVerify(ref, 'failed', message);
    }
    // A record in the layout before it ("CDR2"): the trailer is this format's, the record is not.
    const oldRecord = craftRaw(ctx.store, `crafted-${++n}`, (meta) => {
      const record = encodeDirectoryRecord([], { recordOffset: meta.offset, payloadBase: 0 });
      record.write('CDR2', 0, 'latin1');
      return {
        kind: EntryKind.Directory,
        name: Buffer.alloc(0),
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtimeNs: 0n,
        recordOffset: meta.write(record),
        recordLength: record.length,
        ino: 0n,
        ctimeNs: UNTRUSTED_LISTING,
      };
    });
    await expectCode(
      () => new FolderArchiveReader(ctx.store.openSnapshot(oldRecord)).list(''),
      'CORRUPT',
      /not a directory record/,
    );
    expectFailed(await restoreFolder(ctx.store, oldRecord, w.target), [['/', /not a directory record/]]);
    await expectVerify(oldRecord, 'failed', /not a directory record/);
    expectNothingOutside(w);
  });

  // Regression test for a bug these tests found: nothing checked that a folder entry points at a record written
  // before its parent's, so a crafted archive whose folder points back at its own record was a cycle: restore
  // recursed until it failed with RangeError (stack overflow) or IO (ENAMETOOLONG, after creating ~800 nested
  // folders), and diff overflowed the stack. Fixed in core/archive/folder-reader.ts (readDirectory).
  it('refuses a directory cycle as CORRUPT', async () => {
    const w = workspace();
    const ref = craftRaw(ctx.store, `crafted-${++n}`, (meta) => {
      const loop = (length: number): Buffer =>
        encodeDirectoryRecord(
          [
            {
              kind: EntryKind.Directory,
              name: Buffer.from('loop'),
              mode: 0o755,
              uid: 0,
              gid: 0,
              mtimeNs: 0n,
              recordOffset: 0,
              recordLength: length,
              ino: 0n,
              ctimeNs: UNTRUSTED_LISTING,
            },
          ],
          { recordOffset: meta.offset, payloadBase: 0 },
        );
      const record = loop(loop(0).length);
      const at = meta.write(record);
      return {
        kind: EntryKind.Directory,
        name: Buffer.alloc(0),
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtimeNs: 0n,
        recordOffset: at,
        recordLength: record.length,
        ino: 0n,
        ctimeNs: UNTRUSTED_LISTING,
      };
    });
    // A folder whose record does not lie before its parent's is refused as soon as it is listed.
    expect(() => new FolderArchiveReader(ctx.store.openSnapshot(ref)).list('')).toThrow(/points forward/);
    await expectCode(() => diffSnapshots(ctx.store, ref, ref), 'CORRUPT');
    expectFailed(await restoreFolder(ctx.store, ref, w.target), [['/', /points forward \(a cycle\?\)/]]);
    expectNothingOutside(w);
    await expectVerify(ref, 'failed', /points forward \(a cycle\?\)/);
  });

  it('refuses a folder entry that points before the start of the metadata or payload stream as CORRUPT', async () => {
    const w = workspace();
    const craft =
      (place: { recordOffset: number; payloadBase: number }, child: { recordOffset: number; payloadBase: number }) =>
      (meta: StreamBuilder): DirectoryEntry => {
        // Encoded as if it lay at `place`, but written at the start of the stream: its distances reach past offset 0.
        const record = encodeDirectoryRecord(
          [
            {
              kind: EntryKind.Directory,
              name: Buffer.from('sub'),
              mode: 0o755,
              uid: 0,
              gid: 0,
              mtimeNs: 0n,
              recordLength: 8,
              ...child,
              ino: 0n,
              ctimeNs: UNTRUSTED_LISTING,
            },
          ],
          place,
        );
        return {
          kind: EntryKind.Directory,
          name: Buffer.alloc(0),
          mode: 0o755,
          uid: 0,
          gid: 0,
          mtimeNs: 0n,
          recordOffset: meta.write(record),
          recordLength: record.length,
          payloadBase: 0,
          ino: 0n,
          ctimeNs: UNTRUSTED_LISTING,
        };
      };
    for (const build of [
      craft({ recordOffset: 100, payloadBase: 0 }, { recordOffset: 0, payloadBase: 0 }),
      craft({ recordOffset: 0, payloadBase: 1000 }, { recordOffset: 0, payloadBase: 0 }),
    ]) {
      const ref = craftRaw(ctx.store, `crafted-${++n}`, build);
      expect(() => new FolderArchiveReader(ctx.store.openSnapshot(ref)).list('')).toThrow(
        /points outside the metadata or payload stream/,
      );
      expectFailed(await restoreFolder(ctx.store, ref, w.target), [
        ['/', /points outside the metadata or payload stream/],
      ]);
      expectNothingOutside(w);
      await expectVerify(ref, 'failed', /points outside the metadata or payload stream/);
    }
  });
});

/** A crafted root folder holding one file entry that claims `size` bytes at `payloadOffset` with `digest`. */
function rootWithOneFile(
  meta: StreamBuilder,
  file: { name: string; size: number; payloadOffset: number; digest: Buffer },
): DirectoryEntry {
  const owner = { mode: 0o644, uid: 0, gid: 0, mtimeNs: 0n, ino: 0n };
  const entry = { kind: EntryKind.File as const, ...owner, ctimeNs: 0n, ...file, name: Buffer.from(file.name) };
  const record = encodeDirectoryRecord([entry], { recordOffset: meta.offset, payloadBase: 0 });
  return {
    kind: EntryKind.Directory,
    name: Buffer.alloc(0),
    ...owner,
    mode: 0o755,
    recordOffset: meta.write(record),
    recordLength: record.length,
    ctimeNs: UNTRUSTED_LISTING,
  };
}
