import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import type { SnapshotRef } from '../../../core/backup/backup-names.js';
import { Datastore, type SnapshotInfo } from '../../../core/datastore/datastore.js';
import { Bucket } from '../../../core/remote/bucket.js';
import { chunkKey } from '../../../core/remote/bucket-layout.js';
import { pullSnapshots } from '../../../core/remote/pull.js';
import { pushSnapshots } from '../../../core/remote/push.js';
import { checkRemote } from '../../../core/remote/remote-check.js';
import type { Remote } from '../../../core/remote/remote-book.js';
import { listRemoteChunks, listRemoteSnapshots } from '../../../core/remote/remote-snapshots.js';
import { verify } from '../../../core/verify/verify.js';
import type { FileEntry } from '../../../core/archive/archive-format.js';
import { KeyRequiredError } from '../../../core/errors.js';
import { chunksOnDisk, snapshotDigests } from '../../support/store-files.js';
import { createBucket } from '../../support/ceph.js';
import { useCephGateway } from '../../support/ceph-gateway.js';
import { startSlowdownProxy } from '../../support/slowdown-proxy.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { plan } from '../../support/plans.js';
import { expectSameTree, put } from '../../support/tree.js';

// One gateway for the file (~15 s to start): both suites use it, each test with buckets of its own.
const gw = useCephGateway();

describe('push and pull against a real Ceph object gateway', () => {
  const temp = useTempDirs();
  let bucketCount = 0;

  /** A fresh bucket on the gateway, and a remote for it with `prefix`. */
  async function newRemote(prefix = 'laptop/'): Promise<Remote> {
    const name = `cairn-test-${++bucketCount}-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, name);
    return { name: 'test', endpoint: gw.endpoint, region: gw.region, bucket: name, prefix, pathStyle: true };
  }

  function bucketOf(remote: Remote, options: { maxAttempts?: number } = {}): Bucket {
    return new Bucket(remote, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey }, options);
  }

  async function storeWithBackups(): Promise<{ store: Datastore; src: string; crypt: CryptConfig; dir: string }> {
    const dir = temp('remote', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'docs');
    for (let i = 0; i < 30; i++) put(src, `notes/n${i}.txt`, `note ${i}\n`.repeat(100));
    put(src, 'big.bin', pseudoRandomBytes(5 * 1024 * 1024, 'remote-big'));
    const crypt = new CryptConfig(randomBytes(32));
    await backupFolder(store, src, {});
    await backupFolder(store, src, { id: 'secret', crypt });
    return { store, src, crypt, dir };
  }

  const finished = (store: Datastore) =>
    store.listGroups().flatMap((g) => store.listSnapshots(g).filter((s) => s.finished));

  it('says what the gateway supports', async () => {
    const bucket = bucketOf(await newRemote());
    const caps = await checkRemote(bucket);
    expect(caps.map((c) => [c.name, c.ok])).toEqual([
      ['bucket', true],
      ['conditional-create', true],
      ['content-md5', true],
      ['paged-listing', true],
      ['delete-objects', true],
    ]);
    // Nothing of the probe is left behind.
    const left: string[] = [];
    for await (const page of bucket.list('')) left.push(...page.map((o) => o.key));
    expect(left).toEqual([]);
  });

  it('pushes snapshots complete, sends nothing twice, and pulls them back byte for byte', async () => {
    const { store, src, crypt, dir } = await storeWithBackups();
    const remote = await newRemote();
    const bucket = bucketOf(remote);
    const refs = finished(store);
    const first = await pushSnapshots(store, bucket, refs);
    expect(first.pushed.sort()).toEqual(refs.map((r) => r.path).sort());
    expect(first.chunksUploaded).toBeGreaterThan(5);
    const listed = await listRemoteSnapshots(bucket);
    expect(
      listed
        .filter((s) => s.finished)
        .map((s) => s.path)
        .sort(),
    ).toEqual(refs.map((r) => r.path).sort());

    // Again: the remote has every snapshot, so not one chunk is listed or sent.
    const again = await pushSnapshots(store, bucketOf(remote), refs);
    expect(again.pushed).toEqual([]);
    expect(again.present.length).toBe(refs.length);
    expect(again.chunksUploaded).toBe(0);

    // A new backup: only its new chunks go (the unchanged ones are in the listing).
    put(src, 'added.txt', 'one more file');
    await backupFolder(store, src, {});
    const third = await pushSnapshots(store, bucketOf(remote), finished(store));
    expect(third.pushed.length).toBe(1);
    expect(third.chunksUploaded).toBeLessThan(4);

    // Pull everything into a new store: restores are byte-identical, with the key for the encrypted group.
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    const pulled = await pullSnapshots(
      bucketOf(remote),
      fresh,
      (await listRemoteSnapshots(bucket)).filter((s) => s.finished),
    );
    expect(pulled.pulled.length).toBe(3);
    expect((await verify(fresh, { store: true }, { keys: [crypt] })).ok).toBe(true);
    const plainOut = join(dir, 'out-plain');
    await restoreFolder(fresh, fresh.latestSnapshot({ type: 'host', id: 'docs' })!, plainOut);
    expectSameTree(src, plainOut);
    const secretOut = join(dir, 'out-secret');
    await restoreFolder(fresh, fresh.latestSnapshot({ type: 'host', id: 'secret' })!, secretOut, { crypt });
    expect((await pullSnapshots(bucketOf(remote), fresh, listed)).pulled).toEqual([]);
  }, 120_000);

  it('backs off and retries when the service says SlowDown (503), and says so when it never stops', async () => {
    const { store, crypt, dir } = await storeWithBackups();
    const remote = await newRemote();
    const refs = finished(store);
    // Every third request that uploads a chunk is refused (its retry is a request of its own, and goes through).
    const proxy = await startSlowdownProxy(
      gw.endpoint,
      (req, n) => req.method === 'PUT' && (req.url ?? '').includes('/.chunks/') && n % 3 === 0,
    );
    try {
      const pushed = await pushSnapshots(store, bucketOf({ ...remote, endpoint: proxy.endpoint }), refs);
      expect(pushed.pushed.length).toBe(refs.length);
      expect(proxy.refused).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
    // Everything arrived whole: pulled back straight from the gateway and verified.
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    const there = (await listRemoteSnapshots(bucketOf(remote))).filter((s) => s.finished);
    expect((await pullSnapshots(bucketOf(remote), fresh, there)).pulled.length).toBe(refs.length);
    expect((await verify(fresh, { store: true }, { keys: [crypt] })).ok).toBe(true);

    // A service that never stops refusing: the push gives up after its retries and says why, naming the bucket.
    const wall = await startSlowdownProxy(gw.endpoint, (req) => req.method === 'PUT');
    try {
      const other = await newRemote('wall/');
      const push = pushSnapshots(store, bucketOf({ ...other, endpoint: wall.endpoint }, { maxAttempts: 2 }), refs);
      await expect(push).rejects.toThrow(/overloaded and kept asking to slow down/);
      await expect(push).rejects.toThrow(new RegExp(other.bucket));
      expect(wall.refused).toBeGreaterThan(0);
    } finally {
      await wall.stop();
    }
  }, 120_000);

  it('reads an encrypted snapshot straight from the remote, fetching only what it needs', async () => {
    const { store, crypt, dir } = await storeWithBackups();
    const remote = await newRemote();
    await pushSnapshots(store, bucketOf(remote), finished(store));
    const { RemoteCache } = await import('../../../core/remote/remote-cache.js');
    process.env.CAIRN_CACHE_DIR = join(dir, 'cache');
    const cache = await RemoteCache.open(bucketOf(remote));
    try {
      const ref = (await listRemoteSnapshots(bucketOf(remote))).find((s) => s.id === 'secret')!;
      await expect(cache.folder(ref)).rejects.toBeInstanceOf(KeyRequiredError);
      const folder = await cache.folder(ref, crypt);
      expect(folder.list('notes').length).toBe(30);
      const note = folder.get('notes/n7.txt');
      const parts: Buffer[] = [];
      for await (const part of cache.fileContent(folder, note as FileEntry)) parts.push(part);
      expect(Buffer.concat(parts).toString()).toBe('note 7\n'.repeat(100));
      // The 5 MiB file was never fetched: far fewer chunks are in the cache than the snapshot has.
      expect(chunksOnDisk(cache.store).size).toBeLessThan(snapshotDigests(store, store.latestSnapshot(ref)!).size);
    } finally {
      cache.close();
      delete process.env.CAIRN_CACHE_DIR;
    }
  }, 60_000);

  it('a bucket copied to a disk opens as a store', async () => {
    const { store, src, dir } = await storeWithBackups();
    const remote = await newRemote('');
    const bucket = bucketOf(remote);
    await pushSnapshots(
      store,
      bucket,
      finished(store).filter((s) => s.id === 'docs'),
    );
    // What `aws s3 sync s3://bucket ./copy` does: every object becomes a file.
    const copy = join(dir, 'copy');
    for await (const page of bucket.list('')) {
      for (const object of page) {
        const path = join(copy, object.key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, (await bucket.get(object.key))!);
      }
    }
    const opened = Datastore.open(copy);
    const out = join(dir, 'from-copy');
    await restoreFolder(opened, opened.latestSnapshot({ type: 'host', id: 'docs' })!, out);
    expectSameTree(src, out);
  }, 60_000);

  it('a push cut off by the gateway stopping fails clearly; the rerun resumes without sending chunks again', async () => {
    const { store } = await storeWithBackups();
    const remote = await newRemote();
    const refs = finished(store);
    let stopping: Promise<void> | undefined;
    const cut = pushSnapshots(store, bucketOf(remote, { maxAttempts: 2 }), refs, {
      parallel: 1,
      bandwidth: 512 * 1024,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.chunksUploaded >= 2 && !stopping) stopping = gw.stopGateway();
      },
    });
    await expect(cut).rejects.toThrow(/remote test .*cannot (upload|list)/);
    await stopping;
    await gw.startGateway();
    const bucket = bucketOf(remote);
    const before = (await listRemoteChunks(bucket)).size;
    expect(before).toBeGreaterThanOrEqual(2);
    const resumed = await pushSnapshots(store, bucket, refs);
    expect(resumed.pushed.length).toBe(refs.length);
    const all = (await listRemoteChunks(bucket)).size;
    expect(resumed.chunksUploaded).toBe(all - before);
  }, 120_000);

  it('a push is cancelled within a second, mid-upload, and removes its session', async () => {
    const { store } = await storeWithBackups();
    const remote = await newRemote();
    const abort = new AbortController();
    let cancelledAt = 0;
    const push = pushSnapshots(store, bucketOf(remote), finished(store), {
      parallel: 1,
      bandwidth: 256 * 1024,
      signal: abort.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.chunksUploaded >= 1 && !cancelledAt) {
          cancelledAt = Date.now();
          abort.abort();
        }
      },
    });
    await expect(push).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    const sessions: string[] = [];
    for await (const page of bucketOf(remote).list('.cairn/sessions/')) sessions.push(...page.map((o) => o.key));
    expect(sessions).toEqual([]);
    expect((await listRemoteSnapshots(bucketOf(remote))).filter((s) => s.finished)).toEqual([]);
  }, 60_000);

  it('refuses wrong credentials and a missing bucket in words, and detects a damaged object on pull', async () => {
    const { store, dir } = await storeWithBackups();
    const remote = await newRemote();
    const wrong = new Bucket(remote, { accessKeyId: gw.accessKeyId, secretAccessKey: 'not-the-secret' });
    await expect(pushSnapshots(store, wrong, finished(store))).rejects.toThrow(/credentials were refused/);
    const missing = bucketOf({ ...remote, bucket: 'no-such-bucket-here' });
    await expect(pushSnapshots(store, missing, finished(store))).rejects.toThrow(/bucket does not exist/);

    const bucket = bucketOf(remote);
    await pushSnapshots(
      store,
      bucket,
      finished(store).filter((s) => s.id === 'docs'),
    );
    const [victim] = await listRemoteChunks(bucket);
    await bucket.put(chunkKey(victim!), Buffer.from('not a chunk at all'));
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    const snaps = (await listRemoteSnapshots(bucket)).filter((s) => s.finished);
    await expect(pullSnapshots(bucket, fresh, snaps)).rejects.toThrow(new RegExp(`chunk ${victim}`));
    expect(fresh.listGroups().flatMap((g) => fresh.listSnapshots(g))).toEqual([]);
  }, 120_000);
});

describe('remote prune and GC against a real Ceph object gateway, beside pushes', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ store: Datastore; src: string; dir: string; bucket: () => Bucket }> {
    const dir = temp('remote-gc', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'docs');
    put(src, 'base.bin', pseudoRandomBytes(2 * 1024 * 1024, 'gc-base'));
    const name = `gc-${randomBytes(4).toString('hex')}`;
    await createBucket(gw, name);
    const remote: Remote = {
      name: 'gc',
      endpoint: gw.endpoint,
      region: gw.region,
      bucket: name,
      prefix: 'x/',
      pathStyle: true,
    };
    const bucket = () => new Bucket(remote, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey });
    return { store, src, dir, bucket };
  }

  /**
   * A slow push (one upload at a time, 256 KiB/s) during which, after its first chunk, its session is removed as
   * if it had died, and a remote GC with no minimum age runs: the GC's result beside the push's.
   */
  async function pushWithGcMidway(store: Datastore, bucket: () => Bucket, refs: SnapshotRef[]) {
    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    let gcRan: ReturnType<typeof collectRemoteGarbage> | undefined;
    const b = bucket();
    const result = await pushSnapshots(store, b, refs, {
      parallel: 1,
      bandwidth: 256 * 1024,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.chunksUploaded === 1 && !gcRan)
          gcRan = (async () => {
            for await (const page of b.list('.cairn/sessions/')) await b.deleteMany(page.map((o) => o.key));
            return collectRemoteGarbage(bucket(), { minAgeMs: 0 });
          })();
      },
    });
    return { result, gc: (await gcRan)! };
  }

  /** Three snapshots, each with a file of its own beside base.bin (the one before it is gone). */
  async function threeBackups(store: Datastore, src: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      if (i > 0) rmSync(join(src, `only-${i - 1}.bin`));
      put(src, `only-${i}.bin`, pseudoRandomBytes(1024 * 1024, `gc-only-${i}`));
      await backupFolder(store, src, {});
    }
  }

  /** Three backups pushed, then pruned on the remote to the newest: the older two's chunks are garbage there. */
  async function prunedRemote(): Promise<{ store: Datastore; bucket: () => Bucket; refs: SnapshotInfo[] }> {
    const { store, src, bucket } = await setup();
    await threeBackups(store, src);
    const refs = store.listSnapshots({ type: 'host', id: 'docs' });
    await pushSnapshots(store, bucket(), refs);
    const { pruneRemoteGroup } = await import('../../../core/remote/remote-prune.js');
    await pruneRemoteGroup(bucket(), { type: 'host', id: 'docs' }, { keepLast: 1 });
    return { store, bucket, refs };
  }

  it('prunes by the remote’s own rules, manifest first, and GC frees only what no snapshot uses', async () => {
    const { store, src, dir, bucket } = await setup();
    await threeBackups(store, src);
    const refs = store.listSnapshots({ type: 'host', id: 'docs' });
    await pushSnapshots(store, bucket(), refs);
    const { pruneRemoteGroup } = await import('../../../core/remote/remote-prune.js');
    const dry = await pruneRemoteGroup(bucket(), { type: 'host', id: 'docs' }, { keepLast: 1 }, { dryRun: true });
    expect(dry.map((o) => o.outcome)).toEqual(['kept', 'would-remove', 'would-remove']);
    expect((await listRemoteSnapshots(bucket())).length).toBe(3);
    await pruneRemoteGroup(bucket(), { type: 'host', id: 'docs' }, { keepLast: 1 });
    expect((await listRemoteSnapshots(bucket())).map((s) => s.path)).toEqual([refs[2]!.path]);

    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    const before = (await listRemoteChunks(bucket())).size;
    const young = await collectRemoteGarbage(bucket());
    expect(young.chunksRemoved).toBe(0); // everything is younger than the minimum age
    expect(young.chunksTooYoung).toBeGreaterThan(0);
    const gc = await collectRemoteGarbage(bucket(), { minAgeMs: 0 });
    expect(gc.outcome).toBe('swept');
    expect(gc.chunksRemoved).toBeGreaterThan(0);
    expect(gc.requests).toBeGreaterThan(0);
    expect((await listRemoteChunks(bucket())).size).toBe(before - gc.chunksRemoved);
    // What is left restores whole.
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    await pullSnapshots(bucket(), fresh, await listRemoteSnapshots(bucket()));
    await restoreFolder(fresh, fresh.latestSnapshot({ type: 'host', id: 'docs' })!, join(dir, 'out'));
    expectSameTree(src, join(dir, 'out'));
  }, 120_000);

  it('backs off while a push is running, and a push waits for a sweep to end', async () => {
    const { store, src, bucket } = await setup();
    await threeBackups(store, src);
    const refs = store.listSnapshots({ type: 'host', id: 'docs' });
    await pushSnapshots(store, bucket(), refs.slice(0, 1));
    const { forgetRemoteSnapshot } = await import('../../../core/remote/remote-prune.js');
    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    await forgetRemoteSnapshot(bucket(), (await listRemoteSnapshots(bucket()))[0]!);
    // A live session (another machine pushing): nothing is deleted.
    await bucket().put('.cairn/sessions/other-machine.json', Buffer.from('{}'));
    const chunks = (await listRemoteChunks(bucket())).size;
    const gc = await collectRemoteGarbage(bucket(), { minAgeMs: 0 });
    expect(gc.outcome).toBe('backed-off');
    expect(gc.livePushes).toBe(1);
    expect((await listRemoteChunks(bucket())).size).toBe(chunks);
    await bucket().deleteMany(['.cairn/sessions/other-machine.json']);

    // A GC holding its lock: the push waits until it is gone, then sends.
    await bucket().put('.cairn/locks/gc', Buffer.from('{}'));
    const started = Date.now();
    setTimeout(() => void bucket().deleteMany(['.cairn/locks/gc']), 3000);
    const pushed = await pushSnapshots(store, bucket(), refs.slice(1, 2));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    expect(pushed.pushed).toHaveLength(1);
  }, 120_000);

  it('a push that slept through a GC checks its chunks again before its manifest', async () => {
    const { store, src, dir, bucket } = await setup();
    await threeBackups(store, src);
    const refs = store.listSnapshots({ type: 'host', id: 'docs' });
    // The newest snapshot shares base.bin with the first; the first is pushed, then forgotten on the remote:
    // its chunks are garbage, but present, so the next push takes them as there.
    await pushSnapshots(store, bucket(), refs.slice(0, 1));
    const { forgetRemoteSnapshot } = await import('../../../core/remote/remote-prune.js');
    await forgetRemoteSnapshot(bucket(), (await listRemoteSnapshots(bucket()))[0]!);
    // The server's clock has whole seconds: what was sent in the GC's own second counts as too young.
    await new Promise((r) => setTimeout(r, 1100));
    // Mid-push, its session looks dead to the GC (as after a long sleep): the GC sweeps the shared chunks.
    const { result, gc } = await pushWithGcMidway(store, bucket, refs.slice(2));
    expect(gc.chunksRemoved).toBeGreaterThan(0);
    expect(result.pushed).toHaveLength(1);
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    await pullSnapshots(bucket(), fresh, await listRemoteSnapshots(bucket()));
    expect((await verify(fresh, { store: true })).ok).toBe(true);
  }, 120_000);
  it('a GC marks again a snapshot that was unfinished at its first mark, as its push finished meanwhile', async () => {
    const { store, src, dir, bucket } = await setup();
    await backupFolder(store, src, {});
    const [ref] = store.listSnapshots({ type: 'host', id: 'docs' });
    await pushSnapshots(store, bucket(), [ref!]);
    // As another machine's push stands midway: its chunks and its metadata index sent, not yet its data index
    // (which alone names base.bin's chunks) nor its manifest.
    const later = [`${ref!.path}/folder.data.didx`, `${ref!.path}/index.json.blob`];
    const held = await Promise.all(later.map(async (key) => [key, (await bucket().get(key))!] as const));
    await bucket().deleteMany(later);
    expect((await listRemoteSnapshots(bucket()))[0]).toMatchObject({ finished: false });
    await new Promise((r) => setTimeout(r, 1100)); // the chunks older than T0 by the server's whole seconds
    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    const gc = await collectRemoteGarbage(bucket(), {
      minAgeMs: 0,
      // The push ends between the GC's first mark and its sweep: its data index, then its manifest.
      beforeSweep: async () => {
        for (const [key, raw] of held) await bucket().put(key, raw);
      },
    });
    expect(gc.outcome).toBe('swept');
    expect(gc.chunksRemoved).toBe(0);
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    await pullSnapshots(bucket(), fresh, await listRemoteSnapshots(bucket()));
    await restoreFolder(fresh, fresh.latestSnapshot({ type: 'host', id: 'docs' })!, join(dir, 'out'));
    expectSameTree(src, join(dir, 'out'));
  }, 120_000);

  it('after a GC swept mid-push, every snapshot of the push checks its chunks again, not only the one it was at', async () => {
    const { store, src, dir, bucket } = await setup();
    const x = pseudoRandomBytes(1024 * 1024, 'gc-x');
    put(src, 'x.bin', x);
    await backupFolder(store, src, {}); // A: base.bin and x.bin
    rmSync(join(src, 'x.bin'));
    put(src, 's1.bin', pseudoRandomBytes(1024 * 1024, 'gc-s1'));
    await backupFolder(store, src, {}); // S1: base.bin and a file of its own
    rmSync(join(src, 's1.bin'));
    put(src, 'x.bin', x);
    await backupFolder(store, src, {}); // S2: base.bin and x.bin again, nothing new
    const [a, s1, s2] = store.listSnapshots({ type: 'host', id: 'docs' });
    // A pushed, then forgotten on the remote: its chunks are garbage but there, so the push takes them as sent.
    await pushSnapshots(store, bucket(), [a!]);
    const { forgetRemoteSnapshot } = await import('../../../core/remote/remote-prune.js');
    await forgetRemoteSnapshot(bucket(), (await listRemoteSnapshots(bucket()))[0]!);
    await new Promise((r) => setTimeout(r, 1100));
    // While S1's own chunks go, the push's session looks dead (a long sleep): the GC sweeps A's chunks, x.bin's
    // among them, which only S2 needs.
    const { result, gc } = await pushWithGcMidway(store, bucket, [s1!, s2!]);
    expect(gc.chunksRemoved).toBeGreaterThan(0);
    expect(result.pushed).toEqual([s1!.path, s2!.path]);
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    await pullSnapshots(bucket(), fresh, await listRemoteSnapshots(bucket()));
    expect((await verify(fresh, { store: true })).ok).toBe(true);
    await restoreFolder(fresh, fresh.latestSnapshot({ type: 'host', id: 'docs' })!, join(dir, 'out'));
    expectSameTree(src, join(dir, 'out'));
  }, 120_000);

  it('a GC stops at a snapshot whose index is missing, but not at one a forget elsewhere is removing', async () => {
    const { store, src, bucket } = await setup();
    await backupFolder(store, src, {});
    const [ref] = store.listSnapshots({ type: 'host', id: 'docs' });
    await pushSnapshots(store, bucket(), [ref!]);
    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    // A forget on another machine right after the GC read the manifest: manifest first, then the rest.
    const racing = bucket();
    const get = racing.get.bind(racing);
    racing.get = async (rel, signal) => {
      const got = await get(rel, signal);
      if (rel === `${ref!.path}/index.json.blob`) {
        const { forgetRemoteSnapshot } = await import('../../../core/remote/remote-prune.js');
        await forgetRemoteSnapshot(bucket(), (await listRemoteSnapshots(bucket()))[0]!);
      }
      return got;
    };
    expect((await collectRemoteGarbage(racing, { minAgeMs: 0 })).outcome).toBe('swept');
    // A finished snapshot that lacks an index is damaged: nothing is deleted.
    await pushSnapshots(store, bucket(), [ref!], { named: new Set([ref!.path]) });
    await bucket().deleteMany([`${ref!.path}/folder.data.didx`]);
    const chunks = (await listRemoteChunks(bucket())).size;
    await expect(collectRemoteGarbage(bucket(), { minAgeMs: 0 })).rejects.toThrow(
      `${ref!.path}/folder.data.didx is missing; GC stops before deleting anything`,
    );
    expect((await listRemoteChunks(bucket())).size).toBe(chunks);
  }, 120_000);

  it('a GC whose lock another GC took over stops before deleting, and leaves the other its lock; a held lock is LOCKED', async () => {
    const { bucket } = await prunedRemote();
    const { collectRemoteGarbage } = await import('../../../core/remote/remote-gc.js');
    const { GC_GENERATION_KEY, GC_LOCK_KEY } = await import('../../../core/remote/bucket-layout.js');
    const chunks = (await listRemoteChunks(bucket())).size;
    // Once this GC holds the lock and wrote its generation, another machine takes the lock over (as it may once
    // a lock is stale: this GC slept through its life).
    const foreign = JSON.stringify({ host: 'elsewhere', pid: 1, at: Date.now(), token: 'theirs' });
    const racing = bucket();
    const put = racing.put.bind(racing);
    racing.put = async (rel, body, options) => {
      const outcome = await put(rel, body, options);
      if (rel === GC_GENERATION_KEY) await bucket().put(GC_LOCK_KEY, Buffer.from(foreign));
      return outcome;
    };
    await expect(collectRemoteGarbage(racing, { minAgeMs: 0 })).rejects.toThrow(/this GC lost its lock/);
    expect((await listRemoteChunks(bucket())).size).toBe(chunks);
    expect((await bucket().get(GC_LOCK_KEY))?.toString()).toBe(foreign);
    // The other GC's lock is fresh: a third one is refused, and deletes nothing.
    await expect(collectRemoteGarbage(bucket(), { minAgeMs: 0 })).rejects.toThrow(/a GC of the remote .* is running/);
    expect((await listRemoteChunks(bucket())).size).toBe(chunks);
    // Its lock gone, the GC runs.
    await bucket().deleteMany([GC_LOCK_KEY]);
    const gc = await collectRemoteGarbage(bucket(), { minAgeMs: 0 });
    expect(gc.chunksRemoved).toBeGreaterThan(0);
    expect(await bucket().get(GC_LOCK_KEY)).toBeUndefined();
  }, 120_000);

  it('a push leaves out what is older than the remote’s newest (pruned there) unless it is named', async () => {
    const { store, bucket, refs } = await prunedRemote();
    const again = await pushSnapshots(store, bucket(), refs);
    expect(again).toMatchObject({ pushed: [], present: [refs[2]!.path] });
    expect(again.olderSkipped).toEqual([refs[0]!.path, refs[1]!.path]);
    expect((await listRemoteSnapshots(bucket())).map((s) => s.path)).toEqual([refs[2]!.path]);
    // Named one by one, an older snapshot is sent.
    const named = await pushSnapshots(store, bucket(), [refs[0]!], { named: new Set([refs[0]!.path]) });
    expect(named.pushed).toEqual([refs[0]!.path]);
    expect((await listRemoteSnapshots(bucket())).filter((s) => s.finished)).toHaveLength(2);
  }, 120_000);

  it('a forget racing a push never leaves a manifest without its files, on either side', async () => {
    const { store, src, dir, bucket } = await setup();
    await threeBackups(store, src);
    const refs = store.listSnapshots({ type: 'host', id: 'docs' });
    const prefix = (path: string) => `${path}/`;
    const keysUnder = async (b: Bucket, rel: string) => {
      const keys: string[] = [];
      for await (const page of b.list(rel)) keys.push(...page.map((o) => o.key));
      return keys;
    };
    // The push's side: a forget elsewhere deletes the files just sent, then the push's manifest lands.
    const racing = bucket();
    const put = racing.put.bind(racing);
    racing.put = async (rel, body, options) => {
      if (rel.endsWith('index.json.blob') && rel.startsWith(refs[0]!.path)) {
        const files = (await keysUnder(racing, prefix(refs[0]!.path))).filter((k) => !k.endsWith('.json.blob'));
        await racing.deleteMany(files);
      }
      return put(rel, body, options);
    };
    await expect(pushSnapshots(store, racing, refs.slice(0, 1))).rejects.toThrow(
      new RegExp(`${refs[0]!.path}/\\S+ vanished while ${refs[0]!.path} was sent`),
    );
    expect((await listRemoteSnapshots(bucket())).filter((s) => s.finished)).toEqual([]);
    expect((await pushSnapshots(store, bucket(), refs.slice(0, 1))).pushed).toEqual([refs[0]!.path]);

    // The forget's side: a push's manifest lands between the forget's manifest and the rest.
    const { forgetRemoteSnapshot } = await import('../../../core/remote/remote-prune.js');
    const forgetting = bucket();
    const deleteMany = forgetting.deleteMany.bind(forgetting);
    let calls = 0;
    forgetting.deleteMany = async (rels, signal) => {
      if (++calls === 2) await bucket().put(`${prefix(refs[0]!.path)}index.json.blob`, Buffer.from('{}'));
      return deleteMany(rels, signal);
    };
    await forgetRemoteSnapshot(forgetting, (await listRemoteSnapshots(bucket()))[0]!);
    expect(await keysUnder(bucket(), prefix(refs[0]!.path))).toEqual([]);

    // A snapshot listed unfinished (a push midway) whose push ends while the forget deletes what it listed.
    await pushSnapshots(store, bucket(), [refs[1]!]);
    const manifestKey = `${prefix(refs[1]!.path)}index.json.blob`;
    const manifestRaw = (await bucket().get(manifestKey))!;
    await bucket().deleteMany([manifestKey]);
    const unfinished = (await listRemoteSnapshots(bucket())).find((x) => x.path === refs[1]!.path)!;
    expect(unfinished.finished).toBe(false);
    const late = bucket();
    const deleteLate = late.deleteMany.bind(late);
    late.deleteMany = async (rels, signal) => {
      await bucket().put(manifestKey, manifestRaw); // the push's manifest lands meanwhile
      late.deleteMany = deleteLate;
      return deleteLate(rels, signal);
    };
    await forgetRemoteSnapshot(late, unfinished);
    expect(await keysUnder(bucket(), prefix(refs[1]!.path))).toEqual([]);
    // What is there verifies after a pull: nothing half.
    await pushSnapshots(store, bucket(), refs.slice(1));
    const fresh = await Datastore.create(join(dir, 'fresh'), { syncLevel: 'none' });
    expect((await pullSnapshots(bucket(), fresh, await listRemoteSnapshots(bucket()))).pulled).toHaveLength(2);
    expect((await verify(fresh, { store: true })).ok).toBe(true);
  }, 120_000);

  it('a plan pushes each backup off site, keeps the remote’s own number, waits on a metered network', async () => {
    const { store, src, bucket, dir } = await setup();
    const { runPlan } = await import('../../../core/plans/plan-run.js');
    const { RemoteBook } = await import('../../../core/remote/remote-book.js');
    const remotes = new RemoteBook(join(dir, 'config'));
    const remote = bucket().remote;
    remotes.add({ ...remote, name: 'offsite' }, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey });
    const p = plan({
      name: 'docs',
      groupId: 'docs',
      id: 'docs',
      sources: [{ kind: 'folder', path: src }],
      store: store.root,
      excludes: [],
      excludePresets: [],
      maintenance: { gcEveryDays: 0, verifyNew: false, fullVerifyEveryDays: 0 },
      offsite: { remote: 'offsite', retention: { keepLast: 2 } },
      conditions: { skipOnBattery: false, skipPushOnMetered: true },
    });
    const runtime = { failures: 0 };
    const first = await runPlan(p, { trigger: 'manual', runtime, remotes, metered: () => false });
    expect(first.run).toMatchObject({ status: 'succeeded', offsite: 'pushed', pushed: 1 });
    put(src, 'second.txt', 'two');
    const metered = await runPlan(p, { trigger: 'schedule', runtime, remotes, metered: () => true });
    expect(metered.run).toMatchObject({ status: 'succeeded', offsite: 'deferred', pushed: 0 });
    expect((await listRemoteSnapshots(bucket())).length).toBe(1);
    put(src, 'third.txt', 'three');
    const caughtUp = await runPlan(p, { trigger: 'schedule', runtime, remotes, metered: () => false });
    expect(caughtUp.run).toMatchObject({ offsite: 'pushed', pushed: 2 });
    // The remote keeps its last 2; the local store all 3.
    expect((await listRemoteSnapshots(bucket())).length).toBe(2);
    expect(store.listSnapshots({ type: 'host', id: 'docs' }).length).toBe(3);
    // The next run sends its new snapshot only: the oldest, which the remote's retention removed, stays off.
    put(src, 'fourth.txt', 'four');
    const next = await runPlan(p, { trigger: 'schedule', runtime, remotes, metered: () => false });
    expect(next.run).toMatchObject({ offsite: 'pushed', pushed: 1 });
    const local = store.listSnapshots({ type: 'host', id: 'docs' }).map((s) => s.path);
    expect((await listRemoteSnapshots(bucket())).map((s) => s.path)).toEqual(local.slice(-2));
    // A remote that refuses: the run fails and says the backup itself is there.
    const wrong = new RemoteBook(join(dir, 'config-wrong'));
    wrong.add({ ...remote, name: 'offsite' }, { accessKeyId: gw.accessKeyId, secretAccessKey: 'wrong' });
    const failed = await runPlan(p, { trigger: 'manual', runtime, remotes: wrong, metered: () => false });
    expect(failed.run.status).toBe('failed');
    expect(failed.run.error).toMatch(
      /backed up to host\/docs\/\S+, but the off-site copy failed: .*credentials were refused/,
    );
  }, 120_000);
});
