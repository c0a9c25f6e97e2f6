import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileEntry } from '../../../core/archive/archive-format.js';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder, type FolderRestoreResult } from '../../../core/archive/folder-restore.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { Datastore, type SnapshotInfo } from '../../../core/datastore/datastore.js';
import { Bucket } from '../../../core/remote/bucket.js';
import { chunkKey } from '../../../core/remote/bucket-layout.js';
import { pushSnapshots } from '../../../core/remote/push.js';
import type { Remote } from '../../../core/remote/remote-book.js';
import { RemoteCache } from '../../../core/remote/remote-cache.js';
import { listRemoteSnapshots } from '../../../core/remote/remote-snapshots.js';
import { createBucket } from '../../support/ceph.js';
import { useCephGateway } from '../../support/ceph-gateway.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { startSlowdownProxy, type ProxyOptions, type SlowdownProxy } from '../../support/slowdown-proxy.js';
import { filesOutOfPayloadOrder, forEachFile, outOfOrderSnapshot } from '../../support/out-of-order.js';
import { snapshotDigests } from '../../support/store-files.js';
import { storeTempRoot, useSuiteTempDir } from '../../support/temp.js';
import { expectSameTree, put } from '../../support/tree.js';

// Restores straight from a remote (docs/REMOTES.md, "Reading straight from a remote"): the chunks are fetched
// ahead of the restore, many at a time, into a cache that keeps its bound. One gateway for the file (~15 s).
const gw = useCephGateway();

const isChunkGet = (req: IncomingMessage): boolean =>
  req.method === 'GET' && /\/\.chunks\/[0-9a-f]{4}\//.test(req.url ?? '');

describe('restore straight from a remote, on a real Ceph gateway', () => {
  const dir = useSuiteTempDir('remote-restore', storeTempRoot());
  let store: Datastore;
  let src: string;
  let ref: SnapshotInfo;
  let bucketCount = 0;
  const proxies: SlowdownProxy[] = [];

  beforeAll(async () => {
    store = await Datastore.create(join(dir(), 'store'), { syncLevel: 'none' });
    src = join(dir(), 'src');
    // Many small files (several to a chunk), folders, a shared file (deduplicated), and two files of many chunks.
    for (let i = 0; i < 120; i++)
      put(src, `d${i % 7}/f${i}.bin`, pseudoRandomBytes(2_000 + ((i * 7919) % 30_000), `f${i}`));
    for (let i = 0; i < 20; i++) put(src, `text/t${i}.txt`, textBytes(5_000 + i * 300, i + 1));
    put(src, 'big/one.bin', pseudoRandomBytes(700_000, 'one'));
    put(src, 'big/two.bin', pseudoRandomBytes(500_000, 'two'));
    put(src, 'copy/one-again.bin', pseudoRandomBytes(700_000, 'one'));
    mkdirSync(join(src, 'links'));
    linkSync(join(src, 'big/two.bin'), join(src, 'links/two-link.bin'));
    await backupFolder(store, src, { id: 'docs', chunkSize: 64 * 1024 });
    ref = store.latestSnapshot({ type: 'host', id: 'docs' })!;
  }, 60_000);

  afterAll(async () => {
    for (const p of proxies) await p.stop();
  });

  /** A new bucket with the snapshot pushed into it, and a bucket object reading it through a counting proxy. */
  async function pushedRemote(
    proxyOptions: ProxyOptions & { refuse?: (req: IncomingMessage) => boolean } = {},
    bucketOptions: { maxAttempts?: number } = {},
    snapshot: SnapshotInfo = ref,
  ): Promise<{ remote: Remote; bucket: Bucket; direct: Bucket; proxy: SlowdownProxy }> {
    const name = `cairn-rr-${++bucketCount}-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, name);
    const creds = { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey };
    const remote: Remote = {
      name: 'test',
      endpoint: gw.endpoint,
      region: gw.region,
      bucket: name,
      prefix: 'pc/',
      pathStyle: true,
    };
    const direct = new Bucket(remote, creds);
    await pushSnapshots(store, direct, [snapshot]);
    const proxy = await startSlowdownProxy(gw.endpoint, (req) => proxyOptions.refuse?.(req) ?? false, {
      watch: isChunkGet,
      ...proxyOptions,
    });
    proxies.push(proxy);
    const bucket = new Bucket({ ...remote, endpoint: proxy.endpoint }, creds, bucketOptions);
    return { remote, bucket, direct, proxy };
  }

  /** What `cairn remote restore` does: the snapshot's listing into the cache, then a restore fed from the remote. */
  async function restoreFromRemote(
    bucket: Bucket,
    target: string,
    options: {
      maxBytes?: number;
      parallel?: number;
      signal?: AbortSignal;
      cacheDir?: string;
      onFetched?: () => void;
      path?: string;
    } = {},
  ): Promise<{ result: FolderRestoreResult; cache: RemoteCache; peak: number; warnings: string[] }> {
    process.env.CAIRN_CACHE_DIR = options.cacheDir ?? join(dir(), `cache-${bucket.remote.bucket}`);
    const warnings: string[] = [];
    let peak = 0;
    const cache: RemoteCache = await RemoteCache.open(bucket, {
      maxBytes: options.maxBytes,
      parallel: options.parallel,
      signal: options.signal,
      log: { info: () => {}, warn: (m) => warnings.push(m) },
      // Each chunk as it lands: the cache's bytes on disk then.
      onFetched: () => {
        peak = Math.max(peak, cache.ledger.bytes);
        options.onFetched?.();
      },
    });
    try {
      const [remoteRef] = (await listRemoteSnapshots(bucket)).filter((s) => s.finished);
      const folder = await cache.folder(remoteRef!);
      const result = await restoreFolder(cache.store, remoteRef!, target, {
        chunkFeed: cache.chunkFeed(folder),
        signal: options.signal,
        path: options.path,
      });
      return { result, cache, peak, warnings };
    } finally {
      cache.close();
      delete process.env.CAIRN_CACHE_DIR;
    }
  }

  function distinctChunks(): Set<string> {
    return snapshotDigests(store, ref);
  }

  it('restores byte for byte, fetching chunks many at a time, each once, none again from a warm cache', async () => {
    // Each chunk GET takes 30 ms longer, as over a network: requests pile up only if they are sent together.
    const { bucket, proxy } = await pushedRemote({ delayMs: (req) => (isChunkGet(req) ? 30 : 0) });
    const out = join(dir(), 'out-parallel');
    const t0 = performance.now();
    const { result } = await restoreFromRemote(bucket, out, { parallel: 8 });
    const seconds = (performance.now() - t0) / 1000;
    expect(result.failed).toEqual([]);
    expectSameTree(src, out);
    const chunks = distinctChunks();
    // Every chunk of the snapshot (its metadata stream, the files' data) fetched exactly once.
    const fetched = proxy.watched.map((r) => r.path.split('/').at(-1)!);
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(new Set(fetched)).toEqual(chunks);
    // In parallel: 8 in flight at the most, and far more than one at a time.
    expect(proxy.maxInFlight).toBeGreaterThanOrEqual(4);
    expect(proxy.maxInFlight).toBeLessThanOrEqual(8);
    // Sooner than their delays alone, one after another, would take (planning and writing included).
    expect(seconds).toBeLessThan(chunks.size * 0.03);

    const again = join(dir(), 'out-warm');
    const before = proxy.watched.length;
    const warm = await restoreFromRemote(bucket, again, { parallel: 8 });
    expect(warm.result.failed).toEqual([]);
    expectSameTree(src, again);
    expect(proxy.watched.length).toBe(before);
  }, 120_000);

  it('restores an incremental snapshot whose files lie out of payload order: those after the plan, by workers, each chunk fetched once', async () => {
    const incrementalSrc = join(dir(), 'src-incremental');
    const snap = await outOfOrderSnapshot(store, incrementalSrc, 'incremental');
    expect(filesOutOfPayloadOrder(new FolderArchiveReader(store.openSnapshot(snap)))).toBeGreaterThan(100);
    const { bucket, proxy } = await pushedRemote({}, {}, snap);
    const out = join(dir(), 'out-incremental');
    const { result } = await restoreFromRemote(bucket, out, { parallel: 8 });
    expect(result.failed).toEqual([]);
    expectSameTree(incrementalSrc, out);
    const fetched = proxy.watched.map((r) => r.path.split('/').at(-1)!);
    expect(new Set(fetched).size).toBe(fetched.length);
    expect(new Set(fetched)).toEqual(snapshotDigests(store, snap));
  }, 120_000);

  it('restores a folder, a file, and a hardlink whose file is left out (copied by the restore’s own thread)', async () => {
    const { bucket } = await pushedRemote();
    const cacheDir = join(dir(), 'cache-parts');
    const folder = await restoreFromRemote(bucket, join(dir(), 'out-d3'), { path: 'd3', cacheDir });
    expect(folder.result.failed).toEqual([]);
    expectSameTree(join(src, 'd3'), join(dir(), 'out-d3'));
    const file = await restoreFromRemote(bucket, join(dir(), 'out-one'), { path: 'big/one.bin', cacheDir });
    expect(file.result.filesRestored).toBe(1);
    expect(readFileSync(join(dir(), 'out-one', 'one.bin')).equals(readFileSync(join(src, 'big/one.bin')))).toBe(true);
    const link = await restoreFromRemote(bucket, join(dir(), 'out-links'), { path: 'links', maxBytes: 64 * 1024 });
    expect(link.result.failed).toEqual([]);
    expect(readFileSync(join(dir(), 'out-links', 'two-link.bin')).equals(readFileSync(join(src, 'big/two.bin')))).toBe(
      true,
    );
  }, 120_000);

  it('restores an encrypted snapshot with its key, fed the same way', async () => {
    const crypt = new CryptConfig(randomBytes(32));
    await backupFolder(store, join(src, 'd1'), { id: 'secret', crypt, chunkSize: 64 * 1024 });
    const secret = store.latestSnapshot({ type: 'host', id: 'secret' })!;
    const name = `cairn-rr-${++bucketCount}-${randomBytes(3).toString('hex')}`;
    await createBucket(gw, name);
    const creds = { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey };
    const bucket = new Bucket(
      { name: 'test', endpoint: gw.endpoint, region: gw.region, bucket: name, prefix: '', pathStyle: true },
      creds,
    );
    await pushSnapshots(store, bucket, [secret]);
    process.env.CAIRN_CACHE_DIR = join(dir(), 'cache-secret');
    const cache = await RemoteCache.open(bucket, { maxBytes: 128 * 1024 });
    try {
      const folder = await cache.folder(secret, crypt);
      const out = join(dir(), 'out-secret');
      const result = await restoreFolder(cache.store, secret, out, { crypt, chunkFeed: cache.chunkFeed(folder) });
      expect(result.failed).toEqual([]);
      expectSameTree(join(src, 'd1'), out);
    } finally {
      cache.close();
      delete process.env.CAIRN_CACHE_DIR;
    }
  }, 120_000);

  it('keeps the cache within its bound while it restores more than the bound, evicting nothing still to be read', async () => {
    const { bucket, proxy } = await pushedRemote();
    const maxBytes = 400 * 1024;
    const out = join(dir(), 'out-bounded');
    const { result, cache, peak } = await restoreFromRemote(bucket, out, { maxBytes, parallel: 8 });
    expect(result.failed).toEqual([]);
    expectSameTree(src, out);
    // A chunk read again far ahead (one.bin's, in its copy) may have been evicted and fetched again; none was
    // evicted before a read that needed it (a worker would have failed to find it), and every chunk came.
    const fetched = proxy.watched.map((r) => r.path.split('/').at(-1)!);
    expect(new Set(fetched)).toEqual(distinctChunks());
    const total = [...distinctChunks()].reduce((n, hex) => n + statSync(store.chunks.chunkPath(hex)).size, 0);
    expect(total).toBeGreaterThan(3 * maxBytes);
    // Over the bound only by the chunks of the one file every reader waits behind (the largest, at most).
    expect(peak).toBeLessThanOrEqual(maxBytes + largestFileBytes());
    expect(cache.ledger.bytes).toBeLessThanOrEqual(maxBytes);
  }, 120_000);

  it('cats a file of many chunks through a tiny cache, fetched ahead, within the bound', async () => {
    const { bucket, proxy } = await pushedRemote();
    process.env.CAIRN_CACHE_DIR = join(dir(), 'cache-cat');
    const maxBytes = 256 * 1024;
    let peak = 0;
    const cache: RemoteCache = await RemoteCache.open(bucket, {
      maxBytes,
      onFetched: () => (peak = Math.max(peak, cache.ledger.bytes)),
    });
    try {
      const [remoteRef] = (await listRemoteSnapshots(bucket)).filter((s) => s.finished);
      const folder = await cache.folder(remoteRef!);
      const metaBytes = cache.ledger.bytes;
      const file = folder.get('big/one.bin') as FileEntry;
      const parts: Buffer[] = [];
      for await (const part of cache.fileContent(folder, file)) parts.push(part);
      expect(Buffer.concat(parts).equals(readFileSync(join(src, 'big/one.bin')))).toBe(true);
      expect(proxy.maxInFlight).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(Math.max(maxBytes, metaBytes) + largestChunkBytes());
    } finally {
      cache.close();
      delete process.env.CAIRN_CACHE_DIR;
    }
  }, 120_000);

  it('names the remote and the object of a damaged or missing chunk, and restores everything else', async () => {
    const { bucket, direct } = await pushedRemote();
    const reader = new FolderArchiveReader(store.openSnapshot(ref));
    const one = reader.get('big/one.bin') as FileEntry;
    const two = reader.get('big/two.bin') as FileEntry;
    const index = reader.dataIndex;
    // A chunk from the middle of each big file: one damaged on the remote, one gone.
    const damaged = index.digest(index.chunkAt(one.payloadOffset + one.size / 2)).toString('hex');
    const missing = index.digest(index.chunkAt(two.payloadOffset + two.size / 2)).toString('hex');
    await direct.put(chunkKey(damaged), Buffer.from('not a chunk at all'));
    await direct.deleteMany([chunkKey(missing)]);
    const out = join(dir(), 'out-damaged');
    const { result, warnings } = await restoreFromRemote(bucket, out, { parallel: 8 });
    const failed = new Map(result.failed.map((f) => [f.path, f.message]));
    expect(failed.get('/big/one.bin')).toMatch(
      new RegExp(`remote test: chunk ${damaged} is damaged there \\(pc/\\.chunks/${damaged.slice(0, 4)}/${damaged}\\)`),
    );
    expect(failed.get('/copy/one-again.bin')).toMatch(new RegExp(`chunk ${damaged}`));
    expect(failed.get('/big/two.bin')).toMatch(
      new RegExp(`remote test lacks chunk ${missing} \\(pc/\\.chunks/${missing.slice(0, 4)}/${missing}\\)`),
    );
    // Its hardlink is a copy, since its file could not be written: that fails for the same chunk.
    expect(failed.get('/links/two-link.bin')).toMatch(new RegExp(`remote test lacks chunk ${missing}`));
    expect(result.failedCount).toBe(4);
    expect(warnings.join('\n')).toMatch(new RegExp(`remote test: chunk ${damaged} \\(pc/\\.chunks/`));
    // Everything else came back whole.
    expectSameTree(src, out, { skip: [...failed.keys()].map((p) => p.slice(1)) });
  }, 120_000);

  it('is cancelled within a second, mid-fetch', async () => {
    const { bucket } = await pushedRemote({ delayMs: (req) => (isChunkGet(req) ? 400 : 0) });
    const abort = new AbortController();
    let cancelledAt = 0;
    let fetched = 0;
    const restore = restoreFromRemote(bucket, join(dir(), 'out-cancel'), {
      parallel: 4,
      signal: abort.signal,
      onFetched: () => {
        // After the metadata stream, once data chunks arrive.
        if (++fetched === 6 && !cancelledAt) {
          cancelledAt = Date.now();
          abort.abort();
        }
      },
    });
    await expect(restore).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(cancelledAt).toBeGreaterThan(0);
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
  }, 120_000);

  it('stops with an error naming the remote and the object when the service stops answering mid-restore', async () => {
    let gets = 0;
    const { bucket } = await pushedRemote({ refuse: (req) => isChunkGet(req) && ++gets > 20 }, { maxAttempts: 1 });
    const restore = restoreFromRemote(bucket, join(dir(), 'out-refused'), { parallel: 4 });
    await expect(restore).rejects.toThrow(
      /remote test \(http:\/\/127\.0\.0\.1:\d+, bucket cairn-rr-\d+-\w+\): cannot download \.chunks\/[0-9a-f]{4}\/[0-9a-f]{64}: the service is overloaded/,
    );
  }, 120_000);

  /** The most bytes on disk (encoded) any one file's chunks take. */
  function largestFileBytes(): number {
    const reader = new FolderArchiveReader(store.openSnapshot(ref));
    const index = reader.dataIndex;
    let most = 0;
    forEachFile(reader, (e) => {
      const seen = new Set<string>();
      let bytes = 0;
      for (let i = index.chunkAt(e.payloadOffset); i <= index.chunkAt(e.payloadOffset + e.size - 1); i++) {
        const hex = index.digest(i).toString('hex');
        if (!seen.has(hex)) bytes += statSync(store.chunks.chunkPath(hex)).size;
        seen.add(hex);
      }
      most = Math.max(most, bytes);
    });
    return most;
  }

  function largestChunkBytes(): number {
    return Math.max(...[...distinctChunks()].map((hex) => statSync(store.chunks.chunkPath(hex)).size));
  }
});
