import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEventName, HostEvents } from '../../contract/events.js';
import type { JobState } from '../../contract/jobs.js';
import type { FolderPage, GroupRow, LastGc, SnapshotRow, StoreSummary } from '../../contract/model.js';
import { HostService } from '../../host/host-service.js';
import { appVersion } from '../../host/app-version.js';
import { RECENT_STORES_FILE, RecentStores } from '../../host/recent-stores.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { pseudoRandomBytes } from '../support/data.js';
import { PBS_GC_STATUS } from '../support/pbs-files.js';
import { cairn } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';
import { call, failure } from '../support/host-calls.js';

/** The service as a host wires it, on a real datastore in a tmpfs folder. */
function setup(storePollMs?: number) {
  const base = tempDir('host-test', storeTempRoot());
  const events: { event: HostEventName; payload: unknown; at: number }[] = [];
  const service = new HostService({
    platform: { host: 'web' },
    dataDir: join(base, 'data'),
    allowedRoots: [base],
    storePollMs,
  });
  service.subscribe((event, payload) => events.push({ event, payload, at: performance.now() }));
  return { base, service, events };
}

async function runJob(service: HostService, spec: unknown): Promise<JobState> {
  const job = await call<JobState>(service, 'jobs.start', spec);
  return service.engine.whenDone(job.id);
}

describe('HostService on a real datastore', () => {
  const ctx = setup();
  const storePath = join(ctx.base, 'store');
  const source = join(ctx.base, 'Documents');

  beforeAll(async () => {
    mkdirSync(join(source, 'reports', '2026'), { recursive: true });
    writeFileSync(join(source, 'notes.txt'), 'remember the milk\n');
    writeFileSync(join(source, 'reports', '2026', 'q1.bin'), pseudoRandomBytes(3 * 1024 * 1024, 'q1'));
    writeFileSync(join(source, 'reports', 'draft.tmp'), 'scratch');
    const created = await runJob(ctx.service, {
      kind: 'create-store',
      path: storePath,
      chunkSize: 1024 * 1024,
      compression: 'zstd',
    });
    expect(created.status, created.error?.message).toBe('done');
  });
  afterAll(async () => {
    await ctx.service.shutdown();
    rmSync(ctx.base, { recursive: true, force: true });
  });

  it('creates a store with progress and remembers it', async () => {
    const summary = await call<StoreSummary>(ctx.service, 'store.open', { path: storePath });
    expect(summary).toMatchObject({ path: storePath, chunkSize: 1024 * 1024, compression: 'zstd', groups: 0 });
    expect(await call<string[]>(ctx.service, 'stores.recent', {})).toEqual([storePath]);
    const progress = ctx.events
      .filter((e) => e.event === 'job.progress')
      .map((e) => e.payload as JobState)
      .filter((j) => j.kind === 'create-store');
    expect(progress.some((j) => j.progress.total === 65536)).toBe(true);
  });

  it('backs up a folder, lists group and snapshot, browses, restores a file byte for byte', async () => {
    const job = await runJob(ctx.service, {
      kind: 'backup',
      store: storePath,
      source,
      id: 'Documents',
      excludes: ['*.tmp'],
    });
    expect(job.status, job.error?.message).toBe('done');
    expect(job.result).toMatchObject({ kind: 'backup', files: 2 });
    expect(
      ctx.events.some(
        (e) => e.event === 'store.changed' && (e.payload as HostEvents['store.changed']).store === storePath,
      ),
    ).toBe(true);

    const groups = await call<GroupRow[]>(ctx.service, 'groups.list', { store: storePath });
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      type: 'host',
      id: 'Documents',
      snapshotCount: 1,
      lastSize: 3 * 1024 * 1024 + 18,
    });

    const snapshots = await call<SnapshotRow[]>(ctx.service, 'snapshots.list', {
      store: storePath,
      group: { type: 'host', id: 'Documents' },
    });
    expect(snapshots).toHaveLength(1);
    const snap = snapshots[0]!;
    expect(snap).toMatchObject({
      finished: true,
      kind: 'folder',
      files: 2,
      size: 3 * 1024 * 1024 + 18,
      protected: false,
    });
    expect(snap.newBytes).toBeGreaterThan(3 * 1024 * 1024 * 0.9);

    const ref = { type: snap.type, id: snap.id, time: snap.time };
    const top = await call<FolderPage>(ctx.service, 'snapshot.browse', { store: storePath, snapshot: ref, path: '' });
    expect(top.entries.map((e) => [e.name, e.kind])).toEqual([
      ['notes.txt', 'file'],
      ['reports', 'directory'],
    ]);
    expect(top.total).toBe(2);
    const inner = await call<FolderPage>(ctx.service, 'snapshot.browse', {
      store: storePath,
      snapshot: ref,
      path: 'reports/2026',
    });
    expect(inner.entries).toMatchObject([{ name: 'q1.bin', path: 'reports/2026/q1.bin', size: 3 * 1024 * 1024 }]);
    const second = await call<FolderPage>(ctx.service, 'snapshot.browse', {
      store: storePath,
      snapshot: ref,
      path: '',
      offset: 1,
      limit: 1,
    });
    expect(second).toMatchObject({ offset: 1, total: 2, entries: [{ name: 'reports' }] });
    expect(
      (await failure(ctx.service, 'snapshot.browse', { store: storePath, snapshot: ref, path: '', limit: 100_000 }))
        .code,
    ).toBe('BAD_REQUEST');
    expect(
      (await failure(ctx.service, 'snapshot.browse', { store: storePath, snapshot: ref, path: '../..' })).code,
    ).toBe('INVALID_NAME');

    const target = join(ctx.base, 'restored');
    const restore = await runJob(ctx.service, {
      kind: 'restore',
      store: storePath,
      snapshot: ref,
      paths: ['reports/2026/q1.bin', 'reports'],
      target,
      overwrite: false,
    });
    expect(restore.status, restore.error?.message).toBe('done');
    expect(readFileSync(join(target, 'q1.bin')).equals(readFileSync(join(source, 'reports', '2026', 'q1.bin')))).toBe(
      true,
    );
    expect(
      readFileSync(join(target, 'reports', '2026', 'q1.bin')).equals(
        readFileSync(join(source, 'reports', '2026', 'q1.bin')),
      ),
    ).toBe(true);

    const saved = join(ctx.base, 'saved-notes.txt');
    // A symlink planted where the save's tmp file used to go (a predictable name) must not be written through;
    // a tmp file a killed save left is removed.
    const victim = join(ctx.base, 'victim.txt');
    writeFileSync(victim, 'not to be touched');
    symlinkSync(victim, join(ctx.base, '.saved-notes.txt.cairn-tmp'));
    const leftover = join(
      ctx.base,
      `.cairn-${hostname()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 16)}-${spawnSync(process.execPath, ['-e', '']).pid}-0123456789ab.tmp`,
    );
    writeFileSync(leftover, 'left by a killed save');
    const exported = await runJob(ctx.service, {
      kind: 'export-file',
      store: storePath,
      snapshot: ref,
      path: 'notes.txt',
      target: saved,
    });
    expect(exported.status, exported.error?.message).toBe('done');
    expect(readFileSync(saved, 'utf8')).toBe('remember the milk\n');
    expect(readFileSync(victim, 'utf8')).toBe('not to be touched');
    expect(existsSync(leftover)).toBe(false);

    const prot = await call<SnapshotRow>(ctx.service, 'snapshot.set-protected', {
      store: storePath,
      snapshot: ref,
      protected: true,
    });
    expect(prot.protected).toBe(true);
    const noted = await call<GroupRow>(ctx.service, 'group.set-notes', {
      store: storePath,
      group: { type: 'host', id: 'Documents' },
      notes: 'weekly',
    });
    expect(noted.notes).toBe('weekly');
  });

  it('diffs two snapshots', async () => {
    writeFileSync(join(source, 'notes.txt'), 'remember the milk and bread\n');
    writeFileSync(join(source, 'new.txt'), 'new');
    const job = await runJob(ctx.service, {
      kind: 'backup',
      store: storePath,
      source,
      id: 'Documents',
      excludes: ['*.tmp'],
    });
    expect(job.status, job.error?.message).toBe('done');
    const [a, b] = await call<SnapshotRow[]>(ctx.service, 'snapshots.list', {
      store: storePath,
      group: { type: 'host', id: 'Documents' },
    });
    const diff = await call<{ entries: { path: string; change: string }[] }>(ctx.service, 'snapshot.diff', {
      store: storePath,
      from: { type: 'host', id: 'Documents', time: a!.time },
      to: { type: 'host', id: 'Documents', time: b!.time },
    });
    expect(diff.entries.map((e) => [e.path, e.change])).toEqual([
      ['new.txt', 'added'],
      ['notes.txt', 'changed'],
    ]);
    expect(b!.reusedBytes).toBe(3 * 1024 * 1024);
  });

  it('previews excludes', async () => {
    const preview = await call<{ paths: { path: string }[]; excluded: number }>(ctx.service, 'excludes.preview', {
      source,
      patterns: ['*.tmp'],
    });
    expect(preview.paths.map((p) => p.path)).toEqual(['reports/draft.tmp']);
  });

  it('lists folders for the folder browser, inside the allowed roots only', async () => {
    const listing = await call<{ folders: { name: string }[]; parent?: string }>(ctx.service, 'fs.list', {
      path: source,
    });
    expect(listing.folders.map((f) => f.name)).toEqual(['reports']);
    expect(listing.parent).toBe(ctx.base);
    expect((await failure(ctx.service, 'fs.list', { path: '/etc' })).code).toBe('PATH_NOT_ALLOWED');
  });

  it('answers errors with typed codes', async () => {
    expect((await failure(ctx.service, 'store.open', { path: join(ctx.base, 'nothing') })).code).toBe('STORE_MISSING');
    expect((await failure(ctx.service, 'store.open', { path: '/etc' })).code).toBe('PATH_NOT_ALLOWED');
    expect((await failure(ctx.service, 'store.open', { path: 'relative/store' })).code).toBe('PATH_NOT_ALLOWED');
    expect((await failure(ctx.service, 'store.open', { path: 42 })).code).toBe('BAD_REQUEST');
    expect((await failure(ctx.service, 'store.open', { path: storePath, extra: true })).code).toBe('BAD_REQUEST');
    expect((await failure(ctx.service, 'no.such.action', {})).code).toBe('BAD_REQUEST');
    expect((await failure(ctx.service, 'constructor', {})).code).toBe('BAD_REQUEST');
    expect((await failure(ctx.service, '__proto__', {})).code).toBe('BAD_REQUEST');
    expect(
      (
        await failure(ctx.service, 'jobs.start', {
          kind: 'backup',
          store: storePath,
          source,
          id: '../evil',
          excludes: [],
        })
      ).code,
    ).toBe('INVALID_NAME');
    expect(
      (
        await failure(ctx.service, 'jobs.start', {
          kind: 'backup',
          store: storePath,
          source: ctx.base,
          id: 'all',
          excludes: [],
        })
      ).code,
    ).toBe('PATH_NOT_ALLOWED');
    expect(
      (
        await failure(ctx.service, 'jobs.start', {
          kind: 'restore',
          store: storePath,
          snapshot: { type: 'host', id: 'Documents', time: 1 },
          paths: [''],
          target: join(storePath, 'x'),
          overwrite: false,
        })
      ).code,
    ).toBe('PATH_NOT_ALLOWED');
    expect((await failure(ctx.service, 'dialog.pick-folder', { title: 'x' })).code).toBe('NOT_AVAILABLE');
    expect((await failure(ctx.service, 'jobs.cancel', { jobId: 'nope' })).code).toBe('NOT_FOUND');
  });

  it('reports a group held by another backup as STORE_LOCKED', async () => {
    const lock = Datastore.open(storePath).lockGroup({ type: 'host', id: 'Documents' }, 'a test holding the group');
    try {
      const job = await runJob(ctx.service, {
        kind: 'backup',
        store: storePath,
        source,
        id: 'Documents',
        excludes: [],
      });
      expect(job.status).toBe('failed');
      expect(job.error?.code).toBe('STORE_LOCKED');
      expect(job.log.at(-1)?.level).toBe('error');
    } finally {
      lock.release();
    }
  });

  it('cancels a running backup and throttles its progress to about 10 per second', async () => {
    const big = join(ctx.base, 'big');
    mkdirSync(big);
    for (let i = 0; i < 40; i++) writeFileSync(join(big, `f${i}.bin`), pseudoRandomBytes(2 * 1024 * 1024, `big${i}`));
    const before = ctx.events.length;
    const job = await call<JobState>(ctx.service, 'jobs.start', {
      kind: 'backup',
      store: storePath,
      source: big,
      id: 'big',
      excludes: [],
    });
    // Let it run past the scan, then cancel.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (ctx.events.slice(before).some((e) => ((e.payload as JobState).progress?.filesDone ?? 0) > 2)) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    await call(ctx.service, 'jobs.cancel', { jobId: job.id });
    const final = await ctx.service.engine.whenDone(job.id);
    expect(final.status).toBe('cancelled');
    const mine = ctx.events.slice(before).filter((e) => (e.payload as JobState).id === job.id);
    const progress = mine.filter((e) => e.event === 'job.progress');
    for (let i = 2; i < progress.length; i++) {
      // The first event is the "starting" state; after that, at least ~100 ms between pushes.
      expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(90);
    }
    expect(mine.at(-1)!.event).toBe('job.done');
    expect(mine.filter((e) => e.event === 'job.done')).toHaveLength(1);
    // The cancelled snapshot was removed: the group has no snapshot.
    const snaps = await call<SnapshotRow[]>(ctx.service, 'snapshots.list', {
      store: storePath,
      group: { type: 'host', id: 'big' },
    });
    expect(snaps).toEqual([]);
  });

  it('verifies, keeps notes, simulates and runs prune, forgets, and collects garbage with both phases reported', async () => {
    const group = { type: 'host', id: 'Documents' };
    const list = () => call<SnapshotRow[]>(ctx.service, 'snapshots.list', { store: storePath, group });
    const [first, second] = await list();
    const ref = (row: SnapshotRow) => ({ type: row.type, id: row.id, time: row.time });

    const verified = await runJob(ctx.service, { kind: 'verify', store: storePath, group });
    expect(verified.status, verified.error?.message).toBe('done');
    expect(verified.result).toMatchObject({ ok: true, snapshots: 2, failed: 0 });
    expect((await list()).map((r) => r.verifyState)).toEqual(['ok', 'ok']);

    const noted = await call<SnapshotRow>(ctx.service, 'snapshot.set-notes', {
      store: storePath,
      snapshot: ref(second!),
      notes: 'after the edit',
    });
    expect(noted.notes).toBe('after the edit');

    // The first snapshot is protected (an earlier test): forget refuses, prune keeps it.
    expect((await failure(ctx.service, 'snapshot.forget', { store: storePath, snapshot: ref(first!) })).code).toBe(
      'PROTECTED',
    );
    const simulated = await call<{ path: string; mark: string; outcome: string }[]>(
      ctx.service,
      'group.prune-simulate',
      { store: storePath, group, keep: { keepLast: 1 } },
    );
    expect(simulated.map((r) => [r.path, r.mark, r.outcome])).toEqual([
      [second!.path, 'keep', 'kept'],
      [first!.path, 'keep-protected', 'kept'],
    ]);

    await call(ctx.service, 'snapshot.set-protected', { store: storePath, snapshot: ref(first!), protected: false });
    const dry = await call<{ outcome: string }[]>(ctx.service, 'group.prune-simulate', {
      store: storePath,
      group,
      keep: { keepLast: 1 },
    });
    expect(dry.map((r) => r.outcome)).toEqual(['kept', 'would-remove']);
    expect(await list()).toHaveLength(2);
    expect(
      (await failure(ctx.service, 'jobs.start', { kind: 'prune', store: storePath, group, keep: { keepLast: -1 } }))
        .code,
    ).toBe('BAD_REQUEST');
    // A third snapshot to prune as a job; the first one is forgotten by hand.
    await runJob(ctx.service, { kind: 'backup', store: storePath, source, id: 'Documents', excludes: ['*.tmp'] });
    await call(ctx.service, 'snapshot.forget', { store: storePath, snapshot: ref(first!) });
    expect((await list()).map((r) => r.path)).toHaveLength(2);
    const pruned = await runJob(ctx.service, { kind: 'prune', store: storePath, group, keep: { keepLast: 1 } });
    expect(pruned.status, pruned.error?.message).toBe('done');
    expect(pruned.result).toMatchObject({ removed: 1, failed: 0, kept: 1 });
    expect(pruned.progress).toMatchObject({ done: 1, total: 1 });
    const [remaining] = await list();
    expect(await list()).toHaveLength(1);
    expect(remaining!.time).toBeGreaterThan(second!.time);

    // Chunks only the forgotten snapshot used must be older than GC's safety margin to go.
    expect(await call<LastGc>(ctx.service, 'store.gc-status', { store: storePath })).toEqual({ kind: 'never' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const before = ctx.events.length;
    const gc = await runJob(ctx.service, { kind: 'gc', store: storePath });
    expect(gc.status, gc.error?.message).toBe('done');
    const freed = gc.result?.kind === 'gc' ? gc.result.removedBytes : undefined;
    expect(freed).toBeGreaterThan(0);
    const phases = new Set(
      ctx.events
        .slice(before)
        .filter((e) => e.event === 'job.progress' && (e.payload as JobState).id === gc.id)
        .map((e) => (e.payload as JobState).progress.phase),
    );
    expect(phases).toContain('mark');
    expect(phases).toContain('sweep');
    expect(gc.progress.prefixesDone).toBe(65536);
    const status = await call<LastGc>(ctx.service, 'store.gc-status', { store: storePath });
    expect(status).toMatchObject({ kind: 'ran', summary: { removedBytes: freed, completed: true } });
    // A .gc-status PBS wrote, one cut short or of another shape says nothing of the last GC: unknown, not "never".
    const statusFile = join(storePath, '.gc-status');
    const written = readFileSync(statusFile, 'utf8');
    for (const text of [PBS_GC_STATUS, written.slice(0, 100), '{"startedAt": 1}']) {
      writeFileSync(statusFile, text);
      expect(await call<LastGc>(ctx.service, 'store.gc-status', { store: storePath })).toEqual({ kind: 'unknown' });
    }
    writeFileSync(statusFile, written);

    // What is left still restores.
    const target = join(ctx.base, 'after-gc');
    const restore = await runJob(ctx.service, {
      kind: 'restore',
      store: storePath,
      snapshot: ref(remaining!),
      paths: [''],
      target,
      overwrite: false,
    });
    expect(restore.status, restore.error?.message).toBe('done');
    expect(readFileSync(join(target, 'notes.txt'), 'utf8')).toBe('remember the milk and bread\n');
  });
});

describe('HostService: changes made by other processes', () => {
  const ctx = setup(150);
  const storePath = join(ctx.base, 'store');
  afterAll(async () => {
    await ctx.service.shutdown();
    rmSync(ctx.base, { recursive: true, force: true });
  });

  it('announces a backup and a forget done by the CLI in another process, and is quiet while nothing changes', async () => {
    const created = await runJob(ctx.service, {
      kind: 'create-store',
      path: storePath,
      chunkSize: 1024 * 1024,
      compression: 'zstd',
    });
    expect(created.status).toBe('done');
    await call<StoreSummary>(ctx.service, 'store.open', { path: storePath });
    const changes = () =>
      ctx.events.filter(
        (e) => e.event === 'store.changed' && (e.payload as HostEvents['store.changed']).store === storePath,
      ).length;
    const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await settle(500);
    const quiet = changes();
    await settle(600);
    expect(changes(), 'no change, no event').toBe(quiet);

    const src = join(ctx.base, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'from the command line\n');
    const backup = await cairn(['backup', storePath, src, '--id', 'cli']);
    expect(backup.code, backup.stderr).toBe(0);
    await settle(600);
    expect(changes()).toBeGreaterThan(quiet);
    const groups = await call<GroupRow[]>(ctx.service, 'groups.list', { store: storePath });
    expect(groups.map((g) => g.id)).toContain('cli');

    const afterBackup = changes();
    const snapshots = Datastore.open(storePath).listSnapshots({ type: 'host', id: 'cli' });
    const forget = await cairn(['forget', storePath, snapshots[0]!.path]);
    expect(forget.code, forget.stderr).toBe(0);
    await settle(600);
    expect(changes()).toBeGreaterThan(afterBackup);
  });
});

describe('the recent stores file', () => {
  const base = tempDir('recent-test', storeTempRoot());
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('is read back as written, and a broken one (cut short, another shape, a folder) is an empty list that the next save replaces', () => {
    const dataDir = join(base, 'data');
    const file = join(dataDir, RECENT_STORES_FILE);
    const recent = new RecentStores(dataDir);
    expect(recent.list()).toEqual([]);
    expect(recent.add('/a')).toEqual(['/a']);
    expect(recent.add('/b')).toEqual(['/b', '/a']);
    expect(new RecentStores(dataDir).list()).toEqual(['/b', '/a']);
    expect(readFileSync(file, 'utf8')).toBe('[\n  "/b",\n  "/a"\n]\n');

    writeFileSync(file, '["/kept", 7, null, "/also"]');
    expect(recent.list()).toEqual(['/kept', '/also']);
    for (const text of ['["/b", "/a', '', '{"stores": ["/a"]}', 'null', '"/a"']) {
      writeFileSync(file, text);
      expect(recent.list(), text).toEqual([]);
    }
    expect(recent.add('/c')).toEqual(['/c']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(['/c']);
    rmSync(file);
    mkdirSync(file);
    expect(recent.list()).toEqual([]);
  });
});

describe("the app's version", () => {
  const base = tempDir('version-test', storeTempRoot());
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('is read from package.json; one cut short or without a version is an error naming the file', () => {
    expect(appVersion(join(import.meta.dirname, '..', '..'))).toMatch(/^\d+\.\d+\.\d+/);
    const file = join(base, 'package.json');
    for (const text of ['{"name": "cairn", "vers', '{"name": "cairn"}', '{"version": 1}', '[]']) {
      writeFileSync(file, text);
      expect(() => appVersion(base), text).toThrow(new RegExp(`cannot read the app's version from ${file}`));
    }
  });
});
