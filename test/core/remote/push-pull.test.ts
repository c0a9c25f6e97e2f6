import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { Bucket } from '../../../core/remote/bucket.js';
import { chunkKey } from '../../../core/remote/bucket-layout.js';
import { pullSnapshots } from '../../../core/remote/pull.js';
import { pushSnapshots } from '../../../core/remote/push.js';
import { checkRemote } from '../../../core/remote/remote-check.js';
import type { Remote } from '../../../core/remote/remote-book.js';
import { listRemoteChunks, listRemoteSnapshots } from '../../../core/remote/remote-snapshots.js';
import { verify } from '../../../core/verify/verify.js';
import { startCephGateway, type CephGateway } from '../../support/ceph.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { expectSameTree, put } from '../../support/tree.js';

describe('push and pull against a real Ceph object gateway', () => {
  let gw: CephGateway;
  const temp = useTempDirs();
  let bucketCount = 0;

  beforeAll(async () => {
    gw = await startCephGateway();
  }, 180_000);
  afterAll(async () => {
    await gw?.stop();
  }, 60_000);

  /** A fresh bucket on the gateway, and a remote for it with `prefix`. */
  async function newRemote(prefix = 'laptop/'): Promise<Remote> {
    const name = `cairn-test-${++bucketCount}-${randomBytes(3).toString('hex')}`;
    const s3 = new S3Client({
      endpoint: gw.endpoint,
      region: gw.region,
      forcePathStyle: true,
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey },
    });
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    s3.destroy();
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
