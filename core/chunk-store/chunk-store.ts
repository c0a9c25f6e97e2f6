import {
  closeSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  type Dirent,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, sep } from 'node:path';
import {
  blobKind,
  checkBlob,
  decodeBlob,
  ENCRYPTED_HEADER_SIZE,
  isEncryptedKind,
  MAX_BLOB_SIZE,
  type BlobKind,
  type BlobPieces,
} from '../blob/data-blob.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { CairnError, errnoCode, ioError, isCairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { isRealDirectory } from '../fs/inside-root.js';
import { makeDirectories } from '../fs/make-directories.js';
import { openRegularFile, readRegularFile, ReadScratch } from '../fs/regular-file.js';
import { storeClock, type StoreClock } from '../fs/store-clock.js';
import { yieldToEventLoop } from '../jobs/rate-meter.js';
import { silentLogger, type Logger } from '../log.js';
import { digestHex, isHexDigest } from './digest.js';

export const PREFIX_DIR_COUNT = 65536;
/** The largest file a chunk can be: the largest payload plus the largest blob header. */
export const MAX_CHUNK_FILE_BYTES = MAX_BLOB_SIZE + ENCRYPTED_HEADER_SIZE;

/** PBS's sync levels (spec 1.2): fsync nothing, every chunk file and its directory, or the filesystem once per backup. */
export type SyncLevel = 'none' | 'file' | 'filesystem';
export const SYNC_LEVELS: readonly SyncLevel[] = ['none', 'file', 'filesystem'];

export interface InsertResult {
  /** The chunk was already there (it was touched, not rewritten). */
  duplicate: boolean;
  /** Encoded bytes written to disk by this insert (0 for a duplicate). */
  written: number;
}

export type ChunkFileKind = 'chunk' | 'bad' | 'tmp' | 'parked';

export interface ChunkFileEntry {
  kind: ChunkFileKind;
  /** The chunk's digest (for tmp and bad files, the digest the name starts with). */
  digest: string;
  name: string;
  path: string;
}

export interface ChunkStoreStats {
  chunks: number;
  bytes: number;
  bad: number;
  tmp: number;
  parked: number;
}

const BAD_NAME = /^[0-9a-f]{64}\.[0-9]\.bad$/;
/** A sweep candidate renamed aside while GC takes its second look (docs/GC.md). */
export const GC_PARKED_SUFFIX = '.gc';
const PARKED_NAME = /^[0-9a-f]{64}\.gc$/;
const TMP_NAME = /^[0-9a-f]{64}\.tmp_/;

/** What a name in a prefix directory is: a chunk, a `.bad` copy, a crash leftover, a parked sweep candidate, or none of ours. */
export function chunkFileKind(name: string): ChunkFileKind | undefined {
  return isHexDigest(name)
    ? 'chunk'
    : BAD_NAME.test(name)
      ? 'bad'
      : TMP_NAME.test(name)
        ? 'tmp'
        : PARKED_NAME.test(name)
          ? 'parked'
          : undefined;
}

export function prefixDirName(i: number): string {
  return i.toString(16).padStart(4, '0');
}

/**
 * The content-addressed chunk store: `.chunks/<first 4 hex>/<64 hex>`, each file a DataBlob (spec 1).
 * All calls are synchronous: a sync stat/utimes costs a few µs where an awaited one costs ~45 µs, and the
 * store is only driven from job threads, never from a UI thread.
 */
export class ChunkStore {
  readonly chunksDir: string;

  /** Stamps come from the store's clock, so that GC can compare them with its cutoff whoever set them (store-clock.ts). */
  readonly clock: StoreClock;

  /** The blobs readChunk reads and decodes (one at a time: every read here is synchronous). */
  private readonly scratch = new ReadScratch();

  private constructor(
    readonly base: string,
    readonly syncLevel: SyncLevel,
    readonly log: Logger,
  ) {
    this.chunksDir = join(base, '.chunks');
    this.clock = storeClock(base);
  }

  /**
   * Creates `.chunks` and all 65536 prefix directories; resumes a creation that was interrupted. With
   * `prefixDirs: false` only `.chunks`: its user makes a prefix folder before the first chunk goes into it
   * (a remote's cache, where 65,536 folders cost seconds to make and to list).
   */
  static async create(
    base: string,
    options: {
      syncLevel?: SyncLevel;
      log?: Logger;
      onProgress?: (done: number, total: number) => void;
      signal?: AbortSignal;
      prefixDirs?: boolean;
    } = {},
  ): Promise<ChunkStore> {
    const store = new ChunkStore(base, options.syncLevel ?? 'filesystem', options.log ?? silentLogger);
    try {
      makeDirectories(store.chunksDir, 0o750);
      for (let i = 0; i < (options.prefixDirs === false ? 0 : PREFIX_DIR_COUNT); i++) {
        try {
          mkdirSync(join(store.chunksDir, prefixDirName(i)), { mode: 0o750 });
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
        }
        if ((i & 1023) === 1023) {
          options.onProgress?.(i + 1, PREFIX_DIR_COUNT);
          if (options.signal?.aborted) throw new CairnError('CANCELLED', 'datastore creation cancelled');
          await yieldToEventLoop();
        }
      }
    } catch (err) {
      if (err instanceof CairnError) throw err;
      throw ioError('create chunk directories in', store.chunksDir, err);
    }
    return store;
  }

  static open(base: string, options: { syncLevel?: SyncLevel; log?: Logger } = {}): ChunkStore {
    const store = new ChunkStore(base, options.syncLevel ?? 'filesystem', options.log ?? silentLogger);
    let isDir = false;
    try {
      isDir = statSync(store.chunksDir).isDirectory();
    } catch {
      /* reported below */
    }
    if (!isDir) throw new CairnError('NOT_A_DATASTORE', `${base} is not a datastore: it has no .chunks directory`);
    return store;
  }

  chunkPath(digest: Uint8Array | string): string {
    const hex = digestHex(digest);
    // Not join(): chunksDir is already normal, and normalizing per chunk was a fifth of touching one.
    return `${this.chunksDir}${sep}${hex.slice(0, 4)}${sep}${hex}`;
  }

  /**
   * Marks a chunk as in use: sets its timestamps to now by the store's clock, then checks the file is still
   * there. Returns false if it is not. Both atime and mtime are set, so the mark survives filesystems that
   * keep only one of them (FAT keeps no access time); GC reads mtime.
   *
   * The stat after the touch is half of the cross-process GC protocol (docs/GC.md): the sweep renames a
   * candidate away, re-reads its stamp and only then deletes it. If our stat still finds the file, the
   * sweep's rename came after our touch, so its second look sees the fresh stamp and puts the chunk back.
   */
  touch(digest: Uint8Array | string): boolean {
    const path = this.chunkPath(digest);
    const now = this.clock.now() / 1000; // seconds, as utimes takes them (a Date costs a conversion per call)
    try {
      // lutimes: a symlink planted in the store gets its own stamp changed, never its target's.
      lutimesSync(path, now, now);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw ioError('touch chunk', path, err);
    }
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.isFile() && st.size > 0;
  }

  /**
   * The writer's fast path, for a chunk whose data it has in hand (`length` bytes): if a sound copy is present,
   * touch it and return true, so the caller can skip compressing and writing it; otherwise the caller writes
   * it. Sound means a regular file whose blob header and CRC check out (a sequential read, no decoding): a
   * copy damaged on disk (a flipped bit, a truncation) is moved aside as `.bad` and written anew, so no new
   * snapshot starts out referring to damage.
   */
  markIfPresent(digest: Uint8Array | string, length?: number, log: Logger = this.log): boolean {
    const path = this.chunkPath(digest);
    let raw: Buffer;
    try {
      raw = this.readRaw(digest, length);
    } catch (err) {
      // Missing, or not a regular file (insert moves that aside): either way the caller writes the chunk.
      if (isCairnError(err, 'NOT_FOUND') || isCairnError(err, 'CORRUPT')) return false;
      throw err;
    }
    if (raw.length === 0) return false;
    try {
      checkBlob(raw, `chunk ${path}`);
    } catch (err) {
      const moved = this.renameCorrupt(digest);
      log.warn(
        `${(err as Error).message}; moved it aside${moved ? ` to ${moved.split(sep).at(-1)}` : ''} and wrote the chunk anew`,
      );
      return false;
    }
    return this.touch(digest);
  }

  exists(digest: Uint8Array | string): boolean {
    return lstatSync(this.chunkPath(digest), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  /** Inserts an encoded chunk unless an acceptable copy exists (the size rules of spec 1.2). */
  insert(digest: Uint8Array | string, blob: Uint8Array | BlobPieces): InsertResult {
    const path = this.chunkPath(digest);
    // Either way the blob's header, its kind, comes first.
    const pieces = blob instanceof Uint8Array ? [blob] : [blob.header, blob.payload];
    const kind = blobKind(pieces[0]!);
    if (!kind) throw new CairnError('INVALID_ARGUMENT', `refusing to insert chunk ${digestHex(digest)}: not a blob`);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st && !st.isFile()) {
      // Not ours (a planted symlink or FIFO, a folder): moved aside like a damaged chunk, never followed.
      const moved = this.renameCorrupt(digest);
      this.log.warn(
        `chunk ${path} was not a regular file; moved it aside${moved ? ` to ${moved.split(sep).at(-1)}` : ''} and wrote the chunk anew`,
      );
    } else if (st) {
      if (st.size === blob.length || (st.size > 0 && this.keepExisting(path, st.size, blob.length, kind))) {
        if (this.touch(digest)) return { duplicate: true, written: 0 };
        // Swept between our stat and touch: write it anew.
      } else if (st.size === 0) {
        this.log.warn(`chunk ${path} has size 0; overwriting it`);
      }
    }
    this.writeChunkFile(path, pieces);
    return { duplicate: false, written: blob.length };
  }

  /** Spec 1.2 for sizes that differ: the smaller plain copy wins; an encrypted chunk never replaces a plain one. */
  private keepExisting(path: string, existingSize: number, newSize: number, newKind: BlobKind): boolean {
    if (!isEncryptedKind(newKind)) return existingSize < newSize;
    const head = Buffer.alloc(8);
    const { fd } = openRegularFile(path);
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
    const existingKind = blobKind(head);
    if (existingKind && !isEncryptedKind(existingKind)) {
      throw new CairnError('CORRUPT', `refusing to replace unencrypted chunk ${path} with an encrypted one`);
    }
    if (existingKind === 'encrypted' && newKind === 'encrypted') {
      throw new CairnError(
        'CORRUPT',
        `encrypted chunk ${path} differs in size from a new uncompressed copy; one is invalid`,
      );
    }
    return true;
  }

  private writeChunkFile(path: string, pieces: readonly Uint8Array[]): void {
    writeFileAtomicSync(path, pieces, { fsync: this.syncLevel === 'file', action: 'write chunk' });
  }

  /**
   * The raw encoded blob of a chunk. `length`, the chunk's size as an index gives it, bounds what is read: a
   * blob is never longer than its payload plus a header.
   */
  readRaw(digest: Uint8Array | string, length?: number, scratch?: ReadScratch): Buffer {
    const path = this.chunkPath(digest);
    const maxBytes =
      length === undefined ? MAX_CHUNK_FILE_BYTES : Math.min(MAX_CHUNK_FILE_BYTES, length + ENCRYPTED_HEADER_SIZE);
    try {
      return readRegularFile(path, maxBytes, { scratch });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        // A GC that died between renaming a candidate away and its second look leaves it here until the next GC.
        const parked = readIfExists(`${path}${GC_PARKED_SUFFIX}`, maxBytes, scratch);
        if (parked) return parked;
        throw new CairnError('NOT_FOUND', `chunk ${digestHex(digest)} is missing from the datastore (${path})`);
      }
      if (err instanceof CairnError) throw err;
      throw ioError('read chunk', path, err);
    }
  }

  /**
   * Reads a chunk and checks everything: CRC, decoding, digest and (if given) length. `checkDigest: false` leaves
   * out the digest (a SHA-256 of the whole chunk), for a reader that checks every byte against digests of its own
   * (CachedStreamReader's `contentChecked`); the CRC, or an encrypted chunk's GCM tag, is still checked. Where the
   * digest or the tag covers the bytes, the CRC is looked at only when the chunk fails (decodeBlob's crcOnFailure).
   */
  readChunk(
    digest: Uint8Array | string,
    options: { crypt?: CryptConfig; length?: number; checkDigest?: boolean } = {},
  ): Buffer {
    const hex = digestHex(digest);
    // decodeBlob always returns new bytes, so the blob is read into the reused buffer.
    return decodeBlob(this.readRaw(hex, options.length, this.scratch), {
      digest: options.checkDigest === false ? undefined : Buffer.from(hex, 'hex'),
      crypt: options.crypt,
      length: options.length,
      what: `chunk ${hex}`,
      crcOnFailure: true,
    });
  }

  /**
   * Moves a corrupt chunk aside as `<hex>.<N>.bad` (spec 9.2): N is the first free 0..9, and 9 is reused.
   * The next backup that produces this chunk then writes it anew. Returns the new path, or undefined if the
   * chunk was already gone (or its prefix folder is a symlink, which is never followed).
   */
  renameCorrupt(digest: Uint8Array | string): string | undefined {
    const path = this.chunkPath(digest);
    // A prefix folder that is a symlink leads outside the store: nothing there is Cairn's to move.
    if (!isRealDirectory(dirname(path))) return undefined;
    let n = 0;
    while (n < 9 && lstatSync(`${path}.${n}.bad`, { throwIfNoEntry: false })) n++;
    const bad = `${path}.${n}.bad`;
    try {
      renameSync(path, bad);
      return bad;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw ioError('move aside corrupt chunk', path, err);
    }
  }

  /** Every regular file in the chunk directories that is a chunk, a `.bad` copy or a crash leftover, prefix by prefix. */
  *iterate(options: { onPrefix?: (done: number) => void } = {}): Generator<ChunkFileEntry> {
    for (let i = 0; i < PREFIX_DIR_COUNT; i++) {
      const dir = join(this.chunksDir, prefixDirName(i));
      let dirents: Dirent[];
      try {
        dirents = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw ioError('list chunk directory', dir, err);
      }
      for (const dirent of dirents) {
        // Only regular files are chunks: a folder or symlink with a chunk's name is not one.
        if (!dirent.isFile()) continue;
        const name = dirent.name;
        const kind = chunkFileKind(name);
        if (kind) yield { kind, digest: name.slice(0, 64), name, path: join(dir, name) };
      }
      options.onPrefix?.(i + 1);
    }
  }

  stats(): ChunkStoreStats {
    const stats: ChunkStoreStats = { chunks: 0, bytes: 0, bad: 0, tmp: 0, parked: 0 };
    for (const entry of this.iterate()) {
      if (entry.kind === 'chunk') {
        const st = lstatSync(entry.path, { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        stats.chunks++;
        stats.bytes += st.size;
      } else {
        stats[entry.kind]++;
      }
    }
    return stats;
  }

  /** The 'filesystem' sync level: flush the whole filesystem once, before a backup counts as finished. */
  syncFilesystem(): void {
    if (this.syncLevel !== 'filesystem') return;
    try {
      if (process.platform === 'linux') execFileSync('sync', ['-f', this.base], { stdio: 'ignore' });
      else if (process.platform === 'darwin') execFileSync('sync', [], { stdio: 'ignore' });
      // Windows has no syncfs; stores there should use the 'file' level (documented in docs/FORMAT.md).
    } catch (err) {
      throw ioError('sync the filesystem of', this.base, err);
    }
  }
}

function readIfExists(path: string, maxBytes: number, scratch?: ReadScratch): Buffer | undefined {
  try {
    return readRegularFile(path, maxBytes, { scratch });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
