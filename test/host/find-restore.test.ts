import { deflateSync } from 'node:zlib';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilePreview, InPlacePreview, PathHistory, SearchUpdate } from '../../contract/find.js';
import type { JobState } from '../../contract/jobs.js';
import type { SnapshotRow } from '../../contract/model.js';
import { HostService } from '../../host/host-service.js';
import { call, failure } from '../support/host-calls.js';
import { pseudoRandomBytes } from '../support/data.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

async function runJob(service: HostService, spec: unknown): Promise<JobState> {
  const job = await call<JobState>(service, 'jobs.start', spec);
  return service.engine.whenDone(job.id);
}

/** A 1×1 PNG, as an image the preview must recognise by its bytes. */
function tinyPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 9);

/** Writes the report as version `n`, dated n days after T0. */
function writeReport(source: string, text: string, n: number): void {
  const file = join(source, 'notes', 'report.txt');
  writeFileSync(file, text);
  utimesSync(file, new Date(T0 + n * DAY), new Date(T0 + n * DAY));
}

/**
 * Search, history, preview and the restore to the original place through the host service, on a group where
 * notes/report.txt changes, is deleted and comes back, and old.txt exists only in the first snapshot.
 */
describe('finding files and restoring them in place, through the host', () => {
  const base = tempDir('host-find', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Documents');
  const group = { type: 'host', id: 'Documents' } as const;
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const updates: SearchUpdate[] = [];
  service.subscribe((event, payload) => {
    if (event === 'search.update') updates.push(payload as SearchUpdate);
  });
  let snaps: SnapshotRow[] = [];
  const backup = async () => {
    const job = await runJob(service, { kind: 'backup', store, source, id: group.id, excludes: [] });
    expect(job.status, job.error?.message).toBe('done');
  };

  beforeAll(async () => {
    mkdirSync(join(source, 'notes'), { recursive: true });
    expect(
      (await runJob(service, { kind: 'create-store', path: store, chunkSize: 1 << 20, compression: 'zstd' })).status,
    ).toBe('done');
    writeReport(source, 'version one\n', 1);
    writeFileSync(join(source, 'old.txt'), 'only at first\n');
    writeFileSync(join(source, 'picture.png'), tinyPng());
    writeFileSync(join(source, 'blob.bin'), pseudoRandomBytes(10_000, 'blob'));
    await backup();
    writeReport(source, 'version two, longer\n', 2);
    rmSync(join(source, 'old.txt'));
    await backup();
    rmSync(join(source, 'notes', 'report.txt'));
    await backup();
    writeReport(source, 'version four, back again\n', 4);
    await backup();
    snaps = await call<SnapshotRow[]>(service, 'snapshots.list', { store, group });
    expect(snaps).toHaveLength(4);
  }, 60_000);
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  const ref = (i: number) => ({ type: snaps[i]!.type, id: snaps[i]!.id, time: snaps[i]!.time });

  /** Starts a search and collects its updates until the last one. */
  async function search(searchId: string, query: Record<string, unknown>): Promise<SearchUpdate[]> {
    const started = await call<{ snapshots: number }>(service, 'search.start', { searchId, store, group, ...query });
    expect(started.snapshots).toBeGreaterThan(0);
    const deadline = Date.now() + 20_000;
    while (!updates.some((u) => u.searchId === searchId && u.state !== 'running')) {
      if (Date.now() > deadline) throw new Error(`search ${searchId} did not end`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return updates.filter((u) => u.searchId === searchId);
  }

  it('searches the group by name: each path once, from the newest snapshot holding it', async () => {
    const news = await search('search-one', { pattern: '*.txt' });
    expect(news.at(-1)).toMatchObject({ state: 'done', snapshotsDone: 4, snapshotsTotal: 4 });
    const hits = news.flatMap((u) => u.hits);
    expect(hits.map((h) => h.path).sort()).toEqual(['notes/report.txt', 'old.txt']);
    expect(hits.find((h) => h.path === 'old.txt')!.snapshot).toEqual(ref(0));
    expect(hits.find((h) => h.path === 'notes/report.txt')).toMatchObject({ snapshot: ref(3), size: 25, kind: 'file' });
  });

  it('filters by size and date, and searches one snapshot only', async () => {
    const big = (await search('search-size', { pattern: 'o', minSize: 5_000 })).flatMap((u) => u.hits);
    expect(big.map((h) => h.path)).toEqual(['blob.bin']);
    const newer = await search('search-date', { pattern: 'report', newerThan: T0 + 3 * DAY });
    expect(newer.flatMap((u) => u.hits).map((h) => h.snapshot)).toEqual([ref(3)]);
    const inFirst = await search('search-snap', { pattern: 'report', snapshot: ref(1) });
    expect(inFirst.flatMap((u) => u.hits)).toMatchObject([{ path: 'notes/report.txt', size: 20, snapshot: ref(1) }]);
  });

  it('refuses a bad search before it starts, and a cancel ends one with a last update', async () => {
    expect((await failure(service, 'search.start', { searchId: 'x', store, group, pattern: 'a' })).code).toBe(
      'BAD_REQUEST',
    );
    const missing = await failure(service, 'search.start', {
      searchId: 'search-missing',
      store,
      group: { type: 'host', id: 'nope' },
      pattern: 'a',
    });
    expect(missing.code).toBe('NOT_FOUND');
    await call(service, 'search.start', { searchId: 'search-cancel', store, group, pattern: '*' });
    await call(service, 'search.cancel', { searchId: 'search-cancel' });
    await new Promise((r) => setTimeout(r, 300));
    const mine = updates.filter((u) => u.searchId === 'search-cancel');
    // It may have ended on its own first; either way exactly one last update, and nothing after it.
    const last = mine.findIndex((u) => u.state !== 'running');
    expect(last).toBe(mine.length - 1);
    expect(['cancelled', 'done']).toContain(mine[last]!.state);
  });

  it('gives the history of a path: versions by content, the absence between them', async () => {
    const history = await call<PathHistory>(service, 'path.history', { store, group, path: 'notes/report.txt' });
    expect(history.versions.map((v) => [v.state, v.changed, v.size])).toEqual([
      ['present', false, 12],
      ['present', true, 20],
      ['absent', false, undefined],
      ['present', true, 25],
    ]);
    expect(history.versions[2]).toMatchObject({ from: ref(2), to: ref(2), snapshots: 1 });
    expect(history.versions[0]!.mtime).toBe(T0 + DAY);
  });

  it('previews text, an image and a binary from the verified file contents', async () => {
    const text = await call<FilePreview>(service, 'snapshot.preview', {
      store,
      snapshot: ref(1),
      path: 'notes/report.txt',
    });
    expect(text).toEqual({
      kind: 'text',
      name: 'report.txt',
      size: 20,
      text: 'version two, longer\n',
      truncated: false,
    });
    const image = await call<FilePreview>(service, 'snapshot.preview', {
      store,
      snapshot: ref(0),
      path: 'picture.png',
    });
    expect(image).toMatchObject({ kind: 'image', mime: 'image/png' });
    expect(Buffer.from((image as { data: string }).data, 'base64')).toEqual(tinyPng());
    const binary = await call<FilePreview>(service, 'snapshot.preview', { store, snapshot: ref(0), path: 'blob.bin' });
    expect(binary).toMatchObject({ kind: 'binary', size: 10_000, truncated: true });
    expect(Buffer.from((binary as { data: string }).data, 'base64')).toEqual(
      pseudoRandomBytes(10_000, 'blob').subarray(0, 4096),
    );
    const folder = await failure(service, 'snapshot.preview', { store, snapshot: ref(0), path: 'notes' });
    expect(folder.code).toBe('INVALID_ARGUMENT');
  });

  it('previews a restore in place: the local file changed since the backup is flagged, not replaced', async () => {
    const req = { store, snapshot: ref(0), path: 'notes/report.txt', conflict: 'keep-both' };
    const preview = await call<InPlacePreview>(service, 'restore.in-place-preview', req);
    expect(preview).toMatchObject({ sources: [source], counts: { 'newer-local': 1 } });
    const asked = await call<InPlacePreview>(service, 'restore.in-place-preview', { ...req, overwriteNewer: true });
    expect(asked.refused).toBeUndefined();
    if (asked.refused) return;
    expect(asked.items).toMatchObject([{ path: 'notes/report.txt', action: 'keep-both', changedSince: true }]);
    expect(asked.changedSince).toBe(1);
    expect(asked.items[0]!.restoredAs).toMatch(/report \(restored \d{4}-\d\d-\d\d\)\.txt$/);
    const all = await call<InPlacePreview>(service, 'restore.in-place-preview', { ...req, path: '' });
    expect(all.refused ? {} : all.counts).toMatchObject({ restore: 1, 'newer-local': 1, unchanged: 2 });
  });

  it('restores in place as a job: keep both puts the old version beside the local one', async () => {
    const job = await runJob(service, {
      kind: 'restore-in-place',
      store,
      snapshot: ref(0),
      path: '',
      conflict: 'keep-both',
      overwriteNewer: true,
    });
    expect(job.status, job.error?.message).toBe('done');
    expect(job.result).toMatchObject({
      kind: 'restore-in-place',
      restored: 1,
      keptBoth: 1,
      unchanged: 2,
      place: source,
    });
    expect(job.title).toBe(`Restore everything of ${snaps[0]!.path} to ${source}`);
    expect(readFileSync(join(source, 'notes', 'report.txt'), 'utf8')).toBe('version four, back again\n');
    const day = new Date().toISOString().slice(0, 10);
    expect(readFileSync(join(source, 'notes', `report (restored ${day}).txt`), 'utf8')).toBe('version one\n');
    expect(readFileSync(join(source, 'old.txt'), 'utf8')).toBe('only at first\n');
  });

  it('previews a restore into a folder: what is there already, checked by the path policy as the restore is', async () => {
    const target = join(base, 'Restored-here');
    mkdirSync(join(target, 'notes'), { recursive: true });
    writeFileSync(join(target, 'notes', 'report.txt'), 'edited there\n');
    const req = { store, snapshot: ref(3), paths: [''], target };
    const preview = await call<{ added: number; same: number; differ: number; differing: string[] }>(
      service,
      'restore.preview',
      req,
    );
    expect(preview).toEqual({ added: 2, same: 0, differ: 1, differing: ['notes/report.txt'] });
    expect((await failure(service, 'restore.preview', { ...req, target: '/etc' })).code).toBe('PATH_NOT_ALLOWED');
    expect((await failure(service, 'restore.preview', { ...req, target: join(store, 'x') })).code).toBe(
      'PATH_NOT_ALLOWED',
    );
    expect((await failure(service, 'restore.preview', { ...req, paths: [] })).code).toBe('BAD_REQUEST');
  });

  it('refuses an in-place restore whose folder lies outside the allowed places', async () => {
    const narrow = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data2'),
      allowedRoots: [store],
    });
    try {
      const req = { store, snapshot: ref(0), path: '', conflict: 'skip' };
      expect((await failure(narrow, 'restore.in-place-preview', req)).code).toBe('PATH_NOT_ALLOWED');
      expect((await failure(narrow, 'jobs.start', { kind: 'restore-in-place', ...req })).code).toBe('PATH_NOT_ALLOWED');
      expect(existsSync(join(source, 'notes'))).toBe(true);
    } finally {
      await narrow.shutdown();
    }
  });

  it('refuses it when the folder is gone and the place above it, where it would stage, is not allowed', async () => {
    const gone = join(base, 'Gone');
    mkdirSync(gone);
    writeFileSync(join(gone, 'a.txt'), 'a');
    const made = await runJob(service, { kind: 'backup', store, source: gone, id: 'Gone', excludes: [] });
    expect(made.status, made.error?.message).toBe('done');
    rmSync(gone, { recursive: true });
    const narrow = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data3'),
      allowedRoots: [store, gone],
    });
    try {
      const [row] = await call<SnapshotRow[]>(narrow, 'snapshots.list', { store, group: { type: 'host', id: 'Gone' } });
      const req = { store, snapshot: { type: row!.type, id: row!.id, time: row!.time }, path: '', conflict: 'skip' };
      const refused = await failure(narrow, 'restore.in-place-preview', req);
      expect(refused.code).toBe('PATH_NOT_ALLOWED');
      expect(refused.message).toMatch(/the folder holding .*Gone \(it is not there/);
      expect(readdirSync(base).filter((n) => n.startsWith('.cairn-restore'))).toEqual([]);
    } finally {
      await narrow.shutdown();
    }
  });
});

describe('an encrypted snapshot and the restore to its original place', () => {
  const base = tempDir('host-find-enc', storeTempRoot());
  const store = join(base, 'store');
  const source = join(base, 'Secret');
  const service = new HostService({
    platform: { host: 'web' },
    dataDir: join(base, 'data'),
    allowedRoots: [base],
    keys: { configDir: join(base, 'config') },
  });
  afterAll(async () => {
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('is refused in words: an encrypted snapshot records no folder', async () => {
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'plan.txt'), 'the plan\n');
    expect(
      (await runJob(service, { kind: 'create-store', path: store, chunkSize: 1 << 20, compression: 'zstd' })).status,
    ).toBe('done');
    const key = await call<{ fingerprint: string }>(service, 'keys.create', { passphrase: 'correct horse battery' });
    const job = await runJob(service, {
      kind: 'backup',
      store,
      source,
      id: 'Secret',
      excludes: [],
      encrypt: { keyFingerprint: key.fingerprint },
    });
    expect(job.status, job.error?.message).toBe('done');
    const [snap] = await call<SnapshotRow[]>(service, 'snapshots.list', {
      store,
      group: { type: 'host', id: 'Secret' },
    });
    const req = { store, snapshot: { type: 'host', id: 'Secret', time: snap!.time }, path: '', conflict: 'keep-both' };
    const preview = await call<InPlacePreview>(service, 'restore.in-place-preview', req);
    expect(preview.refused).toBe('encrypted');
    expect(preview.refused && preview.message).toMatch(/does not record the folder it was backed up from/);
    const refused = await failure(service, 'jobs.start', { kind: 'restore-in-place', ...req });
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Its files preview while the key is unlocked.
    const text = await call<FilePreview>(service, 'snapshot.preview', {
      store,
      snapshot: req.snapshot,
      path: 'plan.txt',
    });
    expect(text).toMatchObject({ kind: 'text', text: 'the plan\n' });
  }, 60_000);
});
