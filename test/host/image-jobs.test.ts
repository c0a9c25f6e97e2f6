import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppErrorInfo, Result } from '../../contract/errors.js';
import { jobAdvice, jobSummary } from '../../contract/job-summary.js';
import type { JobState } from '../../contract/jobs.js';
import type { FolderListing, GroupRow, SnapshotRow, SourceCheck } from '../../contract/model.js';
import { snapshotPath } from '../../core/backup/backup-names.js';
import { formatBytes } from '../../contract/format.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { pseudoRandomBytes } from '../support/data.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const CHUNK = 64 * 1024;

/**
 * Disk images through the app's host, as the app starts them: a backup-image job into a group that records the
 * image, a restore-image job that writes it back byte for byte, and one past a damaged chunk that needs
 * attention and names the damaged byte range.
 */
describe('disk image backup and restore through the host', () => {
  const base = tempDir('image-jobs', storeTempRoot());
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const store = join(base, 'store');
  const image = join(base, 'disk.img');
  // Random chunks (each stored as its own chunk) and a zero tail, as a disk's unused end.
  const bytes = Buffer.concat([pseudoRandomBytes(5 * CHUNK + 777, 'image-jobs'), Buffer.alloc(3 * CHUNK)]);
  const group = { type: 'host' as const, id: 'disk' };
  let snapshot = { ...group, time: 0 };

  async function call<T>(action: string, payload: unknown): Promise<Result<T>> {
    return (await service.handle(action, payload)) as Result<T>;
  }
  async function refused(action: string, payload: unknown): Promise<AppErrorInfo> {
    const r = await call(action, payload);
    if (r.ok) throw new Error(`${action} should have been refused`);
    return r.error;
  }
  async function run(spec: unknown): Promise<JobState> {
    const r = await call<JobState>('jobs.start', spec);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return service.engine.whenDone(r.value.id);
  }

  beforeAll(async () => {
    writeFileSync(image, bytes);
    expect((await run({ kind: 'create-store', path: store, chunkSize: CHUNK, compression: 'zstd' })).status).toBe(
      'done',
    );
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('backs up an image as a job into a group that records it, and lists it as an image snapshot', async () => {
    const check = await call<SourceCheck>('backup.check-source', { store, source: image, id: 'disk', kind: 'image' });
    expect(check).toEqual({ ok: true, value: { matches: true } });
    const job = await run({ kind: 'backup-image', store, source: image, id: 'disk' });
    expect(job.status, job.error?.message).toBe('done');
    expect(job.title).toBe(`Image backup of ${image}`);
    expect(jobSummary(job)).toMatch(
      /^Backed up the image disk\.img \(.+\) to host\/disk\/.+: .+ new, .+ deduplicated$/,
    );
    expect(job.result).toMatchObject({ bytes: bytes.length, archive: 'disk.img.fidx' });
    const rows = await call<SnapshotRow[]>('snapshots.list', { store, group });
    expect(rows.ok && rows.value.map((r) => [r.kind, r.size])).toEqual([['image', bytes.length]]);
    const groups = await call<GroupRow[]>('groups.list', { store });
    expect(groups.ok && groups.value[0]!.source).toBe(image);
    snapshot = { ...group, time: Datastore.open(store).latestSnapshot(group)!.time };
  });

  it('refuses another image into that group unless the user says it moved, as the folder backup does', async () => {
    const other = join(base, 'other', 'disk.img');
    mkdirSync(join(base, 'other'));
    writeFileSync(other, pseudoRandomBytes(CHUNK, 'other'));
    const check = await call<SourceCheck>('backup.check-source', { store, source: other, id: 'disk', kind: 'image' });
    expect(check).toEqual({ ok: true, value: { matches: false, recorded: image, suggestedId: 'other-disk' } });
    expect((await refused('jobs.start', { kind: 'backup-image', store, source: other, id: 'disk' })).code).toBe(
      'SOURCE_MISMATCH',
    );
    const moved = await run({ kind: 'backup-image', store, source: other, id: 'disk', allowOtherSource: true });
    expect(moved.status, moved.error?.message).toBe('done');
    // Put the group back on the first image for the tests below.
    expect((await run({ kind: 'backup-image', store, source: image, id: 'disk', allowOtherSource: true })).status).toBe(
      'done',
    );
  });

  it('counts the chunks the store holds on disk, on a worker of its own', async () => {
    const usage = await call<{ chunks: number; bytes: number }>('store.usage', { store });
    const stats = Datastore.open(store).chunks.stats();
    expect(usage).toEqual({ ok: true, value: { chunks: stats.chunks, bytes: stats.bytes } });
    expect(stats.chunks).toBeGreaterThan(5);
    expect((await refused('store.usage', { store: join(base, 'nothing') })).code).toBe('STORE_MISSING');
  });

  it('refuses what is not an image file, and paths outside the allowed folders, before a job starts', async () => {
    expect((await refused('jobs.start', { kind: 'backup-image', store, source: base, id: 'x' })).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect((await refused('jobs.start', { kind: 'backup-image', store, source: '/etc/hostname', id: 'x' })).code).toBe(
      'PATH_NOT_ALLOWED',
    );
    expect(
      (await refused('jobs.start', { kind: 'backup-image', store, source: join(store, '.chunks', '0000'), id: 'x' }))
        .code,
    ).toBe('PATH_NOT_ALLOWED');
    expect(
      (
        await refused('jobs.start', {
          kind: 'restore-image',
          store,
          snapshot,
          target: join(store, 'disk.img'),
          overwrite: false,
          keepDamaged: false,
        })
      ).code,
    ).toBe('PATH_NOT_ALLOWED');
    expect(
      (
        await refused('jobs.start', {
          kind: 'restore-image',
          store,
          snapshot,
          target: '/etc/disk.img',
          overwrite: false,
          keepDamaged: false,
        })
      ).code,
    ).toBe('PATH_NOT_ALLOWED');
    expect(
      (await refused('jobs.start', { kind: 'backup-image', store, source: image, id: 'disk', excludes: [] })).code,
    ).toBe('BAD_REQUEST');
  });

  it('restores the image byte for byte into a folder it creates, and refuses to replace a file unless asked', async () => {
    const target = join(base, 'Restored', 'disk.img');
    const job = await run({ kind: 'restore-image', store, snapshot, target, overwrite: false, keepDamaged: false });
    expect(job.status, job.error?.message).toBe('done');
    expect(jobSummary(job)).toBe(
      `Restored the image disk.img (${formatBytes(bytes.length)}) of ${snapshotPath(snapshot)} to ${target}`,
    );
    expect(readFileSync(target).equals(bytes)).toBe(true);
    const again = await refused('jobs.start', {
      kind: 'restore-image',
      store,
      snapshot,
      target,
      overwrite: false,
      keepDamaged: false,
    });
    expect(again).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining(target) });
    writeFileSync(target, 'replaced by the restore');
    expect(
      (await run({ kind: 'restore-image', store, snapshot, target, overwrite: true, keepDamaged: false })).status,
    ).toBe('done');
    expect(readFileSync(target).equals(bytes)).toBe(true);
  });

  it('lists files for the in-app file chooser, and the native save dialog restores to the file chosen there', async () => {
    const listing = await call<FolderListing>('fs.list', { path: image, files: true });
    expect(listing.ok && listing.value).toMatchObject({
      path: base,
      files: [{ name: 'disk.img', path: image, size: bytes.length }],
      filesTruncated: false,
    });
    const folders = await call<FolderListing>('fs.list', { path: base });
    expect(folders.ok && folders.value.files).toBeUndefined();

    const asked: string[] = [];
    const desktop = new HostService({
      platform: {
        host: 'electron',
        pickSaveFile: async (name) => {
          asked.push(name);
          return join(base, 'saved', name);
        },
      },
      dataDir: join(base, 'desktop-data'),
      allowedRoots: [base],
    });
    try {
      const started = (await desktop.handle('dialog.save-image', { store, snapshot })) as Result<JobState>;
      if (!started.ok) throw new Error(started.error.message);
      expect((await desktop.engine.whenDone(started.value.id)).status).toBe('done');
      expect(asked).toEqual(['disk.img']);
      expect(readFileSync(join(base, 'saved', 'disk.img')).equals(bytes)).toBe(true);
    } finally {
      await desktop.shutdown();
    }
    expect((await refused('dialog.save-image', { store, snapshot })).code).toBe('NOT_AVAILABLE');
  });

  it('a restore past a damaged chunk needs attention, names the damaged byte range and leaves no image in place', async () => {
    // The second chunk of the image (bytes 65536 to 131071): flip a byte of its chunk file.
    const ds = Datastore.open(store);
    const digest = ds.openSnapshot(snapshot).openIndex('disk.img.fidx').digest(1).toString('hex');
    const file = join(store, '.chunks', digest.slice(0, 4), digest);
    const chunk = readFileSync(file);
    chunk[chunk.length >> 1]! ^= 0xff;
    writeFileSync(file, chunk);

    const target = join(base, 'damaged', 'disk.img');
    const job = await run({ kind: 'restore-image', store, snapshot, target, overwrite: false, keepDamaged: false });
    expect(job.status).toBe('attention');
    expect(job.problemCount).toBe(1);
    expect(job.problems).toEqual([
      { path: 'bytes 65,536–131,071 (64.0 KiB)', message: expect.stringContaining(digest) },
    ]);
    expect(jobSummary(job)).toBe(
      `The image was not restored: 1 damaged range of disk.img could not be read, so ${target} would not be the image backed up`,
    );
    const repair = [{ group: 'host/disk', source: image }];
    expect(job.advice).toEqual({ kind: 'restore-image', groups: repair, readableRestKept: false });
    expect(jobAdvice(job)).toContain(`back up ${image} (host/disk) again`);
    expect(jobAdvice(job)).toContain('Keep what can be read');
    expect(existsSync(target)).toBe(false);

    const kept = await run({ kind: 'restore-image', store, snapshot, target, overwrite: false, keepDamaged: true });
    expect(kept.status).toBe('attention');
    expect(kept.advice).toEqual({ kind: 'restore-image', groups: repair, readableRestKept: true });
    expect(jobSummary(kept)).toBe(
      `Restored the readable rest of the image disk.img to ${target}.damaged: 1 damaged range is zeros there`,
    );
    const rest = readFileSync(`${target}.damaged`);
    expect(rest.subarray(0, CHUNK).equals(bytes.subarray(0, CHUNK))).toBe(true);
    expect(rest.subarray(CHUNK, 2 * CHUNK).equals(Buffer.alloc(CHUNK))).toBe(true);
    expect(rest.subarray(2 * CHUNK).equals(bytes.subarray(2 * CHUNK))).toBe(true);
  });
});
