import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress, JobState } from '../../contract/jobs.js';
import type { FolderPage, SnapshotRow } from '../../contract/model.js';
import type { KeyRow } from '../../contract/keys.js';
import type { PlanView } from '../../contract/plans.js';
import type { RemoteListing } from '../../contract/remotes.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { safeStorageSecrets } from '../../electron/secret-store.js';
import { HostService } from '../../host/host-service.js';
import { createBucket, startCephGateway, type CephGateway } from '../support/ceph.js';
import { pseudoRandomBytes } from '../support/data.js';
import { safeStorage } from '../support/electron-mock.js';
import { call, failure } from '../support/host-calls.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

/**
 * Push, pull and reading a remote as app jobs and queries, on a real store and a real Ceph gateway: progress
 * events with bytes, rate and requests, cancel, the remote's snapshots beside the local ones, a folder of a
 * remote snapshot browsed and a file restored from it, a plan whose push shows on its card, errors in words.
 * The credentials are sealed by the (mocked) Electron secret store, so they reach the jobs only from the host.
 */
describe('the host: push and pull jobs, remote snapshots, on a real Ceph gateway', () => {
  let gw: CephGateway;
  const base = tempDir('host-remote-jobs', storeTempRoot());
  const store = join(base, 'store');
  const second = join(base, 'second');
  const docs = join(base, 'Documents');
  const music = join(base, 'Music');
  const events: { event: string; payload: unknown }[] = [];
  let service: HostService;
  let bucket = '';

  beforeAll(async () => {
    gw = await startCephGateway();
    bucket = `cairn-jobs-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, bucket);
    mkdirSync(join(docs, 'letters'), { recursive: true });
    writeFileSync(join(docs, 'letters', 'ann.txt'), 'Dear Ann,\n'.repeat(50));
    writeFileSync(join(docs, 'big.bin'), pseudoRandomBytes(3 * 1024 * 1024, 'host-remote-docs'));
    mkdirSync(music);
    writeFileSync(join(music, 'song.ogg'), pseudoRandomBytes(40 * 1024 * 1024, 'host-remote-music'));
    await Datastore.create(store, { syncLevel: 'none', chunkSize: 256 * 1024 });
    await Datastore.create(second, { syncLevel: 'none' });
    process.env.CAIRN_CACHE_DIR = join(base, 'cache');
    service = new HostService({
      platform: { host: 'web' },
      dataDir: join(base, 'data'),
      allowedRoots: [base],
      plans: { configDir: join(base, 'config'), where: 'the test host' },
      keys: {
        configDir: join(base, 'config'),
        secretStore: safeStorageSecrets(safeStorage as unknown as SafeStorage, 'linux'),
      },
    });
    service.subscribe((event, payload) => events.push({ event, payload }));
    service.startScheduler();
    for (const source of [docs, music]) {
      const id = source === docs ? 'Documents' : 'Music';
      expect((await runJob({ kind: 'backup', store, source, id, excludes: [] })).status).toBe('done');
    }
    await call(service, 'remotes.add', {
      name: 'offsite',
      settings: { endpoint: gw.endpoint, region: gw.region, bucket, prefix: 'laptop/', pathStyle: true },
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
    });
  }, 240_000);

  afterAll(async () => {
    await service?.shutdown();
    delete process.env.CAIRN_CACHE_DIR;
    await gw?.stop();
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  async function runJob(spec: unknown): Promise<JobState> {
    const job = await call<JobState>(service, 'jobs.start', spec);
    return service.engine.whenDone(job.id);
  }

  const progressOf = (id: string): JobProgress[] =>
    events
      .filter((e) => e.event === 'job.progress' && (e.payload as JobState).id === id)
      .map((e) => (e.payload as JobState).progress);

  const listing = () => call<RemoteListing>(service, 'remotes.snapshots', { remote: 'offsite', store });
  const docsGroup = { type: 'host', id: 'Documents' } as const;

  it('pushes a group as a job: bytes to send, rate, requests on its card, and what was sent at the end', async () => {
    const done = await runJob({ kind: 'push', store, remote: 'offsite', group: docsGroup });
    expect(done.status, done.error?.message).toBe('done');
    expect(done.title).toBe('Push host/Documents to offsite');
    expect(done.result).toMatchObject({ kind: 'push', remote: 'offsite', pushed: 1, present: 0 });
    expect(done.result!.kind === 'push' && done.result.bytes).toBeGreaterThan(3 * 1024 * 1024);
    const uploading = progressOf(done.id).filter((p) => p.phase === 'uploading');
    expect(uploading.length).toBeGreaterThan(0);
    expect(uploading.at(-1)).toMatchObject({ snapshotsTotal: 1, chunksTotal: expect.any(Number) });
    expect(uploading.at(-1)!.bytesTotal).toBeGreaterThan(3 * 1024 * 1024);
    expect(uploading.at(-1)!.requests).toBeGreaterThan(5);
    expect(done.log.map((l) => l.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sent host\/Documents\//),
        expect.stringMatching(/^Pushed 1 snapshot to offsite/),
      ]),
    );

    const remote = await listing();
    expect(remote.snapshots).toEqual([
      expect.objectContaining({ type: 'host', id: 'Documents', finished: true, kind: 'folder', local: true }),
    ]);
  });

  it('cancels a push within a second; the remote keeps only what was complete', async () => {
    const job = await call<JobState>(service, 'jobs.start', { kind: 'push', store, remote: 'offsite' });
    const deadline = Date.now() + 30_000;
    while (!progressOf(job.id).some((p) => p.phase === 'uploading' && (p.bytesDone ?? 0) > 0)) {
      if (Date.now() > deadline) throw new Error('the push never started uploading');
      await new Promise((r) => setTimeout(r, 10));
    }
    const asked = Date.now();
    await call(service, 'jobs.cancel', { jobId: job.id });
    const end = await service.engine.whenDone(job.id);
    expect(end.status).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(1000);
    expect((await listing()).snapshots.filter((s) => s.finished).map((s) => s.id)).toEqual(['Documents']);
  });

  it('pushes the whole store: the missing group is sent, the one there is skipped', async () => {
    const done = await runJob({ kind: 'push', store, remote: 'offsite' });
    expect(done.status, done.error?.message).toBe('done');
    expect(done.result).toMatchObject({ kind: 'push', pushed: 1, present: 1 });
    expect(done.log.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^skipped host\/Documents\/.*has it already/),
    );
    const summary = done.log.at(-1)!.message;
    expect(summary).toMatch(
      /^Pushed 1 snapshot to offsite .*; 1 snapshot was there already \(skipped\); \d+ requests$/,
    );
  }, 120_000);

  it('lists the remote beside the store and browses a remote snapshot, fetching its listing, not its data', async () => {
    const remote = await listing();
    const [docsSnap] = remote.snapshots.filter((s) => s.id === 'Documents');
    const root = await call<FolderPage>(service, 'remote.browse', {
      remote: 'offsite',
      snapshot: { type: 'host', id: 'Documents', time: docsSnap!.time },
      path: '',
    });
    expect(root.entries.map((e) => e.name)).toEqual(['big.bin', 'letters']);
    const letters = await call<FolderPage>(service, 'remote.browse', {
      remote: 'offsite',
      snapshot: { type: 'host', id: 'Documents', time: docsSnap!.time },
      path: 'letters',
    });
    expect(letters.entries).toEqual([expect.objectContaining({ name: 'ann.txt', path: 'letters/ann.txt' })]);
    // The cache holds the metadata stream's chunks only: none of big.bin's dozen.
    const cached = readdirSync(join(base, 'cache', 'remotes'));
    const chunks = readdirSync(join(base, 'cache', 'remotes', cached[0]!, 'store', '.chunks'), { recursive: true })
      .map(String)
      .filter((n) => /[0-9a-f]{64}$/.test(n));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.length).toBeLessThan(3);
  });

  it('restores a file straight from the remote into a folder, as a job', async () => {
    const { snapshots } = await listing();
    const snap = snapshots.find((s) => s.id === 'Documents')!;
    const target = join(base, 'from-remote');
    const done = await runJob({
      kind: 'remote-restore',
      remote: 'offsite',
      snapshot: { type: snap.type, id: snap.id, time: snap.time },
      paths: ['letters/ann.txt'],
      target,
      overwrite: false,
    });
    expect(done.status, done.error?.message).toBe('done');
    expect(done.result).toMatchObject({ kind: 'remote-restore', remote: 'offsite', files: 1 });
    expect(readFileSync(join(target, 'ann.txt'), 'utf8')).toBe('Dear Ann,\n'.repeat(50));
    // Fetched as it is restored: the card shows the restore's bytes, and the requests made.
    expect(
      progressOf(done.id).some(
        (p) => p.phase === 'restoring from offsite' && p.bytesTotal === 500 && (p.requests ?? 0) > 0,
      ),
    ).toBe(true);
  });

  it('pulls everything into a second store: progress with a total, the snapshots arrive whole', async () => {
    const done = await runJob({ kind: 'pull', store: second, remote: 'offsite' });
    expect(done.status, done.error?.message).toBe('done');
    expect(done.result).toMatchObject({ kind: 'pull', remote: 'offsite', pulled: 2, present: 0 });
    const downloading = progressOf(done.id).filter((p) => p.phase === 'downloading');
    expect(downloading.at(-1)!.bytesTotal).toBeGreaterThan(40 * 1024 * 1024);
    expect(downloading.at(-1)!.requests).toBeGreaterThan(0);
    const rows = await call<SnapshotRow[]>(service, 'snapshots.list', { store: second, group: docsGroup });
    expect(rows).toEqual([expect.objectContaining({ finished: true, files: 2 })]);
    expect(
      (await call<RemoteListing>(service, 'remotes.snapshots', { remote: 'offsite', store: second })).snapshots.every(
        (s) => s.local,
      ),
    ).toBe(true);
    const verified = await runJob({ kind: 'verify', store: second });
    expect(verified.result).toMatchObject({ kind: 'verify', ok: true, snapshots: 2 });
    const again = await runJob({ kind: 'pull', store: second, remote: 'offsite', group: docsGroup });
    expect(again.result).toMatchObject({ kind: 'pull', pulled: 0, present: 1 });
  }, 120_000);

  it('cancels a pull within a second; the store keeps no part of the snapshot it was pulling', async () => {
    const third = join(base, 'third');
    await Datastore.create(third, { syncLevel: 'none' });
    const musicGroup = { type: 'host', id: 'Music' } as const;
    const job = await call<JobState>(service, 'jobs.start', {
      kind: 'pull',
      store: third,
      remote: 'offsite',
      group: musicGroup,
    });
    const deadline = Date.now() + 30_000;
    while (!progressOf(job.id).some((p) => p.phase === 'downloading' && (p.bytesDone ?? 0) > 0)) {
      if (Date.now() > deadline) throw new Error('the pull never started downloading');
      await new Promise((r) => setTimeout(r, 10));
    }
    const asked = Date.now();
    await call(service, 'jobs.cancel', { jobId: job.id });
    const end = await service.engine.whenDone(job.id);
    expect(end.status).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(1000);
    expect(Datastore.open(third).listSnapshots(musicGroup)).toEqual([]);
  }, 120_000);

  it('an encrypted remote snapshot is browsed with its key: locked, the answer names the key to unlock', async () => {
    const key = await call<KeyRow>(service, 'keys.create', { passphrase: 'granite ferns listen' });
    const backup = await runJob({
      kind: 'backup',
      store,
      source: join(docs, 'letters'),
      id: 'Sealed',
      excludes: [],
      encrypt: { keyFingerprint: key.fingerprint },
    });
    expect(backup.status, backup.error?.message).toBe('done');
    const group = { type: 'host', id: 'Sealed' } as const;
    expect((await runJob({ kind: 'push', store, remote: 'offsite', group })).status).toBe('done');
    const snap = (await listing()).snapshots.find((s) => s.id === 'Sealed')!;
    const browse = { remote: 'offsite', snapshot: { ...group, time: snap.time }, path: '' };
    await call(service, 'keys.lock', { fingerprint: key.fingerprint });
    const locked = await failure(service, 'remote.browse', browse);
    expect(locked).toMatchObject({ code: 'KEY_REQUIRED', keyFingerprint: key.fingerprint });
    await call(service, 'keys.unlock', { fingerprint: key.fingerprint, passphrase: 'granite ferns listen' });
    const page = await call<FolderPage>(service, 'remote.browse', browse);
    expect(page.entries.map((e) => e.name)).toEqual(['ann.txt']);
  }, 120_000);

  it("a plan's run shows its push's progress on its card", async () => {
    await call<PlanView>(service, 'plans.save', {
      input: {
        name: 'Letters',
        sources: [{ kind: 'folder', path: join(docs, 'letters') }],
        store,
        schedule: { kind: 'manual' },
        offsite: { remote: 'offsite' },
      },
    });
    await call(service, 'plans.run-now', { planId: 'letters' });
    let job: JobState | undefined;
    for (let i = 0; i < 400 && !job; i++) {
      job = service.engine.list().find((j) => j.kind === 'plan-run');
      if (!job) await new Promise((r) => setTimeout(r, 50));
    }
    const done = await service.engine.whenDone(job!.id);
    expect(done.status, done.error?.message).toBe('done');
    expect(done.result).toMatchObject({ kind: 'plan-run', offsite: 'pushed', pushed: 1 });
    const pushing = progressOf(done.id).filter((p) => p.phase === 'sending the off-site copy');
    expect(pushing.length).toBeGreaterThan(0);
    expect(pushing.at(-1)).toMatchObject({ snapshotsTotal: 1, requests: expect.any(Number) });
    expect(done.log.at(-1)!.message).toContain('1 snapshot pushed off-site');
    // A remote a plan pushes to is not removed from under it.
    const refused = await failure(service, 'remotes.remove', { name: 'offsite' });
    expect(refused.message).toBe('the plan “Letters” pushes to offsite: change its off-site copy first');
  }, 120_000);

  it('fails in words naming the remote and the object: wrong credentials, a missing bucket, a stopped gateway', async () => {
    const settings = { endpoint: gw.endpoint, region: gw.region, bucket, prefix: 'laptop/', pathStyle: true };
    await call(service, 'remotes.add', {
      name: 'wrong',
      settings,
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const refused = await runJob({ kind: 'push', store, remote: 'wrong', group: docsGroup });
    expect(refused.status).toBe('failed');
    expect(refused.error!.message).toMatch(
      /^remote wrong \(http:\/\/127\.0\.0\.1:\d+, bucket cairn-jobs-\w+\): cannot list \w+\/: the credentials were refused/,
    );

    await call(service, 'remotes.add', {
      name: 'nobucket',
      settings: { ...settings, bucket: 'no-such-bucket-here' },
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
    });
    const missing = await runJob({ kind: 'pull', store: second, remote: 'nobucket' });
    expect(missing.error!.message).toMatch(/remote nobucket .*bucket no-such-bucket-here.*: the bucket does not exist/);
    expect((await failure(service, 'jobs.start', { kind: 'push', store, remote: 'nope' })).code).toBe('NOT_FOUND');

    await gw.stopGateway();
    try {
      const down = await runJob({ kind: 'push', store, remote: 'offsite' });
      expect(down.status).toBe('failed');
      expect(down.error!.message).toMatch(
        /^remote offsite \(http:\/\/127\.0\.0\.1:\d+, bucket .*\): cannot list .*: the service cannot be reached/,
      );
    } finally {
      await gw.startGateway();
    }
  }, 180_000);

  it('never lets the credentials into an answer, an event, the job history or a log', async () => {
    const all = JSON.stringify([events, service.engine.list()]);
    expect(all).not.toContain(gw.secretAccessKey);
    expect(all).not.toContain(gw.accessKeyId);
    const history = readFileSync(join(base, 'data', 'job-history.json'), 'utf8');
    expect(history).not.toContain(gw.secretAccessKey);
    expect(history).not.toContain(gw.accessKeyId);
    expect(history).toContain('offsite');
  });
});
