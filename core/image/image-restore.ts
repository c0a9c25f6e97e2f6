import { closeSync, constants, ftruncateSync, lstatSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { sha256 } from '../chunk-store/digest.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, ioError, isCairnError } from '../errors.js';
import { writeAllSync } from '../fs/atomic-write.js';
import { assertRestoreTarget } from '../fs/inside-root.js';
import { ownedTmpName, removeDeadProcessTmps } from '../fs/owned-tmp.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop } from '../jobs/rate-meter.js';
import { pickImageArchive } from './image-archive.js';
import type { ImageTransferProgress } from './image-backup.js';

export interface ImageRestoreOptions {
  archiveName?: string;
  overwrite?: boolean;
  /** With damaged chunks: keep what could be read as `<target>.damaged` (damaged ranges left as zeros). */
  keepDamaged?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ImageTransferProgress) => void;
  progressIntervalMs?: number;
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
  try {
    return await writeImage(store, ref, target, options);
  } finally {
    lock.release();
  }
}

async function writeImage(
  store: Datastore,
  ref: SnapshotRef,
  target: string,
  options: ImageRestoreOptions,
): Promise<ImageRestoreResult> {
  const reader = store.openSnapshot(ref);
  const archive = pickImageArchive(reader.manifest, options.archiveName);
  const index = reader.openIndex(archive);
  const dest = resolve(target);
  const existing = lstatSync(dest, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink())
    throw new CairnError('PATH_NOT_ALLOWED', `refusing to restore onto ${dest}: it is a symlink`);
  if (existing && !options.overwrite)
    throw new CairnError('ALREADY_EXISTS', `${dest} already exists (pass --overwrite to replace it)`);
  if (existing && !existing.isFile())
    throw new CairnError('INVALID_ARGUMENT', `${dest} exists and is not a regular file`);
  const folder = dirname(dest);
  removeDeadProcessTmps(folder, (name) => join(folder, name));

  const tmp = join(folder, ownedTmpName());
  let fd: number | undefined;
  const zeroDigests = new Map<number, string>();
  const damaged: DamagedRange[] = [];
  const meter = new RateMeter(index.size);
  const progress: ImageTransferProgress = {
    bytesDone: 0,
    bytesTotal: index.size,
    chunks: 0,
    newChunks: 0,
    newBytes: 0,
    dedupBytes: 0,
    rate: 0,
    elapsedMs: 0,
  };
  const report = throttle(
    (p: ImageTransferProgress) => options.onProgress?.({ ...p }),
    options.progressIntervalMs ?? 100,
  );
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    for (let i = 0; i < index.chunkCount; i++) {
      throwIfCancelled(options.signal, 'image restore');
      const start = index.chunkStart(i);
      const length = index.chunkEnd(i) - start;
      const digest = index.digest(i).toString('hex');
      let zero = zeroDigests.get(length);
      if (zero === undefined) {
        zero = sha256(Buffer.alloc(length)).toString('hex');
        zeroDigests.set(length, zero);
      }
      const data =
        digest === zero
          ? undefined
          : readOrNote(
              () => reader.chunks.readChunk(digest, { length }),
              { start, end: start + length, chunk: digest },
              damaged,
            );
      if (data) {
        try {
          writeAllSync(fd, data, start);
        } catch (err) {
          throw ioError('write', dest, err);
        }
      }
      progress.chunks++;
      progress.bytesDone = start + length;
      Object.assign(progress, meter.sample(progress.bytesDone));
      report.push(progress);
      await yieldToEventLoop();
    }
    ftruncateSync(fd, index.size);
    closeSync(fd);
    fd = undefined;
    report.flush(progress);
    const written = damaged.length === 0 ? dest : options.keepDamaged ? `${dest}.damaged` : undefined;
    if (written) renameSync(tmp, written);
    else unlinkSync(tmp);
    return { target: dest, written, archive, size: index.size, chunks: index.chunkCount, damaged };
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw err;
  }
}

/** A chunk's bytes, or undefined with its range noted if it is damaged or missing (other errors stop the restore). */
function readOrNote(
  read: () => Buffer,
  range: Omit<DamagedRange, 'message'>,
  damaged: DamagedRange[],
): Buffer | undefined {
  try {
    return read();
  } catch (err) {
    if (!isCairnError(err, 'CORRUPT') && !isCairnError(err, 'NOT_FOUND')) throw err;
    damaged.push({ ...range, message: err.message });
    return undefined;
  }
}
