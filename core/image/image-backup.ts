import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { assertBackupId, snapshotPath, toBackupId, type BackupType, type SnapshotRef } from '../backup/backup-names.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { assertValidChunkSize } from '../chunker/chunker-params.js';
import { openChunkTarget } from '../chunk-store/chunk-target.js';
import type { ChunkTarget } from '../chunk-store/chunk-writer-pool.js';
import type { BackupSession } from '../datastore/backup-session.js';
import type { SnapshotWriter } from '../datastore/snapshot-writer.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, ioError } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import type { FixedIndexWriter } from '../index/fixed-index.js';
import type { Logger } from '../log.js';
import { imageArchiveName } from './image-archive.js';

export interface ImageTransferProgress extends RateSample {
  bytesDone: number;
  bytesTotal: number;
  chunks: number;
  /** Chunks and encoded bytes that were new to the store. */
  newChunks: number;
  newBytes: number;
  /** Logical bytes whose chunk was already in the store. */
  dedupBytes: number;
}

/** What a backup or a restore of an image starts with: zero counters, a rate meter, and its throttled report. */
export function startImageTransfer(
  bytesTotal: number,
  options: { onProgress?: (progress: ImageTransferProgress) => void; progressIntervalMs?: number },
): { progress: ImageTransferProgress; meter: RateMeter; report: ReturnType<typeof throttle<ImageTransferProgress>> } {
  return {
    progress: { bytesDone: 0, bytesTotal, chunks: 0, newChunks: 0, newBytes: 0, dedupBytes: 0, rate: 0, elapsedMs: 0 },
    meter: new RateMeter(bytesTotal),
    report: throttle((p: ImageTransferProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 100),
  };
}

export interface ImageBackupOptions {
  id?: string;
  type?: BackupType;
  archiveName?: string;
  /** Back up into a group that records another source (the image moved); else that is refused. */
  allowOtherSource?: boolean;
  chunkSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ImageTransferProgress) => void;
  progressIntervalMs?: number;
  /** Worker threads that hash, compress and store chunks (0: the job's own thread). */
  workers?: number;
  /** Warnings (a damaged chunk copy moved aside and written anew). */
  log?: Logger;
  /** Encrypt the snapshot with this key. */
  crypt?: CryptConfig;
  /** With `crypt`: the key RSA-encrypted for the master key's holder (crypto/master-key.ts). */
  masterKeyBlob?: Buffer;
}

/** Chunks being stored at once (each holds a chunk-sized buffer). */
const MAX_IN_FLIGHT = 6;

export interface ImageBackupResult extends ImageTransferProgress {
  snapshot: SnapshotRef;
  path: string;
  archive: string;
}

/** Reads exactly `length` bytes at `position`, or fewer only at end of file. */
export function readFullySync(fd: number, buffer: Buffer, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buffer, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Backs up one large file (a disk image) as `<name>.img.fidx`: equal chunks, each hashed and, unless the
 * store has it already, compressed and inserted. The manifest is written last; any failure or cancel
 * removes the snapshot, leaving the chunks for GC.
 */
export async function backupImage(
  store: Datastore,
  file: string,
  options: ImageBackupOptions = {},
): Promise<ImageBackupResult> {
  const source = resolve(file);
  const chunkSize = options.chunkSize ?? store.config.chunkSize;
  assertValidChunkSize(chunkSize);
  const id = options.id !== undefined ? assertBackupId(options.id) : toBackupId(basename(source, extname(source)));
  if (!id) throw new CairnError('INVALID_NAME', `cannot derive a backup id from ${source}; pass one with --id`);
  const archive = imageArchiveName(source, options.archiveName);
  const group = { type: options.type ?? 'host', id };
  const session = store.startBackup(group);
  try {
    store.assertGroupEncryption(group, options.crypt);
    store.assertGroupSource(group, [source], options.allowOtherSource, options.crypt);
    const result = await runImageBackup(store, source, session, archive, chunkSize, {
      ...options,
      signal: anySignal(options.signal, session.signal),
    });
    store.recordGroupSource(group, [source], options.log, options.crypt);
    return result;
  } finally {
    session.release();
  }
}

/**
 * Opens the image, begins its snapshot and runs an ImageBackup over it. Until the snapshot has begun, a
 * failure only closes the file; afterwards it removes the snapshot too.
 */
async function runImageBackup(
  store: Datastore,
  source: string,
  session: BackupSession,
  archive: string,
  chunkSize: number,
  options: ImageBackupOptions,
): Promise<ImageBackupResult> {
  const fd = openImage(source);
  let size: number;
  let snapshot: SnapshotWriter;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CairnError('INVALID_ARGUMENT', `${source} is not a regular file`);
    size = st.size;
    snapshot = store.beginSnapshot(session.group, {
      session,
      log: options.log,
      crypt: options.crypt,
      masterKeyBlob: options.masterKeyBlob,
    });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let backup: ImageBackup | undefined;
  try {
    // Inside the try: a chunk target that cannot start (no worker thread) still closes the image and the snapshot.
    backup = new ImageBackup(store, { source, fd, size, snapshot, archive, chunkSize, options });
    return await backup.run();
  } catch (err) {
    snapshot.abort();
    throw err;
  } finally {
    closeSync(fd);
    await backup?.close();
  }
}

/**
 * Writes one image into a snapshot begun by the caller, as `archive`, leaving the snapshot open (a plan's
 * images share its snapshot: core/image/image-set.ts); the transfer's figures. The caller aborts the snapshot
 * on a failure.
 */
export async function writeImageArchive(
  store: Datastore,
  snapshot: SnapshotWriter,
  file: string,
  archive: string,
  options: ImageBackupOptions = {},
): Promise<ImageTransferProgress> {
  const source = resolve(file);
  const chunkSize = options.chunkSize ?? store.config.chunkSize;
  assertValidChunkSize(chunkSize);
  const fd = openImage(source);
  let backup: ImageBackup | undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CairnError('INVALID_ARGUMENT', `${source} is not a regular file`);
    backup = new ImageBackup(store, { source, fd, size: st.size, snapshot, archive, chunkSize, options });
    await backup.writeIndex();
    return { ...backup.progress };
  } finally {
    closeSync(fd);
    await backup?.close();
  }
}

/**
 * The image opened for reading. Non-blocking, so that a FIFO (or another file that waits for a writer) named as
 * the image does not hang the backup with its locks held: the caller's fstat then refuses what is not a regular
 * file. Reads of a regular file block as ever.
 */
function openImage(source: string): number {
  try {
    return openSync(source, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw ioError('open', source, err);
  }
}

/** What an ImageBackup is given: the open image, its snapshot, and the job's options. */
interface ImageBackupJob {
  readonly source: string;
  readonly fd: number;
  readonly size: number;
  readonly snapshot: SnapshotWriter;
  readonly archive: string;
  readonly chunkSize: number;
  readonly options: ImageBackupOptions;
}

/**
 * Reads an image chunk by chunk into a fixed index, up to MAX_IN_FLIGHT chunks being stored at once; the
 * progress counts a chunk when the store has it, so the figures never run ahead of the store.
 */
class ImageBackup {
  readonly progress: ImageTransferProgress;
  private readonly meter: RateMeter;
  private readonly report: ReturnType<typeof throttle<ImageTransferProgress>>;
  private readonly target: ChunkTarget;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly signal: AbortSignal | undefined;

  constructor(
    store: Datastore,
    private readonly job: ImageBackupJob,
  ) {
    const { options, size, chunkSize } = job;
    this.signal = options.signal;
    ({ progress: this.progress, meter: this.meter, report: this.report } = startImageTransfer(size, options));
    const codec = store.chunkCodec(options.crypt);
    this.target = openChunkTarget(store.chunks, codec, chunkSize, options.workers ?? 2, options.log);
  }

  /** Stores every chunk, then closes the index and finishes the snapshot; the job's result. */
  async run(): Promise<ImageBackupResult> {
    await this.writeIndex();
    return this.finish();
  }

  /** Stores every chunk and closes the index; the snapshot stays open. */
  async writeIndex(): Promise<void> {
    const { snapshot, archive, chunkSize, size } = this.job;
    const index = snapshot.createFixedIndex(archive, chunkSize);
    const buffer = Buffer.allocUnsafe(chunkSize);
    this.report.flush(this.progress); // the bar appears at once, before the first chunk is stored
    for (let offset = 0; offset < size; offset += chunkSize) {
      throwIfCancelled(this.signal, 'image backup');
      const got = this.readChunk(buffer, offset);
      this.store(index, buffer.subarray(0, got), offset);
      while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
      await yieldToEventLoop();
    }
    await Promise.all(this.inFlight);
    throwIfCancelled(this.signal, 'image backup');
    snapshot.closeIndex(index);
  }

  close(): Promise<void> {
    return this.target.close();
  }

  /** Reads the chunk at `offset` into `buffer`; its length. The image must not shrink meanwhile. */
  private readChunk(buffer: Buffer, offset: number): number {
    const { source, fd, size, chunkSize } = this.job;
    const want = Math.min(chunkSize, size - offset);
    let got: number;
    try {
      got = readFullySync(fd, buffer, want, offset);
    } catch (err) {
      throw ioError('read', source, err);
    }
    if (got !== want)
      throw new CairnError('IO', `${source} shrank during the backup (read ${offset + got} of ${size} bytes)`);
    return got;
  }

  /** Hands a chunk to the store; once stored, its digest goes into the index and it is counted. */
  private store(index: FixedIndexWriter, chunk: Buffer, at: number): void {
    const { progress, target } = this;
    const got = chunk.length;
    // The fixed index takes digests in any order, so chunks may finish out of order.
    const done = Promise.resolve(target.put(chunk)).then((stored) => {
      index.set(at, got, stored.digest);
      progress.chunks++;
      progress.bytesDone += got;
      Object.assign(progress, this.meter.sample(progress.bytesDone));
      progress.newChunks = target.counters.newChunks;
      progress.newBytes = target.counters.newBytes;
      progress.dedupBytes = target.counters.dedupBytes;
      // Chunks still in flight after a cancel finish quietly: no progress after the user said stop.
      if (!this.signal?.aborted) this.report.push(progress);
    });
    const { inFlight } = this;
    inFlight.add(done);
    done
      .finally(() => inFlight.delete(done))
      .catch(() => {
        /* reported through Promise.race in run */
      });
  }

  /** Finishes the snapshot with the job's upload figures; the result, after a last progress event. */
  private finish(): ImageBackupResult {
    const { snapshot, archive } = this.job;
    const { progress } = this;
    snapshot.finish({
      chunk_upload_stats: {
        count: progress.newChunks,
        size: progress.bytesDone - progress.dedupBytes,
        compressed_size: progress.newBytes,
        duplicates: progress.chunks - progress.newChunks,
      },
    });
    Object.assign(progress, this.meter.sample(progress.bytesDone));
    this.report.flush(progress);
    return { ...progress, snapshot: snapshot.ref, path: snapshotPath(snapshot.ref), archive };
  }
}
