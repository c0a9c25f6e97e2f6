import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const GiB = 1024 ** 3;

/**
 * Inside one large file a job still reports (bytes, the file as the current one) and can be cancelled: a
 * 2.44 GiB file showed "0 / 1 files · 0 B" until it was done, and a cancel waited for the end of the file.
 */
describe('progress and cancel inside a multi-GB file', () => {
  const base = tempDir('large-file', storeTempRoot());
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const store = join(base, 'store');
  const source = join(base, 'vm');
  const size = 2 * GiB + 12345;
  const progress = new Map<string, JobState[]>();
  service.subscribe((event, payload) => {
    if (event !== 'job.progress') return;
    const job = payload as JobState;
    progress.set(job.id, [...(progress.get(job.id) ?? []), job]);
  });

  async function start(spec: unknown): Promise<JobState> {
    const r = (await service.handle('jobs.start', spec)) as Result<JobState>;
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  }

  /** Cancels the job once it has reported `bytes` done of its one file, and waits for its end. */
  async function cancelAfter(job: JobState, bytes: number): Promise<JobState> {
    while ((progress.get(job.id)?.at(-1)?.progress.bytesDone ?? 0) < bytes) await new Promise((r) => setTimeout(r, 5));
    await service.handle('jobs.cancel', { jobId: job.id });
    return service.engine.whenDone(job.id);
  }

  beforeAll(async () => {
    mkdirSync(source, { recursive: true });
    // Sparse, with a few bytes of data: quick to make and to read, and as large as a disk image.
    const fd = openSync(join(source, 'disk.raw'), 'w');
    ftruncateSync(fd, size);
    writeSync(fd, Buffer.from('boot sector'), 0, 11, 0);
    closeSync(fd);
    const created = await start({ kind: 'create-store', path: store, chunkSize: 4 * 1024 * 1024, compression: 'zstd' });
    expect((await service.engine.whenDone(created.id)).status).toBe('done');
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('a backup reports bytes inside the file, names it as the current one, and stops inside it when cancelled', async () => {
    const job = await start({ kind: 'backup', store, source, id: 'vm', excludes: [] });
    const ended = await cancelAfter(job, 256 * 1024 * 1024);
    expect(ended.status).toBe('cancelled');
    const inside = progress
      .get(job.id)!
      .filter((j) => j.progress.phase === 'backing-up' && (j.progress.bytesDone ?? 0) > 0);
    expect(inside.length).toBeGreaterThanOrEqual(2);
    for (const j of inside) {
      expect(j.progress).toMatchObject({ filesDone: 0, filesTotal: 1, currentPath: 'disk.raw', bytesTotal: size });
    }
    // It stopped inside the file: far from its end, and no snapshot was made.
    expect(ended.progress.bytesDone ?? 0).toBeLessThan(size);
    expect(Datastore.open(store).listSnapshots({ type: 'host', id: 'vm' })).toEqual([]);
  });

  it('a restore reports bytes inside the file and, cancelled, stops inside it leaving nothing behind', async () => {
    const backup = await start({ kind: 'backup', store, source, id: 'vm', excludes: [] });
    expect((await service.engine.whenDone(backup.id)).status).toBe('done');
    const snapshot = Datastore.open(store).latestSnapshot({ type: 'host', id: 'vm' })!;
    const target = join(base, 'restored');
    mkdirSync(target);
    const job = await start({
      kind: 'restore',
      store,
      snapshot: { type: 'host', id: 'vm', time: snapshot.time },
      paths: [''],
      target,
      overwrite: false,
    });
    const ended = await cancelAfter(job, 256 * 1024 * 1024);
    expect(ended.status).toBe('cancelled');
    const inside = progress
      .get(job.id)!
      .filter((j) => (j.progress.bytesDone ?? 0) > 0 && (j.progress.bytesDone ?? 0) < size);
    expect(inside.length).toBeGreaterThanOrEqual(2);
    expect(inside.every((j) => j.progress.currentPath === '/disk.raw')).toBe(true);
    expect(readdirSync(target)).toEqual([]);
  });

  it('saving the file from the snapshot stops inside it when cancelled, leaving no partial file', async () => {
    const snapshot = Datastore.open(store).latestSnapshot({ type: 'host', id: 'vm' })!;
    const folder = join(base, 'saved');
    mkdirSync(folder);
    const job = await start({
      kind: 'export-file',
      store,
      snapshot: { type: 'host', id: 'vm', time: snapshot.time },
      path: 'disk.raw',
      target: join(folder, 'disk.raw'),
    });
    const ended = await cancelAfter(job, 256 * 1024 * 1024);
    expect(ended.status).toBe('cancelled');
    expect(readdirSync(folder)).toEqual([]);
  });
});
