import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import {
  EntryKind,
  META_ARCHIVE,
  type ArchiveEntry,
  type DirectoryEntry,
  type FileEntry,
} from '../archive/archive-format.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { formatBackupTime, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { decodeManifest, MANIFEST_NAME } from '../backup/manifest.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { checkBlob } from '../blob/data-blob.js';
import { CONFIG_FILE } from '../datastore/datastore-config.js';
import { Datastore } from '../datastore/datastore.js';
import type { SnapshotReader } from '../datastore/snapshot-reader.js';
import { CairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { ChunkIndex } from '../index/index-format.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { acquireExclusiveLock, type HeldLock } from '../locks/process-lock.js';
import type { Bucket } from './bucket.js';
import { chunkKey, snapshotPrefix } from './bucket-layout.js';
import { assertMatchesManifest } from './manifest-check.js';
import { TransferPool } from './transfer-pool.js';

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
 * fetched before it runs (the metadata stream for a listing, a file's chunks for cat, a selection's for a
 * restore), each checked as a pull checks it, and read back through the ordinary readers, which check it again.
 * Afterwards the oldest chunks are removed until the cache is within its bound. One process uses a cache at a time.
 */
export class RemoteCache {
  private constructor(
    readonly store: Datastore,
    private readonly bucket: Bucket,
    private readonly lock: HeldLock,
    private readonly options: RemoteCacheOptions & { maxBytes: number },
  ) {}

  static async open(bucket: Bucket, options: RemoteCacheOptions = {}): Promise<RemoteCache> {
    const r = bucket.remote;
    const id = createHash('sha256').update(`${r.endpoint}\n${r.bucket}\n${r.prefix}`).digest('hex').slice(0, 16);
    const root = join(cairnCacheDir(), 'remotes', `${r.name}-${id}`);
    mkdirSync(root, { recursive: true });
    const lock = acquireExclusiveLock(root, 'remote-cache', `reading the remote ${r.name}`, undefined, {
      waitMs: options.waitMs ?? 10_000,
    });
    try {
      // The store in a folder of its own: Datastore.create wants it empty, and the lock lives beside it.
      const storeRoot = join(root, 'store');
      const store = existsSync(join(storeRoot, CONFIG_FILE))
        ? Datastore.open(storeRoot)
        : await Datastore.create(storeRoot, {
            syncLevel: 'none',
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
    mkdirSync(dir, { recursive: true });
    for (const file of manifest.files) {
      const body = await this.get(`${prefix}${file.filename}`, `${file.filename} of ${snapshotPath(ref)}`);
      assertMatchesManifest(body, file, `remote ${this.bucket.name}: ${prefix}${file.filename}`);
      writeFileAtomicSync(join(dir, file.filename), body);
    }
    writeFileAtomicSync(join(dir, MANIFEST_NAME), raw);
  }

  /**
   * A folder snapshot ready to list and browse: every chunk of its metadata stream is fetched first (the reader
   * reads its trailer at once), a small part of the snapshot; file contents come with fetchFiles.
   */
  async folder(ref: SnapshotRef, crypt?: CryptConfig): Promise<FolderArchiveReader> {
    const snapshot = await this.snapshot(ref, crypt);
    if (!FolderArchiveReader.hasFolderArchive(snapshot.manifest.files.map((f) => f.filename)))
      throw new CairnError('INVALID_ARGUMENT', `${snapshot.path} on ${this.bucket.name} is not a folder backup`);
    const meta = snapshot.openIndex(META_ARCHIVE);
    await this.fetchRange(meta, 0, meta.size);
    return new FolderArchiveReader(snapshot);
  }

  /** The chunks holding these files' contents. */
  async fetchFiles(folder: FolderArchiveReader, files: readonly FileEntry[]): Promise<void> {
    for (const f of files)
      if (f.size > 0) await this.fetchRange(folder.dataIndex, f.payloadOffset, f.payloadOffset + f.size);
  }

  /** The files at and below `entry` (a folder's whole subtree, or one file). */
  filesBelow(folder: FolderArchiveReader, entry: ArchiveEntry): FileEntry[] {
    if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink) return [entry];
    if (entry.kind !== EntryKind.Directory) return [];
    return folder.readDirectory(entry as DirectoryEntry).flatMap((child) => this.filesBelow(folder, child));
  }

  private async fetchRange(index: ChunkIndex, start: number, end: number): Promise<void> {
    if (start >= end) return;
    const pool = new TransferPool(8);
    for (let i = index.chunkAt(start); i < index.chunkCount && index.chunkStart(i) < end; i++) {
      const digest = index.digest(i);
      const length = index.chunkEnd(i) - index.chunkStart(i);
      if (this.store.chunks.markIfPresent(digest, length)) {
        this.options.onFetched?.(length);
        continue;
      }
      throwIfCancelled(this.options.signal, 'reading the remote');
      await pool.add(async () => {
        await this.fetchChunk(digest.toString('hex'));
        this.options.onFetched?.(length);
      });
    }
    await pool.drain();
  }

  /** A chunk checked as a pull checks it (its content is checked again when it is read). */
  private async fetchChunk(hex: string): Promise<void> {
    const raw = await this.get(chunkKey(hex), `chunk ${hex}`);
    checkBlob(raw, `remote ${this.bucket.name}: chunk ${hex}`);
    this.store.chunks.insert(hex, raw);
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
    const chunks: { path: string; size: number; used: number }[] = [];
    const base = join(this.store.root, '.chunks');
    for (const prefix of readdirSync(base)) {
      for (const name of readdirSync(join(base, prefix))) {
        const path = join(base, prefix, name);
        const st = statSync(path);
        chunks.push({ path, size: st.size, used: st.mtimeMs });
      }
    }
    let bytes = chunks.reduce((n, c) => n + c.size, 0);
    let removed = 0;
    for (const c of chunks.sort((a, b) => a.used - b.used)) {
      if (bytes <= this.options.maxBytes) break;
      unlinkSync(c.path);
      bytes -= c.size;
      removed++;
    }
    return { bytes, removed };
  }
}
