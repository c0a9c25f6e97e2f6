import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobState } from '../../contract/jobs.js';
import type { GroupRow, SnapshotRow, StoreSummary } from '../../contract/model.js';
import { ApiError, createClient } from '../../renderer/src/api/client.js';
import { connectEvents, createAppStore, type AppStore } from '../../renderer/src/state/app-store.js';
import { fail, FakeTransport } from '../support/fake-transport.js';

const STORE: StoreSummary = {
  path: '/home/ann/store',
  chunkSize: 4 << 20,
  compression: 'zstd',
  syncLevel: 'filesystem',
  created: '2026-11-24',
  groups: 2,
};
const group = (id: string, snapshotCount = 1): GroupRow => ({
  type: 'host',
  id,
  path: `host/${id}`,
  snapshotCount,
  notes: '',
});
const snapshot = (id: string, time: number, extra: Partial<SnapshotRow> = {}): SnapshotRow => ({
  type: 'host',
  id,
  time,
  path: `host/${id}/${new Date(time * 1000).toISOString().slice(0, 19)}Z`,
  finished: true,
  protected: false,
  kind: 'folder',
  archives: [],
  ...extra,
});
const job = (id: string, status: JobState['status'], extra: Partial<JobState> = {}): JobState => ({
  id,
  kind: 'backup',
  title: `job ${id}`,
  store: STORE.path,
  status,
  startedAt: 1,
  progress: { phase: 'backing-up' },
  log: [],
  ...extra,
});

describe('the renderer store', () => {
  let host: FakeTransport;
  let store: AppStore;

  beforeEach(() => {
    host = new FakeTransport();
    host.answers.getAppInfo = () => ({
      host: 'web',
      version: '1',
      platform: 'linux',
      homeDir: '/home/ann',
      nativeDialogs: false,
      dropPaths: false,
      maintenance: { gc: true, prune: true, verify: true, forget: true },
    });
    host.answers.recentStores = () => [STORE.path];
    host.answers.listJobs = () => [job('old', 'done')];
    host.answers.openStore = ({ path }: { path: string }) =>
      path === STORE.path ? STORE : fail('STORE_MISSING', `no Cairn datastore at ${path}`);
    host.answers.listGroups = () => [group('docs', 2), group('photos')];
    host.answers.gcStatus = () => ({ kind: 'never' });
    host.answers.listSnapshots = ({ group: g }: { group: { id: string } }) =>
      g.id === 'docs' ? [snapshot('docs', 100), snapshot('docs', 200)] : [snapshot('photos', 300)];
    store = createAppStore(createClient(host));
    connectEvents(store);
  });

  it('starts with the host info, recent stores and known jobs', async () => {
    await store.getState().init();
    expect(store.getState().info?.host).toBe('web');
    expect(store.getState().recent).toEqual([STORE.path]);
    expect(store.getState().jobOrder).toEqual(['old']);
  });

  it('opens a store: groups, the first group selected, its snapshots', async () => {
    expect(await store.getState().openStore(STORE.path)).toBe(true);
    const s = store.getState();
    expect(s.store).toEqual(STORE);
    expect(s.groups.map((g) => g.path)).toEqual(['host/docs', 'host/photos']);
    expect(s.selectedGroup).toBe('host/docs');
    expect(s.snapshots.map((r) => r.time)).toEqual([100, 200]);
  });

  it('keeps a typed error where the store was asked for', async () => {
    expect(await store.getState().openStore('/nowhere')).toBe(false);
    expect(store.getState().storeError).toEqual({ code: 'STORE_MISSING', message: 'no Cairn datastore at /nowhere' });
    expect(store.getState().store).toBeUndefined();
  });

  it('drops a late snapshot list for a group no longer selected', async () => {
    await store.getState().openStore(STORE.path);
    let release!: () => void;
    host.answers.listSnapshots = () =>
      new Promise((resolve) => {
        release = () => resolve([snapshot('docs', 999)]);
      });
    const slow = store.getState().selectGroup('host/docs');
    host.answers.listSnapshots = () => [snapshot('photos', 300)];
    await store.getState().selectGroup('host/photos');
    release();
    await slow;
    expect(store.getState().selectedGroup).toBe('host/photos');
    expect(store.getState().snapshots.map((r) => r.time)).toEqual([300]);
  });

  it('follows job progress and done events; a finished job is never turned back to running', async () => {
    host.answers.startJob = () => job('b1', 'running');
    await store
      .getState()
      .startJob({ kind: 'backup', store: STORE.path, source: '/home/ann/docs', id: 'docs', excludes: [] });
    host.push(
      'job.progress',
      job('b1', 'running', { progress: { phase: 'backing-up', bytesDone: 50, bytesTotal: 100 } }),
    );
    expect(store.getState().jobs.b1?.progress.bytesDone).toBe(50);
    host.push('job.done', job('b1', 'done', { summary: 'Backed up' }));
    host.push('job.progress', job('b1', 'running', { progress: { phase: 'late' } }));
    expect(store.getState().jobs.b1?.status).toBe('done');
    expect(store.getState().jobOrder).toEqual(['b1']);
  });

  it('reloads groups and snapshots when the open store changes, and ignores other stores', async () => {
    await store.getState().openStore(STORE.path);
    const before = host.called('listGroups').length;
    host.push('store.changed', { store: '/some/other/store' });
    await Promise.resolve();
    expect(host.called('listGroups')).toHaveLength(before);
    host.answers.listGroups = () => [group('docs', 3)];
    host.answers.listSnapshots = () => [snapshot('docs', 100), snapshot('docs', 200), snapshot('docs', 300)];
    host.push('store.changed', { store: STORE.path });
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().groups[0]?.snapshotCount).toBe(3);
    expect(store.getState().snapshots).toHaveLength(3);
  });

  it('after a break in the event stream, fetches the jobs and the open store again', async () => {
    await store.getState().openStore(STORE.path);
    host.answers.startJob = () => job('b2', 'running');
    await store
      .getState()
      .startJob({ kind: 'backup', store: STORE.path, source: '/home/ann/docs', id: 'docs', excludes: [] });
    // The job finished while the stream was down: its done event never arrived.
    host.answers.listJobs = () => [job('b2', 'done', { summary: 'Backed up' })];
    host.answers.listGroups = () => [group('docs', 3)];
    host.reconnect();
    await vi.waitFor(() => expect(store.getState().jobs.b2?.status).toBe('done'));
    await vi.waitFor(() => expect(store.getState().groups[0]?.snapshotCount).toBe(3));
  });

  it('opens the new store when its create job finishes', async () => {
    host.answers.startJob = () => job('c1', 'running', { kind: 'create-store' });
    await store
      .getState()
      .startJob({ kind: 'create-store', path: STORE.path, chunkSize: 4 << 20, compression: 'zstd' });
    host.push('job.done', job('c1', 'done', { kind: 'create-store' }));
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().store?.path).toBe(STORE.path);
  });

  it('shows a refused job start as a job error, with its code', async () => {
    host.answers.startJob = () =>
      fail('PATH_NOT_ALLOWED', 'folder to back up /etc is outside the folders Cairn may use');
    expect(
      await store.getState().startJob({ kind: 'backup', store: STORE.path, source: '/etc', id: 'etc', excludes: [] }),
    ).toBeUndefined();
    expect(store.getState().jobError?.code).toBe('PATH_NOT_ALLOWED');
  });

  it('forgets a snapshot, and keeps it when the host refuses (protected)', async () => {
    await store.getState().openStore(STORE.path);
    const [first, second] = store.getState().snapshots;
    host.answers.forgetSnapshot = () => fail('PROTECTED', 'snapshot is protected; unprotect it first');
    expect(await store.getState().forgetSnapshot(first!)).toBe(false);
    expect(store.getState().snapshots).toHaveLength(2);
    expect(store.getState().snapshotsError?.code).toBe('PROTECTED');
    host.answers.forgetSnapshot = () => null;
    expect(await store.getState().forgetSnapshot(second!)).toBe(true);
    expect(store.getState().snapshots.map((r) => r.time)).toEqual([100]);
  });

  it('keeps the chosen snapshot by its path while backups arrive and others go; once it is gone, none is chosen', async () => {
    await store.getState().openStore(STORE.path);
    const chosen = snapshot('docs', 100);
    store.getState().selectSnapshot(chosen.path);
    host.answers.listSnapshots = () => [snapshot('docs', 100), snapshot('docs', 200), snapshot('docs', 300)];
    await store.getState().onStoreChanged(STORE.path);
    expect(store.getState().selectedSnapshot).toBe(chosen.path);
    host.answers.listSnapshots = () => [snapshot('docs', 100), snapshot('docs', 300)];
    await store.getState().onStoreChanged(STORE.path);
    expect(store.getState().selectedSnapshot).toBe(chosen.path);

    host.answers.forgetSnapshot = () => null;
    expect(await store.getState().forgetSnapshot(chosen)).toBe(true);
    expect(store.getState().selectedSnapshot).toBeUndefined();
    store.getState().selectSnapshot(snapshot('docs', 300).path);
    host.answers.listSnapshots = () => [];
    await store.getState().onStoreChanged(STORE.path);
    expect(store.getState().selectedSnapshot).toBeUndefined();
  });

  it('chooses no snapshot of another group', async () => {
    await store.getState().openStore(STORE.path);
    store.getState().selectSnapshot(snapshot('docs', 200).path);
    await store.getState().selectGroup('host/photos');
    expect(store.getState().selectedSnapshot).toBeUndefined();
  });

  it('shows protection at once, and puts it back when the host refuses', async () => {
    await store.getState().openStore(STORE.path);
    const row = store.getState().snapshots[0]!;
    let answer!: (ok: boolean) => void;
    host.answers.setProtected = () =>
      new Promise((resolve, reject) => {
        answer = (ok) => (ok ? resolve({ ...row, protected: true }) : reject(new Error('disk full')));
      });
    const first = store.getState().setProtected(row, true);
    expect(store.getState().snapshots[0]!.protected).toBe(true);
    answer(true);
    await first;
    expect(store.getState().snapshots[0]!.protected).toBe(true);
    const second = store.getState().setProtected(store.getState().snapshots[0]!, false);
    expect(store.getState().snapshots[0]!.protected).toBe(false);
    answer(false);
    await second;
    expect(store.getState().snapshots[0]!.protected).toBe(true);
    expect(store.getState().snapshotsError?.message).toContain('disk full');
  });

  it('asks the in-app folder browser for a folder in browser mode', async () => {
    await store.getState().init();
    const answer = store.getState().pickFolder('Folder to back up', '/home/ann');
    const request = store.getState().folderRequest;
    expect(request?.title).toBe('Folder to back up');
    request!.resolve('/home/ann/docs');
    expect(await answer).toBe('/home/ann/docs');
    expect(store.getState().folderRequest).toBeUndefined();
  });

  it('turns error Results into ApiError with the code', async () => {
    const client = createClient(host);
    await expect(client.openStore({ path: '/x' })).rejects.toBeInstanceOf(ApiError);
    await expect(client.openStore({ path: '/x' })).rejects.toMatchObject({ code: 'STORE_MISSING' });
  });
});
