import { closeSync, constants, ftruncateSync, lstatSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { sha256 } from '../chunk-store/digest.js';
import type { Datastore } from '../datastore/datastore.js';
import type { SnapshotReader } from '../datastore/snapshot-reader.js';
import { CairnError, ioError, isCairnError } from '../errors.js';
import { writeAllSync } from '../fs/atomic-write.js';
import type { ChunkIndex } from '../index/index-format.js';
import { assertRestoreTarget } from '../fs/inside-root.js';
import { ownedTmpName, removeDeadProcessTmps } from '../fs/owned-tmp.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop } from '../jobs/rate-meter.js';
import { withLockAsync } from '../locks/with-lock.js';
import { pickImageArchive } from './image-archive.js';
import { startImageTransfer, type ImageTransferProgress } from './image-backup.js';

export interface ImageRestoreOptions {
  archiveName?: string;
  overwrite?: boolean;
  /** With damaged chunks: keep what could be read as `<target>.damaged` (damaged ranges left as zeros). */
  keepDamaged?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ImageTransferProgress) => void;
  progressIntervalMs?: number;
  /** The key of an encrypted snapshot. */
  crypt?: CryptConfig;
}

/** A range of the image that could not be restored: its chunk is damaged or missing. */
export interface DamagedRange {
  start: number;
  end: number;
  chunk: string;
  message: string;
}

export interface ImageRestoreResult {
  /** Where the image went: the target, or `<target>.damaged` (keepDamaged), or nowhere (damaged, not kept). */
  target: string;
  written?: string;
  archive: string;
  size: number;
  chunks: number;
  /** Every damaged range, in order: an image with any is not restored to the target. */
  damaged: DamagedRange[];
}

/**
 * Restores an image archive to a file, byte-identical: every chunk's CRC, digest and length is checked.
 * Written to a sibling tmp file and renamed over the target at the end; runs of zero chunks become holes.
 * The tmp file is named after this process, and a restore removes those that killed restores left beside the
 * target. The snapshot is held against forget and prune meanwhile. A damaged or missing chunk does not stop it:
 * every such range is named, and the image is then not put in place (it would not be the one backed up),
 * unless `keepDamaged` asks for the readable rest as `<target>.damaged`.
 */
export async function restoreImage(
  store: Datastore,
  ref: SnapshotRef,
  target: string,
  options: ImageRestoreOptions = {},
): Promise<ImageRestoreResult> {
  assertRestoreTarget(store.root, target);
  const lock = store.lockSnapshotShared(ref, `restore of ${snapshotPath(ref)}`);
  return withLockAsync(lock, () => writeImage(store, ref, target, options));
}

async function writeImage(
  store: Datastore,
  ref: SnapshotRef,
  target: string,
  options: ImageRestoreOptions,
): Promise<ImageRestoreResult> {
  const reader = store.openSnapshot(ref, { crypt: options.crypt });
  const archive = pickImageArchive(reader.manifest, options.archiveName);
  const index = reader.openIndex(archive);
  const dest = restoreDestination(target, options);
  const folder = dirname(dest);
  removeDeadProcessTmps(folder, (name) => join(folder, name));
  return new ImageRestore(reader, index, archive, dest, options).run();
}

/** The target as an absolute path, refused if it is a symlink, exists without `overwrite`, or is no regular file. */
function restoreDestination(target: string, options: ImageRestoreOptions): string {
  const dest = resolve(target);
  const existing = lstatSync(dest, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink())
    throw new CairnError('PATH_NOT_ALLOWED', `refusing to restore onto ${dest}: it is a symlink`);
  if (existing && !options.overwrite)
    throw new CairnError('ALREADY_EXISTS', `${dest} already exists (pass --overwrite to replace it)`);
  if (existing && !existing.isFile())
    throw new CairnError('INVALID_ARGUMENT', `${dest} exists and is not a regular file`);
  return dest;
}

/**
 * Writes an image archive chunk by chunk into a tmp file beside the target, noting damaged ranges as it goes;
 * at the end the tmp file becomes the target (or `<target>.damaged`), or is removed.
 */
class ImageRestore {
  private readonly tmp: string;
  /** The tmp file while it is open. */
  private fd: number | undefined;
  /** The digest of an all-zero chunk, per length: such chunks are left as holes. */
  private readonly zeroDigests = new Map<number, Buffer>();
  private readonly damaged: DamagedRange[] = [];
  private readonly meter: RateMeter;
  private readonly progress: ImageTransferProgress;
  private readonly report: ReturnType<typeof throttle<ImageTransferProgress>>;

  constructor(
    private readonly snapshot: SnapshotReader,
    private readonly index: ChunkIndex,
    private readonly archive: string,
    private readonly dest: string,
    private readonly options: ImageRestoreOptions,
  ) {
    this.tmp = join(dirname(dest), ownedTmpName());
    ({ progress: this.progress, meter: this.meter, report: this.report } = startImageTransfer(index.size, options));
  }

  /** Restores every chunk, then puts the tmp file in place; on failure or cancel it is removed. */
  async run(): Promise<ImageRestoreResult> {
    const { index, progress } = this;
    try {
      this.fd = openSync(
        this.tmp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
        0o644,
      );
      for (let i = 0; i < index.chunkCount; i++) {
        throwIfCancelled(this.options.signal, 'image restore');
        this.restoreChunk(this.fd, i);
        progress.chunks++;
        progress.bytesDone = index.chunkEnd(i);
        Object.assign(progress, this.meter.sample(progress.bytesDone));
        this.report.push(progress);
        await yieldToEventLoop();
      }
      return this.finish(this.fd);
    } catch (err) {
      this.discard();
      throw err;
    }
  }

  /** Writes chunk `i` at its offset: nothing for an all-zero chunk (a hole), nor for a damaged one (noted). */
  private restoreChunk(fd: number, i: number): void {
    const start = this.index.chunkStart(i);
    const length = this.index.chunkEnd(i) - start;
    const digest = this.index.digest(i);
    if (digest.equals(this.zeroDigest(length))) return;
    const data = this.readOrNote(digest, start, length);
    if (!data) return;
    try {
      writeAllSync(fd, data, start);
    } catch (err) {
      throw ioError('write', this.dest, err);
    }
  }

  private zeroDigest(length: number): Buffer {
    let zero = this.zeroDigests.get(length);
    if (zero === undefined) {
      // Under a key the zero chunk has a keyed digest like any other.
      zero = this.snapshot.crypt ? this.snapshot.crypt.digest(Buffer.alloc(length)) : sha256(Buffer.alloc(length));
      this.zeroDigests.set(length, zero);
    }
    return zero;
  }

  /** A chunk's bytes, or undefined with its range noted if it is damaged or missing (other errors stop the restore). */
  private readOrNote(digest: Buffer, start: number, length: number): Buffer | undefined {
    try {
      return this.snapshot.readChunk(digest, length);
    } catch (err) {
      if (!isCairnError(err, 'CORRUPT') && !isCairnError(err, 'NOT_FOUND')) throw err;
      this.damaged.push({ start, end: start + length, chunk: digest.toString('hex'), message: err.message });
      return undefined;
    }
  }

  /** Sizes and closes the tmp file and puts it where it belongs: the target only if nothing was damaged. */
  private finish(fd: number): ImageRestoreResult {
    const { dest, damaged, index } = this;
    ftruncateSync(fd, index.size);
    closeSync(fd);
    this.fd = undefined;
    this.report.flush(this.progress);
    const written = damaged.length === 0 ? dest : this.options.keepDamaged ? `${dest}.damaged` : undefined;
    if (written) renameSync(this.tmp, written);
    else unlinkSync(this.tmp);
    return { target: dest, written, archive: this.archive, size: index.size, chunks: index.chunkCount, damaged };
  }

  /** After a failure: the tmp file closed and removed, if it was created. */
  private discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    try {
      unlinkSync(this.tmp);
    } catch {
      /* not created */
    }
  }
}
