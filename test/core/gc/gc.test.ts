import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { collectGarbage, type GcProgress } from '../../../core/gc/garbage-collection.js';
import { GC_STATUS_FILE, readGcStatus } from '../../../core/gc/gc-status.js';
import { checkExplicitStamps } from '../../../core/gc/stamp-check.js';
import { StoreClock } from '../../../core/fs/store-clock.js';
import { PROTECTED_MARKER } from '../../../core/datastore/datastore.js';
import { forgetSnapshot } from '../../../core/prune/forget.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { PBS_GC_STATUS } from '../../support/pbs-files.js';
import { useDatastore } from '../../support/folder-store.js';
import { useChildScripts } from '../../support/processes.js';
import { LEASES_DIR } from '../../../core/locks/lease.js';
import { LOCKS_DIR } from '../../../core/locks/process-lock.js';
import { expectCode } from '../../support/errors.js';
import { ageChunkStore, chunkDirNames, chunksOnDisk, snapshotDigests } from '../../support/store-files.js';
import { expectSameTree, put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

const HOUR = 3_600_000;

describe('garbage collection', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();

  /** Two snapshots of one group that share one file and differ in another. */
  async function twoSnapshots(
    id: string,
  ): Promise<{ first: Awaited<ReturnType<typeof backupFolder>>; second: Awaited<ReturnType<typeof backupFolder>> }> {
    const src = scratch();
    put(src, 'shared.bin', pseudoRandomBytes(3_000_000, `${id}-shared`));
    put(src, 'changing.bin', pseudoRandomBytes(2_500_000, `${id}-v1`));
    const first = await backupFolder(ds.store, src, { id });
    put(src, 'changing.bin', pseudoRandomBytes(2_500_000, `${id}-v2`));
    const second = await backupFolder(ds.store, src, { id });
    return { first, second };
  }

  it('after a snapshot is forgotten, one run frees exactly the chunks only it used, and the rest still verify', async () => {
    const { first, second } = await twoSnapshots('free');
    const store = ds.store;
    const firstDigests = snapshotDigests(store, store.snapshotInfo(first.snapshot));
    const keep = snapshotDigests(store, store.snapshotInfo(second.snapshot));
    const onlyFirst = [...firstDigests].filter((d) => !keep.has(d));
    expect(onlyFirst.length).toBeGreaterThan(0);
    forgetSnapshot(store, first.snapshot);
    ageChunkStore(store, HOUR);

    const result = await collectGarbage(store);
    const onDisk = chunksOnDisk(store);
    for (const d of onlyFirst) expect(onDisk.has(d), `chunk ${d} only the forgotten snapshot used`).toBe(false);
    for (const d of keep) expect(onDisk.has(d), `chunk ${d} of the kept snapshot`).toBe(true);
    expect(result.removedChunks).toBeGreaterThanOrEqual(onlyFirst.length);
    expect(result.removedBytes).toBeGreaterThan(2_000_000);
    expect(result.pendingChunks).toBe(0);
    expect(result.diskChunks).toBe(onDisk.size);
    expect(result.completed).toBe(true);
    expect(result.dedupFactor).toBeGreaterThan(0);
    expect(readGcStatus(store.root)?.removedChunks).toBe(result.removedChunks);
    for (const d of keep) expect(() => store.chunks.readChunk(d)).not.toThrow();
  });

  it("an unchanged backup restamps the base's chunks it reuses (GC.md says why), and GC keeps them", async () => {
    const store = ds.store;
    const src = scratch();
    put(src, 'a.bin', pseudoRandomBytes(3_000_000, 'restamp-a'));
    put(src, 'b.bin', pseudoRandomBytes(2_000_000, 'restamp-b'));
    put(src, 'small.txt', 'small');
    const first = await backupFolder(store, src, { id: 'restamp' });
    const data = new FolderArchiveReader(store.openSnapshot(first.snapshot)).dataIndex;
    const dataDigests = Array.from({ length: data.chunkCount }, (_, i) => data.digest(i).toString('hex'));
    expect(dataDigests.length).toBeGreaterThan(2);
    ageChunkStore(store, 3 * HOUR);
    const stamp = (d: string): number => statSync(store.chunks.chunkPath(d)).mtimeMs;

    const started = Date.now();
    const second = await backupFolder(store, src, { id: 'restamp' });
    expect(second).toMatchObject({ bytesRead: 0, base: first.path });
    for (const d of dataDigests)
      expect(stamp(d), `chunk ${d} reused from the base`).toBeGreaterThanOrEqual(started - 1000);

    forgetSnapshot(store, first.snapshot);
    await collectGarbage(store);
    const onDisk = chunksOnDisk(store);
    for (const d of snapshotDigests(store, store.snapshotInfo(second.snapshot)))
      expect(onDisk.has(d), `chunk ${d}`).toBe(true);
    const target = scratch();
    await restoreFolder(store, second.snapshot, target);
    expectSameTree(src, target);
  });

  it("keeps the base's metadata chunks an appended snapshot begins with after the base is forgotten", async () => {
    const store = ds.store;
    const src = scratch();
    for (let i = 0; i < 300; i++) put(src, `d-${i % 30}/f-${i}.txt`, `file ${i}\n`);
    put(src, 'd-7/big.bin', pseudoRandomBytes(2_000_000, 'appended-v1'));
    const first = await backupFolder(store, src, { id: 'appended' });
    put(src, 'd-7/big.bin', pseudoRandomBytes(2_000_000, 'appended-v2'));
    const second = await backupFolder(store, src, { id: 'appended' });
    expect(second.metadataAppended).toBe(true);
    const baseMeta = new FolderArchiveReader(store.openSnapshot(first.snapshot)).metaIndex;
    const kept = Array.from({ length: baseMeta.chunkCount }, (_, i) => baseMeta.digest(i).toString('hex'));

    forgetSnapshot(store, first.snapshot);
    ageChunkStore(store, 3 * HOUR);
    const result = await collectGarbage(store);
    expect(result.removedBytes).toBeGreaterThan(1_500_000); // the old big.bin
    const onDisk = chunksOnDisk(store);
    for (const d of kept) expect(onDisk.has(d), `base metadata chunk ${d}`).toBe(true);
    const target = scratch();
    await restoreFolder(store, second.snapshot, target);
    expectSameTree(src, target);
  });

  it('keeps chunks of a running backup that has no index yet (pending), and frees them once it is gone', async () => {
    const store = ds.store;
    ageChunkStore(store, HOUR);
    const session = store.startBackup({ type: 'host', id: 'running' });
    const data = pseudoRandomBytes(100_000, 'running-only');
    const digest = sha256(data);
    store.chunks.insert(digest, encodeBlob(data, { compress: false }));
    const hex = Buffer.from(digest).toString('hex');
    // Apart from GC's start by more than the stamps' resolution, so it is clearly written before, not marked by, GC.
    await new Promise((r) => setTimeout(r, 50));
    try {
      const during = await collectGarbage(store);
      expect(store.chunks.exists(hex)).toBe(true);
      expect(during.pendingChunks, JSON.stringify(during)).toBeGreaterThanOrEqual(1);
      expect(during.writersAtStart).toBe(1);
    } finally {
      session.release();
    }
    utimesSync(store.chunks.chunkPath(hex), new Date(Date.now() - HOUR), new Date(Date.now() - HOUR));
    await collectGarbage(store);
    expect(store.chunks.exists(hex)).toBe(false);
  });

  it('warns about a missing chunk naming the index, keeps its .bad copies while needed, and drops stale ones', async () => {
    const store = ds.store;
    const src = scratch();
    put(src, 'a.bin', pseudoRandomBytes(1_500_000, 'missing'));
    const snap = await backupFolder(store, src, { id: 'missing' });
    const digests = [...snapshotDigests(store, store.snapshotInfo(snap.snapshot))];
    const victim = digests[0]!;
    renameSync(store.chunks.chunkPath(victim), `${store.chunks.chunkPath(victim)}.0.bad`);
    // A .bad copy no index needs any more.
    const orphan = 'ab'.repeat(32);
    mkdirSync(join(store.chunks.chunksDir, orphan.slice(0, 4)), { recursive: true });
    writeFileSync(`${store.chunks.chunkPath(orphan)}.0.bad`, 'x');
    ageChunkStore(store, HOUR);

    const result = await collectGarbage(store);
    expect(result.missingChunks).toBe(1);
    expect(result.warnings.some((w) => w.includes(victim) && w.includes('folder.'))).toBe(true);
    expect(existsSync(`${store.chunks.chunkPath(victim)}.0.bad`)).toBe(true);
    expect(existsSync(`${store.chunks.chunkPath(orphan)}.0.bad`)).toBe(false);
    expect(result.removedBad).toBeGreaterThanOrEqual(1);
    expect(result.stillBad).toBeGreaterThanOrEqual(1);
    forgetSnapshot(store, snap.snapshot);
  });

  it('removes crash leftovers older than the cutoff (tmp files, interrupted forgets, abandoned snapshots) and keeps fresh ones', async () => {
    const store = ds.store;
    const src = scratch();
    put(src, 'x.bin', pseudoRandomBytes(200_000, 'leftovers'));
    const snap = await backupFolder(store, src, { id: 'leftovers' });
    const prefix = join(store.chunks.chunksDir, 'abcd');
    const oldTmp = join(prefix, `${'abcd'.padEnd(64, '0')}.tmp_AAAAAA`);
    const freshTmp = join(prefix, `${'abcd'.padEnd(64, '1')}.tmp_BBBBBB`);
    writeFileSync(oldTmp, 'partial');
    writeFileSync(freshTmp, 'partial');
    const groupDir = store.groupDir(snap.snapshot);
    const indexTmp = join(store.snapshotDir(snap.snapshot), 'folder.data.didx.tmp_CCCCCC');
    writeFileSync(indexTmp, 'partial index');
    const forgotten = join(groupDir, '.forgotten-1-deadbeef');
    mkdirSync(forgotten);
    writeFileSync(join(forgotten, 'folder.meta.didx'), 'half removed');
    const abandoned = join(groupDir, '2001-01-01T00:00:00Z');
    mkdirSync(abandoned);
    const past = new Date(Date.now() - HOUR);
    for (const p of [oldTmp, indexTmp, forgotten, abandoned]) utimesSync(p, past, past);

    const result = await collectGarbage(store);
    expect(existsSync(oldTmp)).toBe(false);
    expect(existsSync(freshTmp)).toBe(true);
    expect(existsSync(indexTmp)).toBe(false);
    expect(existsSync(forgotten)).toBe(false);
    expect(existsSync(abandoned)).toBe(false);
    expect(result.removedTmp).toBeGreaterThanOrEqual(3);
    expect(result.removedUnfinished).toBe(1);
    expect(store.snapshotInfo(snap.snapshot).finished).toBe(true);
    rmSync(freshTmp);
  });

  it('refuses to protect an unfinished snapshot; one protected by an older version is kept with a warning, and GC completes', async () => {
    const store = ds.store;
    const src = scratch();
    put(src, 'x.bin', pseudoRandomBytes(100_000, 'protected-unfinished'));
    const snap = await backupFolder(store, src, { id: 'protected-unfinished' });
    const abandoned = { ...snap.snapshot, time: Date.parse('2002-02-02T00:00:00Z') / 1000 };
    const dir = store.snapshotDir(abandoned);
    mkdirSync(dir);
    expectCode(() => store.setProtected(abandoned, true), 'INVALID_ARGUMENT', /not finished/);
    writeFileSync(join(dir, PROTECTED_MARKER), '');
    const past = new Date(Date.now() - HOUR);
    utimesSync(dir, past, past);

    const warnings: string[] = [];
    const result = await collectGarbage(store, { log: { info: () => {}, warn: (m) => warnings.push(m) } });
    expect(result.completed).toBe(true);
    expect(existsSync(dir)).toBe(true);
    expect(warnings.join('\n')).toMatch(/kept .*2002-02-02T00:00:00Z.*protected/);
    expect(readGcStatus(store.root)?.completed).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('reads back only a .gc-status Cairn wrote: a PBS one, a cut-short one and one of another shape are no status', async () => {
    const store = ds.store;
    await collectGarbage(store);
    const written = readFileSync(join(store.root, GC_STATUS_FILE), 'utf8');
    const root = scratch();
    const path = join(root, GC_STATUS_FILE);
    writeFileSync(path, written);
    expect(readGcStatus(root)).toMatchObject({ completed: true, removedChunks: expect.any(Number) });
    for (const text of [
      PBS_GC_STATUS,
      written.slice(0, written.length >> 1),
      '',
      'null',
      '[1, 2]',
      JSON.stringify({ ...(JSON.parse(written) as object), removedChunks: 'seven' }),
      JSON.stringify({ ...(JSON.parse(written) as object), cacheStats: null }),
    ]) {
      writeFileSync(path, text);
      expect(readGcStatus(root), text.slice(0, 80)).toBeUndefined();
    }
    unlinkSync(path);
    expect(readGcStatus(root)).toBeUndefined();
  });

  it("reads the store's clock by the stamp a new file gets, whatever this process's clock says, and leaves nothing behind", () => {
    const dir = scratch();
    const clock = new StoreClock(dir);
    const fileStamp = (): number => {
      writeFileSync(join(dir, 'probe'), '');
      const t = statSync(join(dir, 'probe')).mtimeMs;
      unlinkSync(join(dir, 'probe'));
      return t;
    };
    const before = fileStamp();
    expect(clock.now()).toBeGreaterThanOrEqual(before - 5);
    expect(Math.abs(clock.offsetMs())).toBeLessThan(50);
    // This process an hour ahead (the clock of another computer): the store's time is still the filesystem's.
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    try {
      const skewed = new StoreClock(dir);
      const at = skewed.now();
      expect(at).toBeGreaterThanOrEqual(fileStamp() - 50);
      expect(at).toBeLessThanOrEqual(fileStamp() + 50);
      expect(skewed.offsetMs()).toBeLessThan(-3_599_000);
    } finally {
      spy.mockRestore();
    }
    expect(checkExplicitStamps(dir, () => clock.now())).toMatchObject({ ok: true, granularityMs: 1 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('puts back a chunk a killed GC left parked, when an index still needs it', async () => {
    const store = ds.store;
    const src = scratch();
    put(src, 'p.bin', pseudoRandomBytes(300_000, 'parked'));
    const snap = await backupFolder(store, src, { id: 'parked' });
    const digest = [...snapshotDigests(store, store.snapshotInfo(snap.snapshot))][0]!;
    const path = store.chunks.chunkPath(digest);
    renameSync(path, `${path}.gc`);
    // Readers find it while it is parked.
    expect(() => store.chunks.readChunk(digest)).not.toThrow();
    const result = await collectGarbage(store);
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.gc`)).toBe(false);
    expect(result.missingChunks).toBe(0);
    expect(chunkDirNames(store, /\.gc$/)).toEqual([]);
  });

  it('reports the mark phase, then the sweep phase to 65536 directories, with counters', async () => {
    const events: GcProgress[] = [];
    const result = await collectGarbage(ds.store, { onProgress: (p) => events.push(p), progressIntervalMs: 0 });
    const firstSweep = events.findIndex((e) => e.phase === 'sweep');
    expect(firstSweep).toBeGreaterThan(0);
    expect(events.slice(0, firstSweep).every((e) => e.phase === 'mark')).toBe(true);
    expect(events.slice(firstSweep).every((e) => e.phase === 'sweep')).toBe(true);
    const lastMark = events[firstSweep - 1]!;
    expect(lastMark.indexFilesDone).toBe(lastMark.indexFilesTotal);
    expect(lastMark.indexFilesDone).toBe(result.indexFileCount);
    expect(events.at(-1)!.prefixesDone).toBe(65536);
    const done = events.slice(firstSweep).map((e) => e.prefixesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
  });

  it('can be cancelled in either phase without leaving a parked chunk, and only one GC runs at a time', async () => {
    const store = ds.store;
    await twoSnapshots('cancel');
    ageChunkStore(store, HOUR);
    for (const phase of ['mark', 'sweep'] as const) {
      const controller = new AbortController();
      const run = collectGarbage(store, {
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p.phase === phase && (phase === 'mark' || p.prefixesDone > 30_000)) controller.abort();
        },
      });
      await expectCode(run, 'CANCELLED');
      expect(chunkDirNames(store, /\.gc$/)).toEqual([]);
    }
    const first = collectGarbage(store);
    await expectCode(collectGarbage(store), 'LOCKED', /garbage collection started .* by pid/);
    await first;
  });
});

describe('GC removes what killed processes left in .locks', () => {
  const ds = useDatastore();
  const start = useChildScripts();

  it("leases of killed readers, locks of killed forgets and their holder records go; a live holder's stay", async () => {
    const dead = await start(`
      const { acquireSharedLock, acquireExclusiveResourceLock } = await load('core/locks/shared-lock.js');
      const root = ${JSON.stringify(ds.root)};
      acquireSharedLock(root, 'snap.host.a.1700000000', 'restore of host/a');
      acquireSharedLock(root, 'snap.host.a.1700000001', 'restore of host/a');
      acquireExclusiveResourceLock(root, 'snap.host.b.1700000000', 'forget of host/b');
      ready({});
      setInterval(() => {}, 1 << 30);
    `);
    const live = await start(`
      const { acquireSharedLock } = await load('core/locks/shared-lock.js');
      acquireSharedLock(${JSON.stringify(ds.root)}, 'snap.host.c.1700000000', 'restore of host/c');
      ready({});
      setInterval(() => {}, 1 << 30);
    `);
    await dead.kill();
    const locks = join(ds.root, LOCKS_DIR);
    expect(readdirSync(join(locks, LEASES_DIR)).length).toBe(6);
    const result = await collectGarbage(ds.store);
    expect(result.completed).toBe(true);
    expect(readdirSync(join(locks, LEASES_DIR)).sort()).toEqual([
      expect.stringMatching(/^snap\.host\.c\.1700000000@.*\.json$/),
      expect.stringMatching(/^snap\.host\.c\.1700000000@.*\.lock$/),
    ]);
    expect(readdirSync(locks).filter((n) => n.includes('host.b'))).toEqual([]);
    await live.kill();
  });
});
