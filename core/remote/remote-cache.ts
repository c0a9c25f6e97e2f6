import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import envPaths from 'env-paths';
import { META_ARCHIVE, type FileEntry } from '../archive/archive-format.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { formatBackupTime, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { decodeManifest, MANIFEST_NAME } from '../backup/manifest.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { checkBlob } from '../blob/data-blob.js';
import { CONFIG_FILE } from '../datastore/datastore-config.js';
import { Datastore } from '../datastore/datastore.js';
import type { SnapshotReader } from '../datastore/snapshot-reader.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { ChunkIndex } from '../index/index-format.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { acquireExclusiveLock, type HeldLock } from '../locks/process-lock.js';
import type { Logger } from '../log.js';
import type { Bucket } from './bucket.js';
import { CHUNKS_PREFIX, chunkKey, snapshotPrefix } from './bucket-layout.js';
import { CacheLedger } from './cache-ledger.js';
import { DEFAULT_FETCH_PARALLEL, RemoteChunkFeed, type FeedCache, type FetchOutcome } from './chunk-feed.js';
import { assertMatchesManifest } from './manifest-check.js';
import { TransferPool } from './transfer-pool.js';
import { ChunkGate } from '../archive/chunk-gate.js';

/** What the cache keeps between commands; one restore may need more for a while, and is trimmed after. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3;

export interface RemoteCacheOptions {
  signal?: AbortSignal;
  maxBytes?: number;
  /** How long to wait for another reader of this remote's cache (default 10 s). */
  waitMs?: number;
  onPrepare?: (done: number, total: number) => void;
  /** Told the data length of each chunk an operation needs as it is there (fetched now, or cached already). */
  onFetched?: (length: number) => void;
  /** Chunk requests in flight (default 12). */
  parallel?: number;
  /** Where a chunk the remote lacks or has damaged is told, besides the reads that fail for it. */
  log?: Logger;
}

/** `$CAIRN_CACHE_MAX_BYTES` when it is a number, else DEFAULT_CACHE_BYTES. */
function cacheBound(env: NodeJS.ProcessEnv): number {
  const n = Number(env.CAIRN_CACHE_MAX_BYTES);
  return env.CAIRN_CACHE_MAX_BYTES !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : DEFAULT_CACHE_BYTES;
}

/** `$CAIRN_CACHE_DIR`, else the platform's cache folder (env-paths: `~/.cache/cairn` on Linux). */
export function cairnCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAIRN_CACHE_DIR || envPaths('cairn', { suffix: '' }).cache;
}

/**
 * Reading a remote's snapshots without pulling them (docs/REMOTES.md): a private datastore in the cache folder,
 * one per remote, holds the manifests and indexes of the snapshots read, and the chunks an operation needs,
 * each checked as a pull checks it, and read back through the ordinary readers, which check it again. A listing
 * fetches the metadata stream first; a restore or a cat is fed its chunks as it goes (RemoteChunkFeed: many
 * requests in flight, in the order they are read), the cache kept within its bound meanwhile. Afterwards the
 * least recently used chunks are removed until the cache is within its bound. One process uses a cache at a time.
 */
export class RemoteCache implements FeedCache {
  /** Chunks in the cache and their sizes; read from disk when first needed (a browse never needs it). */
  private known: CacheLedger | undefined;
  /** Chunks found sound (or written) by this use of the cache. */
  private readonly sound = new Set<string>();
  /** The metadata streams read by this use of the cache: kept while it lasts (readers go back to them). */
  private readonly metaChunks = new Set<string>();
  /** Prefix folders known to exist (the cache makes them on demand). */
  private readonly prefixes = new Set<string>();
  readonly source: string;
  readonly objectKey: string;

  private constructor(
    readonly store: Datastore,
    private readonly bucket: Bucket,
    private readonly lock: HeldLock,
    private readonly options: RemoteCacheOptions & { maxBytes: number },
  ) {
    this.source = `remote ${bucket.name}`;
    this.objectKey = bucket.key(`${CHUNKS_PREFIX}{hex4}/{hex}`);
  }

  static async open(bucket: Bucket, options: RemoteCacheOptions = {}): Promise<RemoteCache> {
    const r = bucket.remote;
    const id = createHash('sha256').update(`${r.endpoint}\n${r.bucket}\n${r.prefix}`).digest('hex').slice(0, 16);
    const root = join(cairnCacheDir(), 'remotes', `${r.name}-${id}`);
    mkdirSync(root, { recursive: true });
    const lock = acquireExclusiveLock(root, 'remote-cache', `reading the remote ${r.name}`, undefined, {
      waitMs: options.waitMs ?? 10_000,
    });
    try {
      // The store in a folder of its own: Datastore.create wants it empty, and the lock lives beside it. Its
      // chunk prefix folders are made as chunks arrive: making (and listing) all 65,536 took seconds.
      const storeRoot = join(root, 'store');
      const store = existsSync(join(storeRoot, CONFIG_FILE))
        ? Datastore.open(storeRoot)
        : await Datastore.create(storeRoot, {
            syncLevel: 'none',
            prefixDirs: false,
            onProgress: options.onPrepare,
            signal: options.signal,
          });
      const maxBytes = options.maxBytes ?? cacheBound(process.env);
      return new RemoteCache(store, bucket, lock, { ...options, maxBytes });
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** The chunks in the cache (read from disk the first time). */
  get ledger(): CacheLedger {
    this.known ??= CacheLedger.scan(join(this.store.root, '.chunks'));
    return this.known;
  }

  /** The snapshot's manifest, indexes and blobs in the cache (fetched once): its manifest can then be read. */
  async fetchSnapshot(ref: SnapshotRef): Promise<void> {
    const dir = this.store.snapshotDir(ref);
    if (!existsSync(join(dir, MANIFEST_NAME))) await this.fetchSnapshotFiles(ref, dir);
  }

  /** The snapshot opened from the cache, with its key if it needs one. */
  async snapshot(ref: SnapshotRef, crypt?: CryptConfig): Promise<SnapshotReader> {
    await this.fetchSnapshot(ref);
    return this.store.openSnapshot(ref, { crypt });
  }

  private async fetchSnapshotFiles(ref: SnapshotRef, dir: string): Promise<void> {
    const prefix = snapshotPrefix(ref, formatBackupTime(ref.time));
    const raw = await this.get(`${prefix}${MANIFEST_NAME}`, `the manifest of ${snapshotPath(ref)}`);
    const manifest = decodeManifest(raw, `${this.bucket.name}:${prefix}${MANIFEST_NAME}`);
    // The indexes and blobs at once, each checked against the manifest; the manifest last.
    const bodies = await Promise.all(
      manifest.files.map(async (file) => {
        const body = await this.get(`${prefix}${file.filename}`, `${file.filename} of ${snapshotPath(ref)}`);
        assertMatchesManifest(body, file, `remote ${this.bucket.name}: ${prefix}${file.filename}`);
        return body;
      }),
    );
    mkdirSync(dir, { recursive: true });
    manifest.files.forEach((file, i) => writeFileAtomicSync(join(dir, file.filename), bodies[i]!));
    writeFileAtomicSync(join(dir, MANIFEST_NAME), raw);
  }

  /**
   * A folder snapshot ready to list and browse: every chunk of its metadata stream is fetched first (the reader
   * reads its trailer at once), a small part of the snapshot, and kept while this cache is open; file contents
   * come with chunkFeed or fileContent.
   */
  async folder(ref: SnapshotRef, crypt?: CryptConfig): Promise<FolderArchiveReader> {
    const snapshot = await this.snapshot(ref, crypt);
    if (!FolderArchiveReader.hasFolderArchive(snapshot.manifest.files.map((f) => f.filename)))
      throw new CairnError('INVALID_ARGUMENT', `${snapshot.path} on ${this.bucket.name} is not a folder backup`);
    const meta = snapshot.openIndex(META_ARCHIVE);
    for (let i = 0; i < meta.chunkCount; i++) this.metaChunks.add(meta.digest(i).toString('hex'));
    await this.fetchRange(meta, 0, meta.size);
    return new FolderArchiveReader(snapshot);
  }

  /**
   * A feed for a restore from this cache (restoreFolder's `chunkFeed`): the chunks of the files it plans are
   * fetched ahead of its writers, many at a time, within the cache's bound. The restore closes it.
   */
  chunkFeed(folder: FolderArchiveReader): RemoteChunkFeed {
    return new RemoteChunkFeed(this, folder.dataIndex, {
      parallel: this.options.parallel,
      signal: this.options.signal,
      log: this.options.log,
      onReady: this.options.onFetched,
    });
  }

  /** A file's content (cat), chunk by chunk as they arrive, every chunk verified; fetched ahead as it is read. */
  async *fileContent(folder: FolderArchiveReader, file: FileEntry): AsyncGenerator<Buffer> {
    if (file.size === 0) return;
    const index = folder.dataIndex;
    const end = file.payloadOffset + file.size;
    const feed = this.chunkFeed(folder);
    const gate = new ChunkGate(feed.gate);
    try {
      const pieces: [number, number][] = [];
      for (let i = index.chunkAt(file.payloadOffset); i < index.chunkCount && index.chunkStart(i) < end; i++) {
        const from = Math.max(file.payloadOffset, index.chunkStart(i));
        pieces.push([from, Math.min(end, index.chunkEnd(i)) - from]);
        feed.add(from, pieces.at(-1)![1]);
      }
      feed.seal();
      for (const [from, length] of pieces) {
        gate.enter(0, index.chunkAt(from));
        const release = await feed.hold(from, length);
        try {
          yield* folder.data.slices(from, length);
        } finally {
          release();
        }
      }
    } finally {
      await feed.close();
    }
  }

  /** Fetches the chunks of [start, end) that are not here, many at a time. */
  private async fetchRange(index: ChunkIndex, start: number, end: number): Promise<void> {
    if (start >= end) return;
    const pool = new TransferPool(this.options.parallel ?? DEFAULT_FETCH_PARALLEL);
    const seen = new Set<string>();
    for (let i = index.chunkAt(start); i < index.chunkCount && index.chunkStart(i) < end; i++) {
      const hex = index.digest(i).toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      const length = index.chunkEnd(i) - index.chunkStart(i);
      if (this.present(hex, length)) {
        this.options.onFetched?.(length);
        continue;
      }
      throwIfCancelled(this.options.signal, 'reading the remote');
      await pool.add(async () => {
        const outcome = await this.fetch(hex, this.options.signal);
        if (outcome.kind === 'missing')
          throw new CairnError(
            'NOT_FOUND',
            `remote ${this.bucket.name} lacks chunk ${hex} (${this.bucket.key(chunkKey(hex))})`,
          );
        if (outcome.kind === 'damaged') throw new CairnError('CORRUPT', outcome.message);
        this.options.onFetched?.(length);
      });
    }
    await pool.drain();
  }

  // ---- FeedCache ----

  present(hex: string, length: number): boolean {
    // What the ledger does not have is not here (this process alone uses the cache); without one, look.
    if (this.known && !this.known.has(hex)) return false;
    if (this.sound.has(hex)) {
      this.known?.touch(hex);
      return true;
    }
    // Found sound once (CRC), touched; read in full (digest, length) when the restore reads it.
    if (!this.store.chunks.markIfPresent(hex, length)) {
      this.known?.remove(hex);
      return false;
    }
    this.sound.add(hex);
    this.known?.touch(hex);
    return true;
  }

  /** A chunk checked as a pull checks it (its content is checked again when it is read). */
  async fetch(hex: string, signal: AbortSignal | undefined): Promise<FetchOutcome> {
    const raw = await this.bucket.get(chunkKey(hex), signal);
    if (!raw) return { kind: 'missing' };
    try {
      checkBlob(raw, `remote ${this.bucket.name}: chunk ${hex} (${this.bucket.key(chunkKey(hex))})`);
    } catch (err) {
      return { kind: 'damaged', message: (err as Error).message };
    }
    const path = this.store.chunks.chunkPath(hex);
    const prefix = hex.slice(0, 4);
    if (!this.prefixes.has(prefix)) {
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      } catch (err) {
        throw ioError('create the chunk folder', dirname(path), err);
      }
      this.prefixes.add(prefix);
    }
    this.store.chunks.insert(hex, raw);
    this.sound.add(hex);
    this.known?.add(hex, raw.length);
    return { kind: 'ok' };
  }

  pinned(hex: string): boolean {
    return this.metaChunks.has(hex);
  }

  evict(hex: string): void {
    const path = this.store.chunks.chunkPath(hex);
    try {
      unlinkSync(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw ioError('remove cached chunk', path, err);
    }
    this.sound.delete(hex);
  }

  private async get(rel: string, what: string): Promise<Buffer> {
    const raw = await this.bucket.get(rel, this.options.signal);
    if (!raw) throw new CairnError('NOT_FOUND', `remote ${this.bucket.name} lacks ${what} (${rel})`);
    return raw;
  }

  /**
   * Removes the least recently used chunks until the cache is within its bound, and lets the cache go. `trim:
   * false` only lets it go (a browse, which fetches little, need not read every chunk folder each time).
   */
  close(options: { trim?: boolean } = {}): { bytes: number; removed: number } {
    try {
      return options.trim === false ? { bytes: 0, removed: 0 } : this.trim();
    } finally {
      this.lock.release();
    }
  }

  private trim(): { bytes: number; removed: number } {
    const ledger = this.ledger;
    const before = ledger.count;
    ledger.evictTo(
      this.options.maxBytes,
      () => true,
      (hex) => this.evict(hex),
    );
    return { bytes: ledger.bytes, removed: before - ledger.count };
  }
}
