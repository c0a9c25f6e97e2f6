import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { assertBackupId, snapshotPath, toBackupId, type BackupType, type SnapshotRef } from '../backup/backup-names.js';
import { assertValidChunkSize } from '../chunker/chunker-params.js';
import { openChunkTarget } from '../chunk-store/chunk-target.js';
import type { BackupSession } from '../datastore/backup-session.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, ioError } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
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
    store.assertGroupSource(group, [source], options.allowOtherSource);
    const result = await runImageBackup(store, source, session, archive, chunkSize, {
      ...options,
      signal: anySignal(options.signal, session.signal),
    });
    store.recordGroupSource(group, [source], options.log);
    return result;
  } finally {
    session.release();
  }
}

async function runImageBackup(
  store: Datastore,
  source: string,
  session: BackupSession,
  archive: string,
  chunkSize: number,
  options: ImageBackupOptions,
): Promise<ImageBackupResult> {
  const group = session.group;
  const compress = store.config.compression === 'zstd';

  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (err) {
    throw ioError('open', source, err);
  }
  const writer = (() => {
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new CairnError('INVALID_ARGUMENT', `${source} is not a regular file`);
      return { st, snapshot: store.beginSnapshot(group, { session, log: options.log }) };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  })();
  const { snapshot } = writer;
  const size = writer.st.size;
  const progress: ImageTransferProgress = {
    bytesDone: 0,
    bytesTotal: size,
    chunks: 0,
    newChunks: 0,
    newBytes: 0,
    dedupBytes: 0,
    rate: 0,
    elapsedMs: 0,
  };
  const meter = new RateMeter(size);
  const report = throttle(
    (p: ImageTransferProgress) => options.onProgress?.({ ...p }),
    options.progressIntervalMs ?? 100,
  );
  const target = openChunkTarget(store.chunks, compress, chunkSize, options.workers ?? 2, options.log);
  try {
    const index = snapshot.createFixedIndex(archive, chunkSize);
    const buffer = Buffer.allocUnsafe(chunkSize);
    const inFlight = new Set<Promise<void>>();
    report.flush(progress); // the bar appears at once, before the first chunk is stored
    for (let offset = 0; offset < size; offset += chunkSize) {
      throwIfCancelled(options.signal, 'image backup');
      const want = Math.min(chunkSize, size - offset);
      let got: number;
      try {
        got = readFullySync(fd, buffer, want, offset);
      } catch (err) {
        throw ioError('read', source, err);
      }
      if (got !== want)
        throw new CairnError('IO', `${source} shrank during the backup (read ${offset + got} of ${size} bytes)`);
      const at = offset;
      // The fixed index takes digests in any order, so chunks may finish out of order.
      const done = Promise.resolve(target.put(buffer.subarray(0, got))).then((stored) => {
        index.set(at, got, stored.digest);
        progress.chunks++;
        progress.bytesDone += got;
        Object.assign(progress, meter.sample(progress.bytesDone));
        progress.newChunks = target.counters.newChunks;
        progress.newBytes = target.counters.newBytes;
        progress.dedupBytes = target.counters.dedupBytes;
        // Chunks still in flight after a cancel finish quietly: no progress after the user said stop.
        if (!options.signal?.aborted) report.push(progress);
      });
      inFlight.add(done);
      done
        .finally(() => inFlight.delete(done))
        .catch(() => {
          /* reported through Promise.race below */
        });
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      await yieldToEventLoop();
    }
    await Promise.all(inFlight);
    throwIfCancelled(options.signal, 'image backup');
    snapshot.closeIndex(index);
    snapshot.finish({
      chunk_upload_stats: {
        count: progress.newChunks,
        size: progress.bytesDone - progress.dedupBytes,
        compressed_size: progress.newBytes,
        duplicates: progress.chunks - progress.newChunks,
      },
    });
    Object.assign(progress, meter.sample(progress.bytesDone));
    report.flush(progress);
    return { ...progress, snapshot: snapshot.ref, path: snapshotPath(snapshot.ref), archive };
  } catch (err) {
    snapshot.abort();
    throw err;
  } finally {
    closeSync(fd);
    await target.close();
  }
}
